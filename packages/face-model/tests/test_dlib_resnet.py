"""dlib's face-recognition ResNet: dlib serialization, the .dat reader, ONNX conversion and
parity with dlib itself (dlib-bin, a test-only dependency) on real face chips."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import rollcall_testkit as testkit
from face_model.dlib_resnet import (
    DLIB_CHIP_POINTS,
    DLIB_DISTANCE_THRESHOLD,
    INPUT_NAME,
    OPSET,
    OUTPUT_NAME,
    AddPrev,
    Conv,
    DlibReader,
    DlibResNet,
    FullyConnected,
    build_onnx,
    convert,
    dlib_model_file,
    load_network,
    normalise_chips,
    parse_network,
)
from face_model.errors import WeightsError

PARITY = 1e-4
# the astronaut's face in skimage's 512x512 photo, eyes and mouth near DLIB_CHIP_POINTS
ASTRONAUT_BOX = (163, 62, 290, 189)
SHIFT = 5  # pixels: a slightly shifted crop of the same face
FACENET_PEOPLE = ("angelina_jolie", "bradley_cooper", "kate_siegel", "paul_rudd", "shea_whigham")
ORL_IMAGES = ("s1/1.pgm", "s1/2.pgm", "s2/1.pgm", "s3/1.pgm")
# Six people in facenet-reference/multiface.jpg (1200x630), hand-marked in image pixels in
# DLIB_CHIP_POINTS' order (left eye, right eye, nose tip, left and right mouth corners):
# aligned chips as dlib makes them, for its 0.6 threshold. The tight 160x160 crops and the
# ORL photos, merely resized, are not framed like dlib's chips: parity only.
FRIENDS = {
    "rachel": ((247, 293), (281, 286), (270, 310), (255, 327), (290, 320)),
    "chandler": ((452, 174), (487, 177), (472, 202), (453, 215), (480, 217)),
    "ross": ((579, 87), (614, 91), (596, 115), (578, 127), (608, 132)),
    "phoebe": ((640, 237), (674, 237), (662, 257), (642, 270), (672, 272)),
    "monica": ((742, 509), (777, 507), (762, 532), (748, 547), (777, 546)),
    "joey": ((877, 487), (917, 487), (900, 515), (885, 528), (913, 528)),
}


# --- dlib's encoding, written out here independently of the reader ----------------------


def pack_int(value: int) -> bytes:
    """dlib's pack_int: a header byte (byte count | 0x80 if negative), then |value| LE."""
    magnitude = abs(value)
    body = magnitude.to_bytes(max(1, (magnitude.bit_length() + 7) // 8), "little")
    return bytes([len(body) | (0x80 if value < 0 else 0)]) + body


def pack_float(value: float, digits: int = 53) -> bytes:
    """dlib's float_details: int64 mantissa, int16 exponent, low zero bytes shifted off."""
    if math.isinf(value):
        return pack_int(0) + pack_int(32000 if value > 0 else 32001)
    if math.isnan(value):
        return pack_int(0) + pack_int(32002)
    fraction, exponent = math.frexp(value)
    mantissa, exponent = int(fraction * (1 << digits)), exponent - digits
    for _ in range(8):
        if mantissa & 0xFF:
            break
        mantissa >>= 8
        exponent += 8
    return pack_int(mantissa) + pack_int(exponent)


def pack_tensor(array: np.ndarray) -> bytes:
    dims = b"".join(pack_int(d) for d in array.shape)
    return pack_int(2) + dims + np.asarray(array, dtype="<f4").tobytes()


# --- serialization primitives -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"\x01\x00", 0),
        (b"\x01\x05", 5),
        (b"\x01\xff", 255),
        (b"\x02\x00\x01", 256),
        (b"\x81\x01", -1),
        (b"\x82\x2c\x01", -300),
        (b"\x04\xff\xff\xff\x7f", 2**31 - 1),
        (b"\x84\x00\x00\x00\x80", -(2**31)),
        (b"\x08" + b"\xff" * 7 + b"\x7f", 2**63 - 1),
        (b"\x88" + b"\x00" * 7 + b"\x80", -(2**63)),
    ],
)
def test_ints_of_several_widths(raw: bytes, value: int) -> None:
    reader = DlibReader(raw)
    assert reader.read_int() == value
    assert reader.offset == len(raw) and reader.remaining == 0


