"""Shared fixtures: a moto server, a fresh stack per test, clips."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import rollcall_testkit as testkit
from cloud_handler import runtime
from rollcall_testkit.clips import astronaut, make_clip
from rollcall_testkit.handler_stack import Stack, make_stack


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """Fresh resources and a handler environment pointing at them (detection-only model)."""
    created = make_stack(moto_endpoint)
    for name in ("ROLLCALL_MODEL_DIR", "ROLLCALL_MODEL_S3_URI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**created.env, "ROLLCALL_THREADS": "1"}.items():
        monkeypatch.setenv(name, value)
    runtime.get_runtime.cache_clear()
    yield created
    runtime.get_runtime.cache_clear()


@pytest.fixture(scope="session")
def clip_bytes() -> Callable[..., bytes]:
    """make_clip, memoised for the session (encoding is the slow part)."""
    cache: dict[tuple[Any, ...], bytes] = {}

    def get(width: int = 640, height: int = 480, **kwargs: Any) -> bytes:
        key = (width, height, *sorted(kwargs.items()))
        if key not in cache:
            cache[key] = make_clip(width, height, **kwargs)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def undecodable(clip_bytes: Callable[..., bytes]) -> bytes:
    """A Matroska video whose codec id names no codec FFmpeg knows (nothing decodes it)."""
    data = clip_bytes(320, 240, faces=0, container="matroska")
    assert data.count(b"V_MPEG4/ISO/AVC") == 1
    return data.replace(b"V_MPEG4/ISO/AVC", b"V_ROLLCALL/NONE")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """The handler's structured (JSON) log lines, parsed, as Powertools formats them."""
    from cloud_handler.handler import logger

    collector = _Collect()
    collector.setFormatter(logger.registered_formatter)
    std = logging.getLogger(logger.service)
    std.addHandler(collector)
    try:
        yield collector.lines
    finally:
        std.removeHandler(collector)


def _export(people: dict[str, list[Path]], out: Path) -> Path:
    """Enroll ``people`` with the default recognizer (dlib's ResNet) and export it."""
    from face_model.artifact import export_model
    from face_model.training import build_model

    build_model(people, out=out / "model")
    export_model(out / "model", out / "artifact")
    return out / "artifact"


@pytest.fixture(scope="session")
def astronaut_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eileen Collins enrolled from skimage's astronaut photo (self-contained)."""
    root = tmp_path_factory.mktemp("astronaut")
    photo = root / "astronaut.png"
    Image.fromarray(astronaut()).save(photo)
    return _export({"eileen_collins": [photo]}, root)


@pytest.fixture(scope="session")
def cse546_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 8 CSE 546 people enrolled from their gallery/ frames (../shared)."""
    gallery = testkit.shared_data("cse546-videos", "gallery")
    people = {d.name: sorted(d.glob("*.jpg")) for d in sorted(gallery.iterdir()) if d.is_dir()}
    return _export(people, tmp_path_factory.mktemp("cse546"))
