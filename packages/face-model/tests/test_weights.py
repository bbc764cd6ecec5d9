"""Backbone architectures and weight loading: strict, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import rollcall_testkit as testkit
from face_model.backbones import build_backbone, get_spec
from face_model.errors import WeightsError
from face_model.weights import load_backbone, read_state_dict

torch = testkit.require_torch()


@pytest.fixture(scope="session")
def random_irv_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight InceptionResnetV1 state dict in a tmp file: tests loading only,
    never recognition (no pretrained InceptionResnetV1 weights exist on this machine)."""
    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("irv") / "random-irv1.pt"
    torch.save(build_backbone("inception-resnet-v1").state_dict(), path)
    return path


def test_mobilefacenet_matches_the_paper() -> None:
    net = build_backbone("mobilefacenet")
    assert sum(p.numel() for p in net.parameters()) == 999_552
    with torch.inference_mode():
        assert net(torch.zeros(2, 3, 112, 96)).shape == (2, 128)
    assert get_spec("mobilefacenet").feature_dim == 256  # flip-concatenated


def test_inception_loads_from_a_local_file(random_irv_weights: Path) -> None:
    net, pretrained = load_backbone("inception-resnet-v1", random_irv_weights)
    assert pretrained  # a file was loaded; export's degenerate-gallery check guards the rest
    with torch.inference_mode():
        assert net(torch.zeros(1, 3, 160, 160)).shape == (1, 512)


@pytest.mark.shared_models
def test_the_casia_checkpoint_loads_strictly(mfn_weights: Path) -> None:
    net, pretrained = load_backbone("mobilefacenet", mfn_weights)
    assert pretrained
    reference = torch.load(mfn_weights, map_location="cpu", weights_only=True)["net_state_dict"]
    for key, value in net.state_dict().items():
        assert torch.equal(value, reference[key]), key


def test_checkpoint_formats_and_prefixes(tmp_path: Path) -> None:
    state = build_backbone("mobilefacenet").state_dict()
    torch.save({"epoch": 3, "net_state_dict": state}, tmp_path / "ckpt.pt")
    torch.save({f"module.{k}": v for k, v in state.items()}, tmp_path / "dp.pt")
    for name in ("ckpt.pt", "dp.pt"):
        assert set(read_state_dict(tmp_path / name)) == set(state)
        load_backbone("mobilefacenet", tmp_path / name)


def test_wrong_weights_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00not a torch file" * 10)
    with pytest.raises(WeightsError, match=r"cannot read weights file .*junk\.pt"):
        load_backbone("mobilefacenet", junk)
    with pytest.raises(WeightsError, match="weights file not found"):
        load_backbone("mobilefacenet", tmp_path / "missing.pt")
    torch.save({"epoch": 1}, tmp_path / "nostate.pt")
    with pytest.raises(WeightsError, match="not a tensor"):
        load_backbone("mobilefacenet", tmp_path / "nostate.pt")


def test_mismatched_checkpoint_keys(tmp_path: Path) -> None:
    state = build_backbone("mobilefacenet").state_dict()
    torch.save(state, tmp_path / "mfn.pt")
    with pytest.raises(WeightsError, match=r"do not fit EmbeddingInceptionResnetV1: missing keys"):
        load_backbone("inception-resnet-v1", tmp_path / "mfn.pt")
    renamed = {k.replace("linear1.", "fc."): v for k, v in state.items()}
    torch.save(renamed, tmp_path / "renamed.pt")
    with pytest.raises(WeightsError, match=r"missing keys: linear1\..*unexpected keys: fc\."):
        load_backbone("mobilefacenet", tmp_path / "renamed.pt")
    state["conv2.conv.weight"] = torch.zeros(256, 128, 1, 1)
    torch.save(state, tmp_path / "shape.pt")
    with pytest.raises(WeightsError, match=r"wrong shapes: conv2\.conv\.weight"):
        load_backbone("mobilefacenet", tmp_path / "shape.pt")


def test_unknown_backbone() -> None:
    with pytest.raises(
        ValueError, match="choose one of: dlib-resnet-v1, inception-resnet-v1, mobilefacenet"
    ):
        get_spec("resnet")
