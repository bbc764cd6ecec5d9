"""The cache of built-in networks: built once from the installed wheels, recorded with
sha256, verified, rebuilt when out of date or corrupt, one builder at a time."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from face_model import model_cache
from face_model.errors import ModelCacheError


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROLLCALL_MODEL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ROLLCALL_MODEL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert model_cache.cache_dir() == tmp_path / "xdg" / "rollcall" / "models"
    monkeypatch.setenv("ROLLCALL_MODEL_CACHE", str(tmp_path / "mine"))
    assert model_cache.cache_dir() == tmp_path / "mine"


def test_built_once_then_reused(cache: Path) -> None:
    lines: list[str] = []
    path = model_cache.ensure("mtcnn-pnet", progress=lines.append)
    assert path == cache / "mtcnn-pnet.onnx" and len(lines) == 1 and "building" in lines[0]
    record = json.loads((cache / "mtcnn-pnet.json").read_text())
    assert record["package"] == "facenet-pytorch" and record["licence"] == "MIT"
    assert len(record["sha256"]) == 64 and len(record["source_sha256"]) == 64
    built = path.stat().st_mtime_ns
    assert model_cache.ensure("mtcnn-pnet", progress=lines.append) == path
    assert len(lines) == 1 and path.stat().st_mtime_ns == built  # no second build


def test_a_corrupt_file_is_rebuilt(cache: Path) -> None:
    path = model_cache.ensure("mtcnn-rnet")
    good = path.read_bytes()
    path.write_bytes(good[:-3] + b"xyz")
    with pytest.raises(ModelCacheError, match="corrupt"):
        model_cache.verify("mtcnn-rnet")
    assert model_cache.ensure("mtcnn-rnet").read_bytes() == good  # deterministic conversion


def test_another_converter_or_onnx_version_rebuilds(cache: Path) -> None:
    model_cache.ensure("mtcnn-onet")
    record = cache / "mtcnn-onet.json"
    data = json.loads(record.read_text())
    record.write_text(json.dumps({**data, "converter": "face-model-converter/0 onnx/0"}))
    assert model_cache.read_record("mtcnn-onet") is None
    lines: list[str] = []
    model_cache.ensure("mtcnn-onet", progress=lines.append)
    assert len(lines) == 1


def test_concurrent_builders_build_once(cache: Path) -> None:
    lines: list[str] = []
    threads = [
        threading.Thread(
            target=model_cache.ensure, args=("mtcnn-pnet",), kwargs={"progress": lines.append}
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lines) == 1


def test_unknown_names_and_missing_packages(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelCacheError, match="unknown built-in network 'nope'"):
        model_cache.ensure("nope")

    def missing() -> Path:
        raise ModuleNotFoundError("No module named 'face_recognition_models'")

    broken = model_cache.BuiltinModel(
        "dlib-resnet-v1", "x", "face-recognition-models", "public domain", missing,
        model_cache.BUILTIN["dlib-resnet-v1"].convert,
    )  # fmt: skip
    monkeypatch.setitem(model_cache.BUILTIN, "dlib-resnet-v1", broken)
    with pytest.raises(ModelCacheError, match="face-recognition-models"):
        model_cache.ensure("dlib-resnet-v1")
