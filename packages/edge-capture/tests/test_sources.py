"""Sources: the test pattern, video files (resampled, looped), errors for missing devices."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from edge_capture.encoder import EncoderSettings, encode_clip
from edge_capture.errors import SourceError, UnreachableError
from edge_capture.sources import FileSource, SourceSpec, SyntheticSource, open_source


def _take(source: object, n: int) -> list:
    out = []
    for frame in source.frames():  # type: ignore[attr-defined]
        out.append(frame)
        if len(out) >= n:
            break
    return out


@pytest.fixture(scope="module")
def video_30fps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s, 30 fps, 320x240 H.264 file."""
    path = tmp_path_factory.mktemp("video") / "input.mp4"
    pattern = SyntheticSource(SourceSpec("test", 320, 240, 30, fast=True), threading.Event())
    encode_clip(path, [pattern.frame_at(i) for i in range(30)], EncoderSettings(fps=30))
    return path


def test_synthetic_source_size_and_motion() -> None:
    source = open_source(SourceSpec("test", 64, 48, 15, fast=True), threading.Event())
    frames = _take(source, 3)
    assert [f.image.shape for f in frames] == [(48, 64, 3)] * 3
    assert (frames[0].image != frames[1].image).any()
    assert frames[0].wall <= frames[1].wall <= frames[2].wall


def test_file_is_resampled_and_scaled(video_30fps: Path) -> None:
    spec = SourceSpec(str(video_30fps), 640, 480, 15, fast=True)
    frames = list(open_source(spec, threading.Event()).frames())
    assert isinstance(open_source(spec, threading.Event()), FileSource)
    assert len(frames) == 15  # 1 s of video at 15 fps
    assert frames[0].image.shape == (480, 640, 3)


def test_file_loops(video_30fps: Path) -> None:
    spec = SourceSpec(str(video_30fps), 320, 240, 15, fast=True, loop=True)
    assert len(_take(open_source(spec, threading.Event()), 40)) == 40


def test_stop_ends_a_real_time_source() -> None:
    stop = threading.Event()
    stop.set()
    source = open_source(SourceSpec("test", 64, 48, 15), stop)
    assert list(source.frames()) == []


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no such file"):
        open_source(SourceSpec(str(tmp_path / "nope.mp4"), 64, 48, 15), threading.Event())


def test_not_a_video(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video")
    with pytest.raises(SourceError, match="not a readable video"):
        open_source(SourceSpec(str(bogus), 64, 48, 15), threading.Event())


def test_missing_webcam() -> None:
    with pytest.raises(SourceError, match="no such device"):
        open_source(SourceSpec("/dev/video97", 64, 48, 15), threading.Event())


def test_unreachable_network_camera() -> None:
    with pytest.raises(UnreachableError, match="cannot be opened"):
        open_source(SourceSpec("rtsp://127.0.0.1:9/stream", 64, 48, 15), threading.Event())


def test_picamera_needs_the_pi_extra() -> None:
    try:
        import picamera2  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        with pytest.raises(SourceError, match="picamera2 is not installed"):
            open_source(SourceSpec("picamera", 64, 48, 15), threading.Event())
    else:  # pragma: no cover - on a Pi
        pytest.skip("picamera2 is installed here")


def test_network_source_over_http(video_30fps: Path) -> None:
    """An http:// source goes through PyAV's network path (live semantics: paced, not replayed)."""
    import functools
    import http.server

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

    handler = functools.partial(Quiet, directory=str(video_30fps.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{video_30fps.name}"
        source = open_source(SourceSpec(url, 160, 120, 15), threading.Event())
        try:
            frames = list(source.frames())
        finally:
            source.close()
    finally:
        server.shutdown()
        server.server_close()
    assert frames, "no frame came through the network source"
    assert frames[0].image.shape == (120, 160, 3)
