"""MTCNN on ONNX Runtime: the torch-free weights reader, the graphs and the detector, each
checked against facenet-pytorch (the reference) on random inputs, photos and video frames."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rollcall_testkit as testkit
from face_model.errors import WeightsError
from face_model.mtcnn import (
    MtcnnDetector,
    build_onet,
    build_pnet,
    build_rnet,
    convert_all,
    mtcnn_weight_files,
    read_legacy_state_dict,
)
from face_model.mtcnn.legacy_torch import LEGACY_MAGIC, LEGACY_PROTOCOL

MIN_PROBABILITY = 0.9  # the product keeps faces at or above this


def _shared(sub: str) -> Path:
    return testkit.shared_data(*sub.split("/"))


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mtcnn_onnx")
    convert_all(out)
    return out


@pytest.fixture(scope="module")
def mtcnn(onnx_dir: Path) -> MtcnnDetector:
    return MtcnnDetector.from_dir(onnx_dir, threads=1)


@pytest.fixture(scope="module")
def reference() -> Any:
    """facenet-pytorch's MTCNN, as the parity requirement states it."""
    testkit.require_torch()
    from facenet_pytorch import MTCNN

    return MTCNN(keep_all=True, device="cpu")


def _middle_frame(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        total = stream.frames or sum(1 for packet in container.demux(stream) if packet.size)
        if not stream.frames:
            container.seek(0)
        for i, frame in enumerate(container.decode(stream)):
            if i == total // 2:
                return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
    raise AssertionError(f"{path}: fewer than {total // 2 + 1} frames")


def _image(name: str) -> np.ndarray:
    if name == "astronaut":
        from skimage import data

        return np.ascontiguousarray(data.astronaut())
    if name == "multiface":
        from PIL import Image

        with Image.open(_shared("facenet-reference/multiface.jpg")) as img:
            return np.asarray(img.convert("RGB"))
    if name.startswith("aligned/"):
        from PIL import Image

        sub = f"facenet-reference/test_images_aligned/{name.removeprefix('aligned/')}/1.png"
        with Image.open(_shared(sub)) as img:
            return np.asarray(img.convert("RGB"))
    return _middle_frame(_shared("cse546-videos/videos") / f"{name}.mp4")


VIDEOS = ["test_0", "test_1", "test_2", "test_4", "test_5", "test_6", "test_7", "test_8"]
# tight 160 x 160 crops: candidate boxes overflow the frame, crop the same pixels and tie on
# probability, so they check that ties break as facenet-pytorch breaks them
ALIGNED = ["aligned/bradley_cooper", "aligned/kate_siegel", "aligned/paul_rudd"]


# --- legacy reader --------------------------------------------------------------------------


@pytest.mark.parametrize("net", ["pnet", "rnet", "onet"])
def test_legacy_reader_equals_torch_load(net: str) -> None:
    torch = testkit.require_torch()
    path = mtcnn_weight_files()[net]
    ours = read_legacy_state_dict(path)
    theirs = torch.load(path, map_location="cpu", weights_only=True)
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        expected = value.numpy()
        assert ours[key].dtype == expected.dtype and ours[key].shape == expected.shape, key
        assert np.array_equal(ours[key], expected), key
        assert ours[key].flags.c_contiguous


def _pickles(*objects: object) -> bytes:
    return b"".join(pickle.dumps(o, protocol=2) for o in objects)


_HEADER = (LEGACY_MAGIC, LEGACY_PROTOCOL, {"protocol_version": 1001, "little_endian": True})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda blob: blob[: len(blob) // 2], "truncated"),
        (lambda blob: blob[:-1], "truncated"),
        (lambda blob: blob[:40], "truncated|not a legacy"),
        (lambda blob: _pickles(12345) + blob[15:], "wrong magic"),
        (lambda blob: b"", "truncated"),
        (lambda blob: b"PK\x03\x04" + blob, "zip-format"),
        (lambda blob: blob + b"\0", "unexpected bytes"),
        # a state dict whose pickle names a global outside the allowed few
        (lambda blob: _pickles(*_HEADER) + b"\x80\x02cos\nsystem\nq\x00.", "forbidden global"),
        (
            lambda blob: _pickles(*_HEADER) + b"\x80\x02ctorch\nload\nq\x00.",
            "forbidden global torch.load",
        ),
        (lambda blob: _pickles(*_HEADER, [1, 2]), "not a state dict"),
    ],
    ids=[
        "half",
        "last-byte",
        "header",
        "magic",
        "empty",
        "zip",
        "trailing",
        "os.system",
        "torch.load",
        "list",
    ],
)
def test_legacy_reader_rejects_malformed_files(tmp_path: Path, make: Any, message: str) -> None:
    bad = tmp_path / "pnet.pt"
    bad.write_bytes(make(mtcnn_weight_files()["pnet"].read_bytes()))
    with pytest.raises(WeightsError, match=message) as err:
        read_legacy_state_dict(bad)
    assert str(bad) in str(err.value)


