"""Where the handler's full detections are coarse to fine (ROLLCALL_COARSE_DETECTION)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloud_handler.sampling import look


@pytest.mark.parametrize(
    ("coarse", "clip", "first_search_larger"),
    [
        ("videos", True, False),  # the default: rollcall clips keep the exact search
        ("videos", False, True),
        ("all", True, True),
        ("off", False, False),
    ],
)
def test_coarse_detection_setting(
    clip_bytes: Callable[..., bytes],
    monkeypatch: pytest.MonkeyPatch,
    coarse: Any,
    clip: bool,
    first_search_larger: bool,
) -> None:
    from face_model import Recognizer

    recognizer = Recognizer.detection_only(threads=1)
    recognizer.min_face_size = 40
    sizes: list[float] = []
    detect = recognizer.detector.mtcnn.detect

    def spy(frames: Any, min_face_size: float, **kwargs: Any) -> Any:
        sizes.append(min_face_size)
        return detect(frames, min_face_size, **kwargs)

    monkeypatch.setattr(recognizer.detector.mtcnn, "detect", spy)
    looked = look(
        clip_bytes(640, 480, faces=1),
        recognizer,
        clip=clip,
        max_frame_pixels=640 * 480,
        where="test",
        coarse=coarse,
    )
    assert looked.batch.faces  # the astronaut, found either way
    # the first search: faces of at least 48 px (a tenth of 480), or of at least 40
    assert sizes[0] == (48 if first_search_larger else 40)
