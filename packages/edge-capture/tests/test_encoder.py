"""Real H.264 encode/decode with PyAV: every clip decodes alone and starts on a keyframe."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest

from edge_capture.encoder import ClipWriter, EncoderSettings, encode_clip
from edge_capture.sources import SourceSpec, SyntheticSource


def _frames(width: int, height: int, count: int, start: int = 0) -> list[np.ndarray]:
    source = SyntheticSource(SourceSpec("test", width, height, 15, fast=True), threading.Event())
    return [source.frame_at(start + i) for i in range(count)]


@pytest.mark.parametrize(
    ("width", "height", "fps", "count"), [(640, 480, 15, 8), (320, 240, 12.5, 6)]
)
def test_each_clip_decodes_alone(
    tmp_path: Path, width: int, height: int, fps: float, count: int
) -> None:
    settings = EncoderSettings(fps=fps)
    paths = []
    for index in range(3):  # consecutive clips of one stream of frames
        path = tmp_path / f"clip{index}.mp4"
        assert encode_clip(path, _frames(width, height, count, index * count), settings) == count
        paths.append(path)
    for path in paths:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert container.format.name.startswith("mov,mp4")
            rate = float(stream.average_rate)
            frames = list(container.decode(stream))
        assert len(frames) == count
        assert frames[0].key_frame
        with av.open(str(path)) as container:
            packets = [p for p in container.demux(video=0) if p.size]
        assert packets[0].is_keyframe, "the first packet must be a keyframe (IDR)"
        assert {(f.width, f.height) for f in frames} == {(width, height)}
        assert rate == pytest.approx(fps, rel=0.01)


def test_content_survives_encoding(tmp_path: Path) -> None:
    original = _frames(320, 240, 4)
    path = tmp_path / "clip.mp4"
    encode_clip(path, original, EncoderSettings(fps=15, crf=18))
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    for before, after in zip(original, decoded, strict=True):
        error = np.abs(before.astype(int) - after.astype(int)).mean()
        assert error < 8, f"mean abs error {error:.1f}: the clip is not the frames we encoded"


def test_writer_refuses_a_frame_of_the_wrong_size(tmp_path: Path) -> None:
    writer = ClipWriter(tmp_path / "clip.mp4", 320, 240, EncoderSettings())
    with pytest.raises(ValueError, match="expected"):
        writer.add(np.zeros((480, 640, 3), np.uint8))
    writer.abort()


def test_settings_map_to_x264_options() -> None:
    assert EncoderSettings().options() == {
        "preset": "ultrafast",
        "crf": "23",
        "tune": "zerolatency",
    }
    assert "tune" not in EncoderSettings(preset="medium", tune=None).options()