@given(st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1))
def test_ints_round_trip(value: int) -> None:
    assert DlibReader(pack_int(value)).read_int() == value


def test_bad_ints_are_refused() -> None:
    with pytest.raises(WeightsError, match=r"byte 0: .*2-byte integer"):
        DlibReader(b"\x03\x01\x02\x03").read_int(width=2)  # too wide for an int16
    with pytest.raises(WeightsError, match="negative"):
        DlibReader(b"\x81\x01").read_uint()
    with pytest.raises(WeightsError, match="header byte 0x31"):
        DlibReader(b"\x31\x01").read_int()  # reserved bits set
    with pytest.raises(WeightsError, match="does not fit"):
        DlibReader(b"\x04\x00\x00\x00\x80").read_int(width=4)  # +2**31 in an int32


def test_bools_and_strings() -> None:
    reader = DlibReader(b"10" + pack_int(5) + b"relu_" + pack_int(0))
    assert reader.read_bool() is True
    assert reader.read_bool() is False
    assert reader.peek_string() == "relu_"
    assert reader.read_string() == "relu_"
    assert reader.read_string() == ""
    with pytest.raises(WeightsError, match="byte 0: expected a bool"):
        DlibReader(b"x").read_bool()


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"\x03\x0a\xd7\xa3\x81\x1c", 0.04),  # the file's loss margin
        (b"\x03\x9a\x99\x99\x81\x18", 0.6),  # the file's distance threshold
        (b"\x01\x00\x01\x00", 0.0),
        (b"\x81\x03\x81\x01", -1.5),
        (b"\x01\x01\x01\x64", 2.0**100),
    ],
)
def test_floats(raw: bytes, value: float) -> None:
    assert DlibReader(raw).read_float(single=True) == np.float32(value)


def test_special_floats() -> None:
    reader = DlibReader(pack_float(math.inf) + pack_float(-math.inf) + pack_float(math.nan))
    assert reader.read_float() == math.inf
    assert reader.read_float() == -math.inf
    assert math.isnan(reader.read_float())
    assert math.isnan(DlibReader(pack_int(7) + pack_int(32099)).read_float())
    # finite mantissa, huge exponent: overflows to infinity as C's ldexp does
    assert DlibReader(pack_int(1) + pack_int(31000)).read_float() == math.inf
    assert DlibReader(pack_int(-1) + pack_int(31000)).read_float(single=True) == -math.inf
    with pytest.raises(WeightsError, match="legacy text float"):
        DlibReader(b"1.5 ").read_float()


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_doubles_round_trip(value: float) -> None:
    assert DlibReader(pack_float(value)).read_float() == value


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_singles_round_trip(value: float) -> None:
    assert DlibReader(pack_float(value, digits=24)).read_float(single=True) == value


def test_tensors_and_alias_tensors() -> None:
    data = np.arange(6, dtype=np.float32).reshape(1, 2, 1, 3) - 2.5
    raw = pack_tensor(data) + pack_int(1) + b"".join(pack_int(d) for d in (4, 3, 2, 1))
    reader = DlibReader(raw)
    tensor = reader.read_tensor()
    assert tensor.dtype == np.float32 and tensor.shape == (1, 2, 1, 3)
    np.testing.assert_array_equal(tensor, data)
    assert reader.read_alias_tensor() == (4, 3, 2, 1)
    assert DlibReader(pack_tensor(np.zeros((0, 0, 0, 0)))).read_tensor().size == 0
    with pytest.raises(WeightsError, match="version 2, got 3"):
        DlibReader(pack_int(3) + raw[2:]).read_tensor()


def test_truncation_names_the_offset() -> None:
    with pytest.raises(WeightsError, match=r"byte 2: expected an integer .*only 2 bytes remain"):
        reader = DlibReader(pack_int(5) + b"\x02\x01", source="model.dat")
        reader.read_int()
        reader.read_int()
    with pytest.raises(WeightsError, match=r"model\.dat: byte 2: expected a string"):
        DlibReader(pack_int(9) + b"short", source="model.dat").read_string()
    raw = pack_tensor(np.ones((1, 1, 2, 2)))
    with pytest.raises(WeightsError, match=r"byte 10: expected the 4 float32 values.*truncated"):
        DlibReader(raw[:-1]).read_tensor()
    with pytest.raises(WeightsError, match="file ends here"):
        DlibReader(b"").read_float()


