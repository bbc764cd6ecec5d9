"""The built-in ONNX networks, converted on first need from weights inside installed wheels.

Each detector's networks (listed by its :mod:`face_model.detectors` entry; MTCNN's come from
the facenet-pytorch wheel, MIT) and dlib's face-recognition ResNet from
``face-recognition-models`` (public domain). Neither is downloaded: each is
converted with numpy + onnx (no torch, no dlib) into a cache directory, and its sha256 is
recorded beside it and checked on every load. A source file that changed (a package
upgrade) makes the graph be rebuilt.

Cache directory: ``ROLLCALL_MODEL_CACHE``, else ``$XDG_CACHE_HOME/rollcall/models``, else
``~/.cache/rollcall/models``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from face_model.errors import FaceModelError, ModelCacheError
from face_model.weights import sha256_file

if TYPE_CHECKING:
    import onnx

log = logging.getLogger(__name__)

CONVERTER_VERSION = 1
"""Bumped when a converter changes what it writes: cached graphs are then rebuilt."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuiltinModel:
    """One network that face-model converts from an installed wheel's weights."""

    name: str
    description: str
    package: str
    licence: str
    locate: Callable[[], Path]
    convert: Callable[[Path], onnx.ModelProto]


@dataclass(frozen=True)
class CachedModel:
    """A converted network in the cache and what its record says."""

    name: str
    path: Path
    sha256: str
    source: str
    source_sha256: str
    source_size: int
    source_mtime_ns: int
    built_at: str


def cache_dir() -> Path:
    """Where converted networks live (see the module docstring)."""
    from face_model.settings import load_settings

    explicit = load_settings().model_cache
    if explicit is not None:
        return explicit.expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "rollcall" / "models"


def _dlib_resnet() -> BuiltinModel:
    def locate() -> Path:
        from face_model.dlib_resnet import dlib_model_file

        return dlib_model_file()

    def convert(source: Path) -> onnx.ModelProto:
        from face_model.dlib_resnet import convert as convert_dat

        return convert_dat(source)

    return BuiltinModel(
        name="dlib-resnet-v1",
        description="dlib face-recognition ResNet (128-d descriptors)",
        package="face-recognition-models",
        licence="public domain",
        locate=locate,
        convert=convert,
    )


def _builtin_models() -> dict[str, BuiltinModel]:
    from face_model.detectors import DETECTORS

    found = [m for kind in DETECTORS.values() for m in kind.builtin_models()]
    return {m.name: m for m in (*found, _dlib_resnet())}


BUILTIN: dict[str, BuiltinModel] = _builtin_models()


def _converter_stamp() -> str:
    """What the written bytes depend on besides the source: our converters and onnx."""
    from importlib.metadata import version

    return f"face-model-converter/{CONVERTER_VERSION} onnx/{version('onnx')}"


def _builtin(name: str) -> BuiltinModel:
    try:
        return BUILTIN[name]
    except KeyError:
        raise ModelCacheError(
            f"unknown built-in network {name!r}; choose one of: {', '.join(BUILTIN)}"
        ) from None


def _record_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.json"