def test_missing_weights_file_is_a_weights_error(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=r"nowhere\.pt"):
        read_legacy_state_dict(tmp_path / "nowhere.pt")


# --- graphs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("net", "shape"),
    [
        ("pnet", (2, 3, 57, 83)),
        ("pnet", (1, 3, 12, 12)),
        ("rnet", (9, 3, 24, 24)),
        ("onet", (5, 3, 48, 48)),
    ],
)
def test_graphs_match_facenet_pytorch(onnx_dir: Path, net: str, shape: tuple[int, ...]) -> None:
    torch = testkit.require_torch()
    import onnxruntime as ort
    from facenet_pytorch.models import mtcnn as fp

    module = {"pnet": fp.PNet, "rnet": fp.RNet, "onet": fp.ONet}[net]().eval()
    x = np.random.default_rng(7).uniform(-1, 1, shape).astype(np.float32)
    session = ort.InferenceSession(
        str(onnx_dir / f"{net}.onnx"), providers=["CPUExecutionProvider"]
    )
    ours = session.run(None, {"input": x})
    with torch.no_grad():
        theirs = module(torch.from_numpy(x))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == tuple(b.shape)
        assert float(np.abs(a - b.numpy()).max()) <= 1e-4


def test_conversion_is_deterministic(tmp_path: Path, onnx_dir: Path) -> None:
    again = convert_all(tmp_path / "again")
    assert sorted(again) == ["onet", "pnet", "rnet"]
    for net, path in again.items():
        assert path.read_bytes() == (onnx_dir / f"{net}.onnx").read_bytes(), net


def test_graph_builders_reject_wrong_state_dicts() -> None:
    state = read_legacy_state_dict(mtcnn_weight_files()["rnet"])
    build_rnet(state)
    with pytest.raises(WeightsError, match=r"pnet: 'conv3\.weight' .* expected a 3x3 kernel"):
        build_pnet(state)
    with pytest.raises(WeightsError, match=r"^onet: "):
        build_onet(state)
    with pytest.raises(WeightsError, match=r"rnet: state dict lacks 'prelu2\.weight'"):
        build_rnet({k: v for k, v in state.items() if k != "prelu2.weight"})
    with pytest.raises(WeightsError, match=r"unexpected state dict entries \['extra\.weight'\]"):
        build_rnet({**state, "extra.weight": np.zeros(3, np.float32)})
    with pytest.raises(WeightsError, match=r"'dense4\.weight' has shape \(128, 575\)"):
        build_rnet({**state, "dense4.weight": state["dense4.weight"][:, 1:]})


# --- detector -------------------------------------------------------------------------------


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def _reference_detect(reference: Any, image: np.ndarray) -> tuple[np.ndarray, ...]:
    boxes, probs, points = reference.detect(image, landmarks=True)
    if boxes is None:
        return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
    return (
        np.asarray(boxes, np.float32),
        np.asarray(probs, np.float32),
        np.asarray(points, np.float32),
    )


