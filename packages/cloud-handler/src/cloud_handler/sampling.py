"""Which frames of an object are looked at, and when to stop: decoding and recognition
interleaved, one frame at a time.

A rollcall clip (one moment) gives :data:`CLIP_FRAMES` frames spread over it. Any other
object is a whole video: :data:`CLIP_FRAMES` frames over its first :data:`LEAD_MS` come
first (a moment, as cheap as a clip), then up to :data:`VIDEO_FRAMES` in all spread over the
rest - unless the vote is decided after the first moment (the same people, each named, in
every frame so far; after 2 frames already where each is named with a similarity well above
the threshold), where decoding stops. Faces are detected in full on few frames and
followed into the others (face-model's ``FaceTracker``). Only the frame in hand is held.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from cloud_handler.decode import FrameStream
from cloud_handler.errors import Stage

if TYPE_CHECKING:
    from face_model import Recognizer
    from face_model.results import RecognitionBatch

Clock = Callable[[], float]
Coarse = Literal["videos", "all", "off"]

CLIP_FRAMES = 3
"""Frames sampled from a rollcall clip (one moment), and from a whole video's first moment."""
VIDEO_FRAMES = 8
"""At most this many frames sampled from any other video (a whole upload)."""
LEAD_MS = 200
"""A whole video's first :data:`CLIP_FRAMES` frames lie within its first this many ms."""
VIDEO_COARSE_FACE = 0.1
"""In a whole video, full detections look first for faces at least this fraction of the
frame's shorter side, and for smaller ones (down to ``ROLLCALL_MIN_FACE_SIZE``) only where
none is found: a whole upload shows its people large, and the pyramid's largest scales
(small faces) are most of MTCNN's work. Rollcall clips (students at any distance) keep the
exact search unless ``ROLLCALL_COARSE_DETECTION=all``."""
SURE_ABOVE = 0.2
"""A whole video's vote is decided after its first 2 frames already where both name the
same people, each with a similarity at least this far above the model's threshold (else
after 3 frames, as for any other agreement)."""
TRACK_WITHIN_MS = 1000
"""Faces are followed from frame to frame at most this long after a full detection, which
runs again after it, at a scene cut and where a face is lost (negative: in full on every
frame)."""


@dataclass
class Looked:
    """What recognition saw in one object."""

    batch: RecognitionBatch
    times_ms: list[int]
    decode_s: float
    recognize_s: float
    early: bool
    """Stopped before the last pick: the vote was decided."""
    notes: list[str] = field(default_factory=list)


def look(
    data: bytes,
    recognizer: Recognizer,
    *,
    clip: bool,
    max_frame_pixels: int,
    where: str,
    clock: Clock = time.perf_counter,
    stage: list[Stage] | None = None,
    coarse: Coarse = "videos",
) -> Looked:
    """Decode and recognize ``data`` frame by frame (see the module's docstring);
    ``stage[0]`` says which of decode and detect is in progress; ``coarse``: where full
    detections are coarse to fine (whole videos, clips too, or nowhere; see
    :data:`VIDEO_COARSE_FACE`).

    Raises:
        ClipError: from decoding (see :class:`FrameStream`).
    """
    from face_model import decided
    from face_model.detect import DETECT_MAX_SIDE

    stream = FrameStream(
        data,
        count=CLIP_FRAMES if clip else VIDEO_FRAMES,
        lead=0 if clip else CLIP_FRAMES,
        lead_ms=LEAD_MS,
        skip_nonref=True,
        scaled_side=DETECT_MAX_SIDE,
        max_frame_pixels=max_frame_pixels,
        where=where,
    )
    video = recognizer.video(
        max_side=DETECT_MAX_SIDE,
        redetect_ms=TRACK_WITHIN_MS,
        coarse=VIDEO_COARSE_FACE if coarse == "all" or (coarse == "videos" and not clip) else None,
    )
    sure = recognizer.threshold + SURE_ABOVE
    times: list[int] = []
    decode_s = recognize_s = 0.0
    early = False
    stage = stage if stage is not None else ["decode"]
    picks = iter(stream)
    try:
        while True:
            stage[0] = "decode"
            start = clock()
            picked = next(picks, None)
            decode_s += clock() - start
            if picked is None:
                break
            stage[0] = "detect"
            start = clock()
            video.add(picked.frame, picked.time_ms, small=picked.small)
            recognize_s += clock() - start
            times.append(picked.time_ms)
            del picked  # the frame: only one is held at a time
            if (
                not clip
                and len(times) < stream.picks
                and decided(video.faces, len(times), sure=sure)
            ):
                early = True
                break
    finally:
        close = getattr(picks, "close", None)
        if close is not None:
            close()  # closes the container: decoding stops here
    notes = stream.notes
    if early:
        notes.append(f"the vote was decided after {len(times)} of {stream.picks} frames")
    return Looked(video.batch(), times, decode_s, recognize_s, early, notes)