# --- the .dat file -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def dat_path() -> Path:
    return dlib_model_file()


@pytest.fixture(scope="module")
def dat_bytes(dat_path: Path) -> bytes:
    return dat_path.read_bytes()


@pytest.fixture(scope="module")
def network(dat_path: Path) -> DlibResNet:
    return load_network(dat_path)


def test_the_file_is_dlibs_resnet(network: DlibResNet, dat_path: Path) -> None:
    assert dat_path.stat().st_size == 22_466_066
    layers = network.layers
    assert sum(isinstance(layer, Conv) for layer in layers) == 29
    assert sum(isinstance(layer, AddPrev) for layer in layers) == 14
    fc = layers[-1]
    assert isinstance(fc, FullyConnected) and fc.weights.shape == (256, 128) and fc.bias is None
    assert network.input.size == 150
    np.testing.assert_allclose(network.input.means, (122.782, 117.001, 104.298), atol=1e-5)
    assert network.loss.distance_threshold == pytest.approx(DLIB_DISTANCE_THRESHOLD)
    shapes = network.shapes()
    assert shapes[0] == (32, 72, 72) and shapes[-2] == (256, 1, 1) and shapes[-1] == (128, 1, 1)
    # joins that zero-pad: channels (32 -> 64...) and, twice, rows and columns (3 -> 4, 1 -> 2)
    assert (256, 4, 4) in shapes and (256, 2, 2) in shapes
    assert all(np.isfinite(layer.weights).all() for layer in layers if isinstance(layer, Conv))


def test_a_truncated_file_raises(tmp_path: Path, dat_bytes: bytes) -> None:
    for cut in (1, 300, len(dat_bytes) // 2, len(dat_bytes) - 1):
        path = tmp_path / f"cut{cut}.dat"
        path.write_bytes(dat_bytes[:cut])
        with pytest.raises(WeightsError, match=rf"cut{cut}\.dat: byte \d+: .*truncated"):
            load_network(path)


def test_malformed_files_raise(dat_bytes: bytes) -> None:
    with pytest.raises(WeightsError, match=r"byte \d+: expected layer 0's parameters.*'con_9'"):
        parse_network(dat_bytes.replace(b"con_4", b"con_9", 1))
    with pytest.raises(WeightsError, match="3 bytes remain"):
        parse_network(dat_bytes + b"abc")
    red = dat_bytes.index(b"input_rgb_image_sized") + 21  # the red mean: 0xf59062 * 2**-17
    with pytest.raises(WeightsError, match=rf"byte {red - 23}: expected the channel means"):
        parse_network(dat_bytes[:red] + b"\x03\x62\x90\xf6" + dat_bytes[red + 4 :])
    # well-formed, but not dlib's network: the max pool's stride 2 becomes 1
    pool = b"\x01\x0amax_pool_2\x01\x03\x01\x03"
    other = dat_bytes.replace(pool + b"\x01\x02\x01\x02", pool + b"\x01\x01\x01\x01", 1)
    at = dat_bytes.index(pool)
    with pytest.raises(
        WeightsError,
        match=rf"byte {at}: layer 3: expected max_pool<3x3,stride 2> .*found .*stride 1,",
    ):
        parse_network(other)
    with pytest.raises(WeightsError, match="byte 0: expected add_loss_layer version 1"):
        parse_network(b"\x01\x02" + dat_bytes[2:])
    with pytest.raises(WeightsError, match="cannot read"):
        load_network("/nonexistent/model.dat")


def test_missing_model_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(WeightsError, match="face-recognition-models"):
        dlib_model_file()


# --- the ONNX graph ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(network: DlibResNet) -> onnx.ModelProto:
    return build_onnx(network)


def _session(model: onnx.ModelProto, *, optimise: bool = True) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the test machine's 2 cores are shared
    if not optimise:  # no Conv+Mul+Add fusion: the Mul/Add really run
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


@pytest.fixture(scope="module")
def session(model: onnx.ModelProto) -> ort.InferenceSession:
    return _session(model)


def test_graph_is_valid_onnx(model: onnx.ModelProto) -> None:
    onnx.checker.check_model(model, full_check=True)
    assert [o.version for o in model.opset_import] == [OPSET] == [17]
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == INPUT_NAME == "input" and out.name == OUTPUT_NAME == "descriptor"
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert dims == ["N", 3, 150, 150]
    assert [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim] == ["N", 128]
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("Conv") == 29 and "Mul" not in ops  # every affine folded
    # downsampling joins zero-pad channels (32->64, 64->128, 128->256) and rows/columns
    # (3->4 with the channels, 1->2): 5 Pads
    assert ops.count("Pad") == 5


def test_conversion_is_deterministic(dat_path: Path, model: onnx.ModelProto) -> None:
    assert convert(dat_path).SerializeToString() == model.SerializeToString()
    assert convert().SerializeToString() == model.SerializeToString()


def test_normalise_chips() -> None:
    chip = np.full((150, 150, 3), (123, 117, 104), dtype=np.uint8)
    x = normalise_chips(chip)
    assert x.shape == (1, 3, 150, 150) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, 0, 0], np.array([0.218, -0.001, -0.298]) / 256, atol=1e-7)
    with pytest.raises(ValueError, match="150x150x3"):
        normalise_chips(np.zeros((160, 160, 3), np.uint8))


