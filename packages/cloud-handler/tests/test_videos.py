"""Any object in the bucket is answered: videos under their own names, in any container or
as raw H.264 (what picamera writes), are recognized as whole videos sampled over their full
length; results carry the key and go to the foreign route."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rollcall_testkit.clips import encode_clip, place_faces
from rollcall_testkit.handler_stack import Stack, body, invoke, s3_event, sqs_event
from shared_schema import ErrorCode, ResultStatus

pytestmark = pytest.mark.slow

FPS, SECONDS, FACE_FROM = 10, 6, 55
"""60 frames; the face shows only in the last half second (frames 55-59)."""


@pytest.fixture(scope="module")
def late_face() -> Callable[[str, str], bytes]:
    """A 6 s, 640x480 video whose only face appears in its last half second."""
    frames = [
        place_faces(640, 480, 1 if i >= FACE_FROM else 0, shift=i) for i in range(FPS * SECONDS)
    ]
    cache: dict[tuple[str, str], bytes] = {}

    def get(container: str, codec: str) -> bytes:
        if (container, codec) not in cache:
            cache[container, codec] = encode_clip(frames, fps=FPS, codec=codec, container=container)
        return cache[container, codec]

    return get


@pytest.mark.parametrize(
    ("key", "container", "codec"),
    [
        ("test_0.mp4", "mp4", "libx264"),
        ("phone/IMG 0042.mov", "mov", "libx264"),
        ("videos/talk.mkv", "matroska", "libx264"),
        ("old/capture.avi", "avi", "mpeg4"),
        ("pi/recording.h264", "h264", "libx264"),
        ("pi/recording.264", "h264", "libx264"),
    ],
)
def test_a_whole_video_is_sampled_to_its_end(
    stack: Stack, late_face: Callable[[str, str], bytes], key: str, container: str, codec: str
) -> None:
    record = stack.put(key, late_face(container, codec))
    assert invoke(sqs_event(body(s3_event(record)))) == {"batchItemFailures": []}
    [delivered] = stack.deliveries()
    assert delivered.attributes == {"route": "foreign"}
    result = delivered.result
    assert (result.clip.key, result.clip.clip, result.clip.bucket) == (key, None, stack.bucket)
    assert result.frames_sampled == 8  # sampling.VIDEO_FRAMES
    assert result.status is ResultStatus.UNKNOWN, result.error  # detection only
    [face] = result.faces
    assert face.frame_time_ms >= FACE_FROM * 1000 // FPS  # found in the last half second


def test_a_rollcall_clip_key_keeps_the_clip_sampling(
    stack: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    """The same kind of bytes under a device key: 3 frames of one moment, device route."""
    from rollcall_testkit.handler_stack import clip_key

    record = stack.put(clip_key(7, device="pi-lab"), clip_bytes(320, 240, faces=1))
    invoke(sqs_event(body(s3_event(record))))
    [delivered] = stack.deliveries()
    assert delivered.attributes == {"route": "device", "device": "pi-lab"}
    assert delivered.result.frames_sampled == 3


@pytest.mark.parametrize(
    ("key", "data", "code"),
    [
        ("notes.txt", b"attendance list, not a video\n" * 20, ErrorCode.NOT_A_VIDEO),
        ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200, ErrorCode.NOT_A_VIDEO),
        ("folder/", b"", ErrorCode.OBJECT_EMPTY),
        ("empty.mp4", b"", ErrorCode.OBJECT_EMPTY),
    ],
)
def test_other_objects_get_an_error_result(
    stack: Stack, key: str, data: bytes, code: ErrorCode
) -> None:
    record = stack.put(key, data)
    assert invoke(sqs_event(body(s3_event(record)))) == {"batchItemFailures": []}
    [delivered] = stack.deliveries()
    assert delivered.attributes == {"route": "foreign"}
    assert delivered.result.clip.key == key
    assert delivered.result.error is not None and delivered.result.error.code is code