def _unmatched(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> list[str]:
    """Faces of ``a`` kept by the product (p >= 0.9) that ``b`` lacks or places differently."""
    problems = []
    iou = _iou(a[0], b[0]) if len(b[0]) else np.zeros((len(a[0]), 0))
    for i in np.flatnonzero(a[1] >= MIN_PROBABILITY):
        if iou.shape[1] == 0 or iou[i].max() < 0.9:
            problems.append(f"box {a[0][i]} p={a[1][i]:.4f}: no box with IoU >= 0.9")
            continue
        j = int(iou[i].argmax())
        landmark_error = float(np.abs(a[2][i] - b[2][j]).max())
        prob_error = abs(float(a[1][i] - b[1][j]))
        if landmark_error > 2 or prob_error > 0.01:
            problems.append(
                f"box {a[0][i]}: landmarks off by {landmark_error:.2f} px, "
                f"probability by {prob_error:.4f}"
            )
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("name", ["astronaut", "multiface", *VIDEOS, *ALIGNED])
def test_detector_matches_facenet_pytorch(mtcnn: MtcnnDetector, reference: Any, name: str) -> None:
    image = _image(name)
    ours = mtcnn.detect([image], 20)[0]
    theirs = _reference_detect(reference, image)
    assert not _unmatched(theirs, ours), "facenet-pytorch's faces, ours differ"
    assert not _unmatched(ours, theirs), "our faces, facenet-pytorch's differ"
    if name == "astronaut":
        assert int((ours[1] >= MIN_PROBABILITY).sum()) == 1


def test_batched_detection_equals_one_frame_at_a_time(mtcnn: MtcnnDetector) -> None:
    from skimage import data

    astronaut = data.astronaut()
    wide = np.zeros((300, 700, 3), np.uint8)
    wide[50:250, 400:600] = astronaut[20:220, 140:340]
    frames = [
        astronaut,
        wide,
        np.full((200, 300, 3), 90, np.uint8),
        astronaut[:, :300],  # a non-contiguous view
        np.zeros((9, 40, 3), np.uint8),
        wide,
        astronaut,
    ]
    together = mtcnn.detect(frames, 20)
    assert [len(r[0]) for r in together] == [1, 1, 0, 1, 0, 1, 1]
    for frame, (boxes, probs, points) in zip(frames, together, strict=True):
        alone = mtcnn.detect([frame], 20)[0]
        np.testing.assert_allclose(boxes, alone[0], atol=1e-3)
        np.testing.assert_allclose(probs, alone[1], atol=1e-5)
        np.testing.assert_allclose(points, alone[2], atol=1e-3)


def test_output_shapes_order_and_empty_cases(mtcnn: MtcnnDetector) -> None:
    from skimage import data

    assert mtcnn.detect([], 20) == []
    astronaut = data.astronaut()
    frames = [
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((11, 11, 3), np.uint8),
        np.full((120, 160, 3), 255, np.uint8),
        astronaut,
    ]
    results = mtcnn.detect(frames, 40)
    for boxes, probs, points in results:
        assert boxes.dtype == probs.dtype == points.dtype == np.float32
        assert boxes.shape == (len(probs), 4) and points.shape == (len(probs), 5, 2)
        assert np.all(np.diff(probs) <= 0)
    assert [len(r[1]) for r in results[:3]] == [0, 0, 0]
    boxes, probs, points = results[3]
    x1, y1, x2, _ = boxes[0]
    assert probs[0] >= 0.99 and 150 < x1 < 200 and 40 < y1 < 90 and 250 < x2 < 290
    left_eye, right_eye, nose, mouth_left, mouth_right = points[0]
    assert left_eye[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


def test_detect_validates_its_inputs(mtcnn: MtcnnDetector) -> None:
    good = np.zeros((40, 40, 3), np.uint8)
    for bad in (good.astype(np.float32), good[:, :, 0], np.zeros((40, 40, 4), np.uint8)):
        with pytest.raises(ValueError, match="frame 1: expected an RGB uint8"):
            mtcnn.detect([good, bad], 20)
    with pytest.raises(ValueError, match="min_face_size"):
        mtcnn.detect([good], 0)
    with pytest.raises(ValueError, match="factor"):
        mtcnn.detect([good], 20, factor=1.0)


def test_detector_reports_missing_or_wrong_onnx_files(tmp_path: Path, onnx_dir: Path) -> None:
    with pytest.raises(WeightsError, match="pnet ONNX file not found"):
        MtcnnDetector.from_dir(tmp_path)
    nets = [onnx_dir / f"{net}.onnx" for net in ("pnet", "rnet", "onet")]
    for wrong in ([nets[0], nets[2], nets[2]], [nets[0], nets[0], nets[2]]):
        with pytest.raises(WeightsError, match="is not an MTCNN rnet"):
            MtcnnDetector(*wrong)
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    with pytest.raises(WeightsError, match=r"cannot load onet ONNX file .*junk"):
        MtcnnDetector(nets[0], nets[1], tmp_path / "junk.onnx")


def test_conversion_and_detection_never_import_torch(tmp_path: Path) -> None:
    script = (
        "import sys, numpy as np\n"
        "from face_model.mtcnn import MtcnnDetector, convert_all\n"
        f"det = MtcnnDetector(*convert_all({str(tmp_path)!r}).values())\n"
        "det.detect([np.zeros((64, 64, 3), np.uint8)], 20)\n"
        "leaked = sorted(m for m in ('torch', 'facenet_pytorch') if m in sys.modules)\n"
        "assert not leaked, leaked\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