def test_chip_points_are_the_dlib_targets() -> None:
    assert DLIB_CHIP_POINTS == (
        (47.55, 46.60),
        (100.48, 46.60),
        (74.01, 76.56),
        (50.41, 103.02),
        (97.61, 103.02),
    )


# --- parity with dlib on real faces ------------------------------------------------------


def _chip(image: Image.Image) -> np.ndarray:
    rgb = image.convert("RGB").resize((150, 150), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def _aligned_chip(image: Image.Image, points: tuple[tuple[int, int], ...]) -> np.ndarray:
    """The 150x150 chip whose 5 points best fit DLIB_CHIP_POINTS (least-squares similarity,
    as dlib's get_face_chip)."""
    rows, rhs = [], []
    for (xd, yd), (xs, ys) in zip(DLIB_CHIP_POINTS, points, strict=True):
        rows += [[xd, -yd, 1.0, 0.0], [yd, xd, 0.0, 1.0]]  # chip -> image
        rhs += [xs, ys]
    a, b, tx, ty = np.linalg.lstsq(np.array(rows), np.array(rhs, dtype=float), rcond=None)[0]
    chip = image.convert("RGB").transform(
        (150, 150),
        Image.Transform.AFFINE,
        (a, -b, tx, b, a, ty),
        resample=Image.Resampling.BILINEAR,
    )
    return np.ascontiguousarray(np.asarray(chip, dtype=np.uint8))


@pytest.fixture(scope="module")
def astronaut_chips() -> dict[str, np.ndarray]:
    from skimage import data

    photo = Image.fromarray(data.astronaut())
    left, top, right, bottom = ASTRONAUT_BOX
    chip = _chip(photo.crop(ASTRONAUT_BOX))
    shifted = _chip(photo.crop((left + SHIFT, top + SHIFT, right + SHIFT, bottom + SHIFT)))
    return {"astronaut": chip, "mirrored": chip[:, ::-1].copy(), "shifted": shifted}


def _shared_root() -> Path:
    """../shared/data with every file these tests read (skip, or fail under CI, otherwise)."""
    root = testkit.shared_data()
    missing = [p for p in _shared_files(root) if not p.is_file()]
    if missing:
        testkit.unavailable(f"{root} lacks {', '.join(map(str, missing))}")
    return root


def _shared_files(root: Path) -> Iterator[Path]:
    for person in FACENET_PEOPLE:
        yield root / "facenet-reference" / "test_images_aligned" / person / "1.png"
    for name in ORL_IMAGES:
        yield root / "orl-faces" / name
    yield root / "facenet-reference" / "multiface.jpg"


@pytest.fixture(scope="module")
def shared_chips() -> dict[str, np.ndarray]:
    """The facenet and ORL faces resized, then the six multiface.jpg faces aligned."""
    *files, group = _shared_files(_shared_root())
    names = [*FACENET_PEOPLE, *(f"orl-{n.removesuffix('.pgm')}" for n in ORL_IMAGES)]
    chips = {}
    for name, path in zip(names, files, strict=True):
        with Image.open(path) as image:
            chips[name] = _chip(image)
    with Image.open(group) as image:
        chips |= {name: _aligned_chip(image, points) for name, points in FRIENDS.items()}
    return chips


@pytest.fixture(scope="module")
def dlib_descriptor(dat_path: Path):  # type: ignore[no-untyped-def]
    """dlib's own descriptor of one aligned 150x150 RGB chip."""
    import dlib

    net = dlib.face_recognition_model_v1(str(dat_path))
    return lambda chip: np.array(net.compute_face_descriptor(chip), dtype=np.float64)


def _compare(session: ort.InferenceSession, dlib_descriptor, chips: dict[str, np.ndarray]):  # type: ignore[no-untyped-def]
    batch = np.stack(list(chips.values()))
    ours = session.run([OUTPUT_NAME], {INPUT_NAME: normalise_chips(batch)})[0]
    theirs = np.stack([dlib_descriptor(chip) for chip in chips.values()])
    assert ours.shape == (len(chips), 128) and ours.dtype == np.float32
    diff = float(np.abs(ours - theirs).max())
    print(f"\nparity with dlib on {list(chips)}: max |diff| = {diff:.2e}")
    assert diff <= PARITY
    return dict(zip(chips, ours, strict=True))


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a.astype(np.float64) - b))


