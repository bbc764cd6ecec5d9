"""Read torch's legacy (non-zip) state dicts, e.g. facenet-pytorch's MTCNN weights, without torch.

The format is a run of pickles: a magic number, a protocol version, a system-info dict, the
state dict (tensors pickled as ``torch._utils._rebuild_tensor_v2`` calls over storages named
by persistent ids ``('storage', type, key, location, numel[, None])``) and the list of storage
keys; then, for each key in that order, an int64 element count and the storage's raw
little-endian bytes. Only the few globals such a file needs are resolved, to local
stand-ins: nothing in the file is ever executed.
"""

from __future__ import annotations

import collections
import importlib.util
import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from face_model.errors import WeightsError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
MTCNN_NETS = ("pnet", "rnet", "onet")

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Storage:
    """Stand-in for a ``torch.*Storage`` class: only its element type matters."""

    dtype: ClassVar[np.dtype[Any]]


_STORAGE_TYPES: dict[str, type[_Storage]] = {
    name: type(name, (_Storage,), {"dtype": np.dtype(dtype)})
    for name, dtype in _STORAGE_DTYPES.items()
}


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: np.dtype[Any]
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage: Any, offset: Any, size: Any, stride: Any, *_: Any) -> _TensorRef:
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: records where the tensor lives."""
    if not isinstance(storage, _StorageRef):
        raise pickle.UnpicklingError(f"tensor over {type(storage).__name__}, not a storage")
    if not (
        isinstance(offset, int)
        and isinstance(size, tuple)
        and isinstance(stride, tuple)
        and len(size) == len(stride)
        and all(isinstance(v, int) and v >= 0 for v in (offset, *size, *stride))
    ):
        raise pickle.UnpicklingError(f"bad tensor geometry {offset!r} {size!r} {stride!r}")
    return _TensorRef(storage, offset, size, stride)


_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    **{("torch", name): cls for name, cls in _STORAGE_TYPES.items()},
}


class _Unpickler(pickle.Unpickler):
    """Resolves only :data:`_GLOBALS`; storages become :class:`_StorageRef`."""

    def __init__(self, file: io.BytesIO, storages: dict[str, _StorageRef]) -> None:
        super().__init__(file)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _GLOBALS[module, name]
        except KeyError:
            raise pickle.UnpicklingError(f"forbidden global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> _StorageRef:
        # ('storage', type, key, location, numel[, view_metadata]); views are not supported
        if not (
            isinstance(pid, tuple)
            and len(pid) in {5, 6}
            and pid[0] == "storage"
            and (len(pid) == 5 or pid[5] is None)
        ):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, storage_type, key, _location, numel = pid[:5]
        if not (isinstance(storage_type, type) and issubclass(storage_type, _Storage)):
            raise pickle.UnpicklingError(f"storage {key!r} has no storage type")
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"bad storage id {pid!r}")
        ref = _StorageRef(key, storage_type.dtype, numel)
        if self._storages.setdefault(key, ref) != ref:
            raise pickle.UnpicklingError(f"storage {key!r} declared twice, differently")
        return ref


def _materialize(ref: _TensorRef, data: dict[str, np.ndarray]) -> np.ndarray:
    flat = data[ref.storage.key]
    if 0 in ref.size:
        return np.zeros(ref.size, flat.dtype)
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride, strict=True))
    if last >= flat.size:
        raise pickle.UnpicklingError(
            f"tensor {ref.size} at offset {ref.offset} overruns storage of {flat.size}"
        )
    view = np.lib.stride_tricks.as_strided(
        flat[ref.offset :],
        shape=ref.size,
        strides=tuple(s * flat.itemsize for s in ref.stride),
        writeable=False,
    )
    return np.ascontiguousarray(view)


def _read_storages(
    f: io.BytesIO, keys: Any, storages: dict[str, _StorageRef]
) -> dict[str, np.ndarray]:
    if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(storages):
        raise pickle.UnpicklingError("storage key list does not match the storages used")
    data: dict[str, np.ndarray] = {}
    for key in keys:
        ref = storages[key]
        count = f.read(8)
        if len(count) != 8:
            raise EOFError(f"truncated before storage {key!r}")
        numel = int.from_bytes(count, "little", signed=True)
        if numel != ref.numel:
            raise pickle.UnpicklingError(
                f"storage {key!r} holds {numel} elements, {ref.numel} declared"
            )
        raw = f.read(numel * ref.dtype.itemsize)
        if len(raw) != numel * ref.dtype.itemsize:
            raise EOFError(f"truncated in storage {key!r}")
        data[key] = np.frombuffer(raw, ref.dtype.newbyteorder("<")).astype(ref.dtype)
    if f.read(1):
        raise pickle.UnpicklingError("unexpected bytes after the last storage")
    return data


def _parse(blob: bytes) -> dict[str, np.ndarray]:
    if blob.startswith(b"PK\x03\x04"):
        raise pickle.UnpicklingError("a zip-format torch file, not the legacy format")
    f = io.BytesIO(blob)
    storages: dict[str, _StorageRef] = {}
    if _Unpickler(f, storages).load() != LEGACY_MAGIC:
        raise pickle.UnpicklingError("wrong magic number: not a legacy torch file")
    if (version := _Unpickler(f, storages).load()) != LEGACY_PROTOCOL:
        raise pickle.UnpicklingError(f"unsupported protocol version {version!r}")
    info = _Unpickler(f, storages).load()
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise pickle.UnpicklingError(f"not a little-endian file (system info {info!r})")
    obj = _Unpickler(f, storages).load()
    if not isinstance(obj, dict) or not all(
        isinstance(k, str) and isinstance(v, _TensorRef) for k, v in obj.items()
    ):
        raise pickle.UnpicklingError("the object is not a state dict of named tensors")
    data = _read_storages(f, _Unpickler(f, storages).load(), storages)
    return {name: _materialize(ref, data) for name, ref in obj.items()}


def read_legacy_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a legacy-format torch state dict, as numpy arrays, in file order."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"cannot read weights file {path}: {exc}") from exc
    try:
        return _parse(blob)
    except EOFError as exc:
        raise WeightsError(f"weights file {path} is truncated ({exc or 'end of file'})") from exc
    except (pickle.UnpicklingError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise WeightsError(f"weights file {path} is not a legacy torch state dict: {exc}") from exc


def mtcnn_weight_files() -> dict[str, Path]:
    """facenet-pytorch's shipped ``pnet.pt``/``rnet.pt``/``onet.pt``, found without importing it.

    (Importing ``facenet_pytorch`` imports torch.)
    """
    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            "facenet-pytorch is not installed: it ships MTCNN's weights (pip install "
            "facenet-pytorch==2.5.3; torch is not needed)"
        )
    for location in spec.submodule_search_locations:
        files = {net: Path(location) / "data" / f"{net}.pt" for net in MTCNN_NETS}
        if all(p.is_file() for p in files.values()):
            return files
    raise WeightsError(
        f"facenet-pytorch at {list(spec.submodule_search_locations)} lacks data/pnet.pt, "
        "rnet.pt or onet.pt"
    )
