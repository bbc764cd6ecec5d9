"""fetch-weights against a local HTTP server; torch vs ONNX parity for both backbones."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rollcall_testkit as testkit
from face_model.cli import app

runner = CliRunner()

torch = testkit.require_torch()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    """A small file served by http.server on 127.0.0.1 (stopped afterwards)."""
    root = tmp_path / "www"
    root.mkdir()
    payload = bytes(range(256)) * 40
    (root / "weights.pt").write_bytes(payload)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", payload
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _fetch(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["fetch-weights", *map(str, args)])
    return result.exit_code, result.output


def test_fetch_verifies_sha256(served: tuple[str, bytes], tmp_path: Path) -> None:
    base, payload = served
    digest = hashlib.sha256(payload).hexdigest()
    target = tmp_path / "out" / "w.pt"
    code, output = _fetch(
        "vggface2",
        "--url",
        f"{base}/weights.pt",
        "--sha256",
        digest,
        "--out",
        target,
        "--no-check-load",
    )
    assert code == 0, output
    assert target.read_bytes() == payload and "verified" in output

    bad = "0" * 64
    code, output = _fetch(
        "vggface2", "--url", f"{base}/weights.pt", "--sha256", bad, "--out", tmp_path / "bad.pt"
    )
    assert code == 1 and "does not match" in output and digest in output
    assert not (tmp_path / "bad.pt").exists() and not (tmp_path / "bad.pt.part").exists()


def test_fetch_checks_the_file_loads(served: tuple[str, bytes], tmp_path: Path) -> None:
    base, _ = served
    code, output = _fetch(
        "vggface2", "--url", f"{base}/weights.pt", "--no-verify", "--out", tmp_path / "w.pt"
    )
    assert code == 2 and "cannot read weights file" in output
    assert not (tmp_path / "w.pt").exists()


def test_fetch_errors(served: tuple[str, bytes], tmp_path: Path) -> None:
    base, _ = served
    code, output = _fetch("vggface2", "--url", f"{base}/missing.pt", "--no-verify")
    assert code == 1 and "HTTP 404" in output
    code, output = _fetch("vggface2", "--out", tmp_path / "w.pt")
    assert code == 2 and "no sha256 is pinned" in output
    code, output = _fetch("imagenet")
    assert code == 2 and "unknown weights 'imagenet'" in output
    code, output = _fetch("vggface2", "--sha256", "xyz", "--url", f"{base}/weights.pt")
    assert code == 1 and "64 hex digits" in output
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, output = _fetch(
        "vggface2",
        "--url",
        f"http://127.0.0.1:{port}/w.pt",
        "--no-verify",
        "--timeout",
        "5",
        "--out",
        tmp_path / "w.pt",
    )
    assert code == 3 and "cannot reach" in output


@pytest.mark.slow
@pytest.mark.parametrize("backbone", ["mobilefacenet", "inception-resnet-v1"])
def test_onnx_matches_torch(backbone: str, tmp_path: Path, face_crop: np.ndarray) -> None:
    from face_model.align import crop_box
    from face_model.artifact import check_parity, export_model
    from face_model.backbones import build_backbone, get_spec
    from face_model.embed import OnnxEmbedder, TorchEmbedder
    from face_model.training import new_model

    spec = get_spec(backbone)
    torch.manual_seed(0)
    weights = tmp_path / "random.pt"  # random weights, saved to test loading from a file
    torch.save(build_backbone(backbone).state_dict(), weights)
    model = new_model(backbone, weights)
    crop = crop_box(face_crop, (20, 20, 100, 110), spec.input_size, 0.0)
    model.gallery.add("a", TorchEmbedder(model.net, spec)([crop]), ["a"])
    model.gallery.add("b", TorchEmbedder(model.net, spec)([crop[:, ::-1]]), ["b"])
    model.save(tmp_path / "model")
    report = export_model(tmp_path / "model", tmp_path / "art", allow_untrained=True)
    if backbone == "inception-resnet-v1":
        # random InceptionResnetV1 embeds every face alike: never marked pretrained
        assert report.manifest["pretrained"] is False
    assert report.parity_max_abs_diff < 1e-4
    crops = np.stack([crop, crop[:, ::-1], np.zeros_like(crop)])
    assert check_parity(model, tmp_path / "art" / "embedding.onnx", crops) < 1e-4
    onnx = OnnxEmbedder(tmp_path / "art" / "embedding.onnx", spec, threads=1)(list(crops))
    assert onnx.shape == (3, spec.feature_dim)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