@pytest.mark.slow
def test_parity_with_dlib_on_the_astronaut(
    session: ort.InferenceSession, dlib_descriptor, astronaut_chips: dict[str, np.ndarray]
) -> None:
    found = _compare(session, dlib_descriptor, astronaut_chips)
    # one face at a time gives the batch's answer
    one = session.run(None, {INPUT_NAME: normalise_chips(astronaut_chips["astronaut"])})[0][0]
    np.testing.assert_allclose(one, found["astronaut"], atol=1e-5)
    # the same face, shifted or mirrored, is the same person by dlib's threshold
    assert _distance(found["astronaut"], found["shifted"]) < DLIB_DISTANCE_THRESHOLD
    assert _distance(found["astronaut"], found["mirrored"]) < DLIB_DISTANCE_THRESHOLD


@pytest.mark.slow
def test_unfolded_affine_graph_agrees(
    network: DlibResNet, session: ort.InferenceSession, astronaut_chips: dict[str, np.ndarray]
) -> None:
    unfolded = build_onnx(network, fold_affine=False)
    assert [n.op_type for n in unfolded.graph.node].count("Mul") == 29
    x = normalise_chips(astronaut_chips["astronaut"])
    a = _session(unfolded, optimise=False).run(None, {INPUT_NAME: x})[0]
    b = session.run(None, {INPUT_NAME: x})[0]
    assert float(np.abs(a - b).max()) <= 1e-5


@pytest.mark.slow
@pytest.mark.shared_data
def test_parity_with_dlib_on_shared_faces(
    session: ort.InferenceSession,
    dlib_descriptor,
    shared_chips: dict[str, np.ndarray],
    astronaut_chips: dict[str, np.ndarray],
) -> None:
    found = _compare(session, dlib_descriptor, shared_chips)
    astronaut = session.run(None, {INPUT_NAME: normalise_chips(astronaut_chips["astronaut"])})
    people = {name: found[name] for name in FRIENDS} | {"astronaut": astronaut[0][0]}
    names = list(people)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            distance = _distance(people[a], people[b])
            assert distance > DLIB_DISTANCE_THRESHOLD, f"{a} vs {b}: {distance:.3f}"


def test_pack_helpers_match_the_real_file(dat_bytes: bytes) -> None:
    """The test's own encoder writes what dlib wrote (the real file's loss layer)."""
    header = pack_int(1) + pack_int(13) + b"loss_metric_2"
    header += pack_float(float(np.float32(0.04)), 24) + pack_float(float(np.float32(0.6)), 24)
    assert dat_bytes.startswith(header)