def read_record(name: str, directory: Path | None = None) -> CachedModel | None:
    """The cache record of ``name`` (None when it was never built or the record is unreadable)."""
    directory = directory or cache_dir()
    try:
        raw = json.loads(_record_path(directory, name).read_text())
        if raw.get("converter") != _converter_stamp():
            return None  # another converter or onnx version wrote it: rebuild
        return CachedModel(
            name=name,
            path=directory / raw["file"],
            sha256=str(raw["sha256"]),
            source=str(raw["source"]),
            source_sha256=str(raw["source_sha256"]),
            source_size=int(raw["source_size"]),
            source_mtime_ns=int(raw["source_mtime_ns"]),
            built_at=str(raw["built_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One builder at a time per cache directory (several worker processes start at once)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fresh(record: CachedModel | None, source: Path) -> bool:
    """True when the record's file exists and was built from this very source file."""
    if record is None or not record.path.is_file() or record.source != str(source):
        return False
    stat = source.stat()
    if (stat.st_size, stat.st_mtime_ns) == (record.source_size, record.source_mtime_ns):
        return True
    return sha256_file(source) == record.source_sha256


def _write_atomic(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temp.replace(path)


def build(
    name: str,
    *,
    directory: Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> CachedModel:
    """Convert ``name`` into the cache (unless an up-to-date copy is there); its record."""
    model = _builtin(name)
    directory = directory or cache_dir()
    try:
        source = model.locate()
    except (FaceModelError, ModuleNotFoundError) as exc:
        raise ModelCacheError(
            f"{name}: cannot find its weights in the {model.package!r} package ({exc}); "
            "install face-model with its dependencies"
        ) from None
    with _locked(directory):
        record = read_record(name, directory)
        if not force and _fresh(record, source):
            assert record is not None
            return record
        (progress or log.info)(f"building {name} ({model.description}) from {source.name}")
        start = time.perf_counter()
        try:
            data = model.convert(source).SerializeToString()
        except ModelCacheError:
            raise
        except Exception as exc:
            raise ModelCacheError(f"{name}: converting {source} failed: {exc}") from exc
        path = directory / f"{name}.onnx"
        _write_atomic(path, data)
        stat = source.stat()
        record = CachedModel(
            name=name,
            path=path,
            sha256=sha256_file(path),
            source=str(source),
            source_sha256=sha256_file(source),
            source_size=stat.st_size,
            source_mtime_ns=stat.st_mtime_ns,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )
        payload = {
            "name": name,
            "file": path.name,
            "sha256": record.sha256,
            "source": record.source,
            "source_sha256": record.source_sha256,
            "source_size": record.source_size,
            "source_mtime_ns": record.source_mtime_ns,
            "package": model.package,
            "licence": model.licence,
            "converter": _converter_stamp(),
            "built_at": record.built_at,
        }
        _write_atomic(
            _record_path(directory, name), (json.dumps(payload, indent=2) + "\n").encode()
        )
        log.info("built %s in %.1f s: %s", name, time.perf_counter() - start, path)
        return record


def verify(name: str, directory: Path | None = None) -> CachedModel:
    """The record of ``name`` after checking its file's sha256; ModelCacheError otherwise."""
    _builtin(name)
    directory = directory or cache_dir()
    record = read_record(name, directory)
    if record is None or not record.path.is_file():
        raise ModelCacheError(f"{name} is not built in {directory}; run `face-model models build`")
    actual = sha256_file(record.path)
    if actual != record.sha256:
        raise ModelCacheError(
            f"{record.path} is corrupt: sha256 {actual[:12]}... != recorded "
            f"{record.sha256[:12]}...; rebuild it with `face-model models build --force`"
        )
    return record


def ensure_record(name: str, *, progress: Progress | None = None) -> CachedModel:
    """The record of ``name`` with its file's sha256 checked, built first when missing or
    out of date, rebuilt when the file does not match its record."""
    record = build(name, progress=progress)
    actual = sha256_file(record.path)
    if actual != record.sha256:
        log.warning("%s failed its sha256 check; rebuilding", record.path)
        record = build(name, force=True, progress=progress)
    return record


def ensure(name: str, *, progress: Progress | None = None) -> Path:
    """The verified ONNX file of ``name``, built first when missing or out of date."""
    return ensure_record(name, progress=progress).path


def ensure_all(names: tuple[str, ...], *, progress: Progress | None = None) -> dict[str, Path]:
    """:func:`ensure` for several networks."""
    return {name: ensure(name, progress=progress) for name in names}


def describe_builtin() -> list[dict[str, Any]]:
    """Each built-in network: where it comes from, its licence, and its cached file if built."""
    rows: list[dict[str, Any]] = []
    for name, model in BUILTIN.items():
        record = read_record(name)
        rows.append(
            {
                "name": name,
                "description": model.description,
                "package": model.package,
                "licence": model.licence,
                "built": record is not None and record.path.is_file(),
                "path": str(record.path) if record else None,
                "sha256": record.sha256 if record else None,
            }
        )
    return rows
