"""PyAV decoding from memory: sampling, and every way a clip can be broken."""

from __future__ import annotations

import io
from collections.abc import Callable

import av
import pytest
from PIL import Image

from cloud_handler.decode import sample_frames
from cloud_handler.errors import ClipError
from shared_schema import ErrorCode

LIMITS = {"max_frame_pixels": 4096 * 2304, "max_decode_frames": 1800}


def _code(data: bytes, **kwargs: int) -> ErrorCode:
    with pytest.raises(ClipError) as info:
        sample_frames(data, count=3, **{**LIMITS, **kwargs})
    assert info.value.stage == "decode"
    return info.value.code


def test_samples_spread_over_the_clip(clip_bytes: Callable[..., bytes]) -> None:
    data = clip_bytes(640, 480, faces=1)
    sampled = sample_frames(data, count=3, **LIMITS)
    assert len(sampled.frames) == 3
    assert all(f.shape == (480, 640, 3) and f.dtype.name == "uint8" for f in sampled.frames)
    assert sampled.times_ms == [67, 233, 400]  # centres of three equal thirds of 15 frames
    assert sampled.decoded == 13  # decoding stopped after the last pick
    assert sampled.codec == "h264"
    one = sample_frames(data, count=1, **LIMITS)
    assert one.times_ms == [233]
    many = sample_frames(data, count=40, **LIMITS)
    assert len(many.frames) == 15


def test_unknown_frame_count_uses_bounded_stride(clip_bytes: Callable[..., bytes]) -> None:
    data = clip_bytes(320, 240, faces=0, container="matroska", duration_s=2.0)
    sampled = sample_frames(data, count=3, **LIMITS)
    assert len(sampled.frames) == 3
    assert sampled.decoded == 60
    assert sampled.times_ms == sorted(sampled.times_ms)
    assert sampled.times_ms[-1] - sampled.times_ms[0] >= 900  # spread, not bunched


def test_not_a_video() -> None:
    assert _code(b"hello world, definitely not a video" * 20) is ErrorCode.NOT_A_VIDEO
    png = io.BytesIO()
    Image.new("RGB", (32, 32)).save(png, "PNG")
    assert _code(png.getvalue()) is ErrorCode.NOT_A_VIDEO


def test_truncated_and_corrupt(clip_bytes: Callable[..., bytes]) -> None:
    data = clip_bytes(320, 240, faces=0)
    assert _code(data[: len(data) * 6 // 10]) is ErrorCode.CORRUPT_VIDEO  # moov lost
    fragmented = clip_bytes(320, 240, faces=0, fragmented=True)
    assert _code(fragmented[: len(fragmented) // 3]) is ErrorCode.CORRUPT_VIDEO
    garbled = bytearray(data)
    for i in range(2000, len(garbled) - 2000):
        garbled[i] = (i * 7919) % 251
    assert _code(bytes(garbled)) is ErrorCode.CORRUPT_VIDEO


def test_unsupported_codec(clip_bytes: Callable[..., bytes]) -> None:
    assert _code(clip_bytes(320, 240, faces=0, codec="mpeg4")) is ErrorCode.UNSUPPORTED_CODEC


def test_frame_too_large(clip_bytes: Callable[..., bytes]) -> None:
    data = clip_bytes(640, 480, faces=1)
    assert _code(data, max_frame_pixels=640 * 480 - 1) is ErrorCode.FRAME_TOO_LARGE


def test_no_decodable_frame(clip_bytes: Callable[..., bytes]) -> None:
    """An H.264 track that lost its keyframe: packets, but nothing the decoder can show."""
    source = av.open(io.BytesIO(clip_bytes(320, 240, faces=0)))
    stream = source.streams.video[0]
    out_buffer = io.BytesIO()
    with av.open(out_buffer, "w", format="mp4") as out:
        copy = out.add_stream_from_template(stream)
        for packet in source.demux(stream):
            if packet.dts is None or packet.is_keyframe:
                continue
            packet.stream = copy
            out.mux(packet)
    source.close()
    assert _code(out_buffer.getvalue()) is ErrorCode.NO_DECODABLE_FRAME
