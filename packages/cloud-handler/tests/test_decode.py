"""PyAV decoding from memory: sampling over the full length of any container or raw
stream, and every way a video can be broken."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from cloud_handler.decode import HORIZON_MS, FrameStream, sample_frames
from cloud_handler.errors import ClipError
from rollcall_testkit.clips import encode_clip
from shared_schema import MAX_FRAME_SIDE, BoundingBox, ErrorCode, FaceResult, RecordLookup

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
    # the same pixels as a plain PyAV decode (the container's probe decodes no frame)
    with av.open(io.BytesIO(data)) as container:
        plain = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert all(np.array_equal(a, b) for a, b in zip(many.frames, plain, strict=True))


def test_matroska_without_a_frame_count(clip_bytes: Callable[..., bytes]) -> None:
    data = clip_bytes(320, 240, faces=0, container="matroska", duration_s=2.0)
    sampled = sample_frames(data, count=3, **LIMITS)
    assert sampled.total == 60  # counted by demuxing, without decoding
    assert sampled.times_ms == [333, 1000, 1667]
    assert sampled.decoded < 60


def _numbered(frames: int, *, gop: int, container: str, codec: str = "libx264") -> bytes:
    """160x120 frames whose grey level is (2 x frame number) mod 256, keyframe every ``gop``."""
    images = [np.full((120, 160, 3), (2 * i) % 256, np.uint8) for i in range(frames)]
    return encode_clip(images, fps=10, codec=codec, container=container, gop=gop)


@pytest.mark.parametrize(
    ("container", "codec"),
    [("h264", "libx264"), ("mp4", "libx264"), ("matroska", "libx264"), ("avi", "mpeg4")],
    ids=["raw-h264", "mp4", "mkv", "avi-mpeg4"],
)
def test_long_videos_are_sampled_over_their_full_length(container: str, codec: str) -> None:
    """A 60 s video (600 frames, a keyframe every 30): 8 picks at the centres of 8 equal
    parts, reached by jumping from keyframe to keyframe, not by decoding everything."""
    sampled = sample_frames(
        _numbered(600, gop=30, container=container, codec=codec), count=8, **LIMITS
    )
    wanted = [int((i + 0.5) * 600 / 8) for i in range(8)]  # 37, 112, ... 562
    assert sampled.total == 600
    assert sampled.times_ms == [n * 100 for n in wanted]
    levels = [int(frame[60, 80].mean()) for frame in sampled.frames]
    assert all(abs(level - (2 * n) % 256) <= 3 for level, n in zip(levels, wanted, strict=True))
    assert sampled.decoded <= 8 * 30 + 16  # about one group of pictures per pick
    assert sampled.notes == []


def test_a_lead_moment_first_then_the_rest_one_frame_at_a_time() -> None:
    """A whole video's picks: three over its first 200 ms, then the ends of five equal parts
    of the rest (the last frame last); whoever stops early decodes no further."""
    data = _numbered(60, gop=60, container="mp4")  # 6 s at 10 fps, one group of pictures
    stream = FrameStream(data, count=8, lead=3, lead_ms=200, skip_nonref=True, **LIMITS)
    assert stream.picks == 8
    picks = iter(stream)
    first = [next(picks) for _ in range(3)]
    assert [p.time_ms for p in first] == [0, 100, 200]
    assert all(abs(int(p.frame[60, 80].mean()) - 2 * n) <= 3 for n, p in enumerate(first))
    assert all(p.small is None for p in first)  # no scaled copy asked for
    picks.close()  # e.g. the vote is decided: the container is closed, nothing more decoded
    assert stream.decoded <= 3 + 4  # the picks, and what frame threads had in flight
    whole = FrameStream(data, count=8, lead=3, lead_ms=200, scaled_side=80, **LIMITS)
    picks_ = list(whole)
    assert all(p.small is not None and p.small.shape == (60, 80, 3) for p in picks_)
    times = [p.time_ms for p in picks_]
    assert times == [0, 100, 200, 1300, 2400, 3600, 4700, 5900]
    assert whole.decoded == 60 and whole.notes == []


def test_decoding_stops_at_the_frame_budget() -> None:
    """One group of pictures (no keyframe to jump to): decoding stops after the budget."""
    data = _numbered(300, gop=300, container="h264")
    sampled = sample_frames(data, count=8, max_frame_pixels=10**9, max_decode_frames=100)
    assert sampled.decoded == 100
    assert sampled.times_ms == [1800, 5600, 9300]  # the picks that lie within the budget
    assert "decode budget" in sampled.notes[0]


def test_not_a_video() -> None:
    assert _code(b"hello world, definitely not a video" * 20) is ErrorCode.NOT_A_VIDEO
    # text FFmpeg's tty demuxer would render as "video": not a video container
    assert _code(b"\x1b[31mred\x1b[0m plain ANSI text\n" * 50) is ErrorCode.NOT_A_VIDEO
    for fmt in ("PNG", "JPEG", "GIF"):
        image = io.BytesIO()
        Image.new("RGB", (32, 32)).save(image, fmt)
        assert _code(image.getvalue()) is ErrorCode.NOT_A_VIDEO, fmt


def _garble(data: bytes, start: int, end: int) -> bytes:
    garbled = bytearray(data)
    for i in range(start, end):
        garbled[i] = (i * 7919) % 251
    return bytes(garbled)


def test_truncated_and_corrupt(clip_bytes: Callable[..., bytes]) -> None:
    data = clip_bytes(320, 240, faces=0)
    assert _code(data[: len(data) * 6 // 10]) is ErrorCode.CORRUPT_VIDEO  # moov lost
    fragmented = clip_bytes(320, 240, faces=0, fragmented=True)
    assert _code(fragmented[: len(fragmented) // 3]) is ErrorCode.CORRUPT_VIDEO
    # every coded picture garbled (the mdat box, up to the moov at the end)
    mdat, moov = data.index(b"mdat") + 4, data.index(b"moov") - 4
    assert _code(_garble(data, mdat, moov)) is ErrorCode.CORRUPT_VIDEO
    # the keyframe intact, what follows garbled: processed from what decodes, with a note
    with av.open(io.BytesIO(data)) as container:
        keyframe = next(container.demux(video=0)).size
    sampled = sample_frames(_garble(data, mdat + keyframe + 64, moov), count=3, **LIMITS)
    assert sampled.frames and sampled.bad_packets > 0
    assert "undecodable packets skipped" in sampled.notes[0]


def test_any_codec_ffmpeg_decodes_but_not_others(
    clip_bytes: Callable[..., bytes], undecodable: bytes
) -> None:
    mpeg4 = sample_frames(clip_bytes(320, 240, faces=0, codec="mpeg4"), count=3, **LIMITS)
    assert mpeg4.codec == "mpeg4" and len(mpeg4.frames) == 3
    assert _code(undecodable) is ErrorCode.UNSUPPORTED_CODEC


def test_frame_too_large(clip_bytes: Callable[..., bytes]) -> None:
    data = clip_bytes(640, 480, faces=1)
    assert _code(data, max_frame_pixels=640 * 480 - 1) is ErrorCode.FRAME_TOO_LARGE
    # few pixels, but wider than a result's box can describe
    wide = encode_clip(
        [np.zeros((8, MAX_FRAME_SIDE + 16, 3), np.uint8)] * 2, codec="ffv1", container="matroska"
    )
    assert _code(wide, max_frame_pixels=10**9) is ErrorCode.FRAME_TOO_LARGE
    BoundingBox(x1=0, y1=0, x2=MAX_FRAME_SIDE, y2=MAX_FRAME_SIDE)  # the schema's bound
    with pytest.raises(ValueError, match="less than or equal"):
        BoundingBox(x1=0, y1=0, x2=MAX_FRAME_SIDE + 1, y2=1)


def test_a_video_longer_than_an_hour_is_sampled_over_its_first_hour() -> None:
    """12 frames, one every 10 minutes (2 hours): the picks stop at 60 minutes, the latest
    frame time a result holds."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="matroska") as out:
        stream = out.add_stream("libx264", rate=Fraction(1, 600))
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(12):
            image = np.full((120, 160, 3), i * 20, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    sampled = sample_frames(buffer.getvalue(), count=8, **LIMITS)
    assert sampled.total == 12
    assert sampled.times_ms == [0, 600_000, 1_200_000, 1_800_000, 2_400_000, 3_000_000, 3_600_000]
    assert max(sampled.times_ms) == HORIZON_MS
    assert sampled.notes == ["sampled over its first 60 minutes only"]
    box = BoundingBox(x1=0, y1=0, x2=1, y2=1)
    face = {"identity": None, "similarity": 0.0, "box": box, "lookup": RecordLookup.NOT_APPLICABLE}
    FaceResult(frame_time_ms=HORIZON_MS, **face)  # the schema's bound
    with pytest.raises(ValueError, match="less than or equal"):
        FaceResult(frame_time_ms=HORIZON_MS + 1, **face)


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
