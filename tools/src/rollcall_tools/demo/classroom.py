"""A generated class session for attendance: the demo's people arrive and leave at known
times and sit side by side (several faces at once), still, in a plain room.

Times are whole clips of edge-capture's default 0.5 s at 15 fps (8 frames), so that each
arrival and departure falls on a clip boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from edge_capture.encoder import EncoderSettings
from rollcall_tools.clips import astronaut, write_video
from rollcall_tools.demo.video import FPS, HEIGHT, WIDTH, background, grace_hopper

FRAMES_PER_CLIP = 8
"""0.5 s at 15 fps, rounded as edge-capture does."""
SEAT_HEIGHT = 0.55
"""A portrait's height, in frame heights."""


@dataclass(frozen=True)
class Stay:
    """One person in the room from frame ``arrive`` to frame ``leave`` (exclusive), in
    seat ``seat`` (0: left, 1: right)."""

    person: str
    photo: Callable[[], np.ndarray]
    arrive: int
    leave: int
    seat: int

    def seconds(self, fps: float = FPS) -> tuple[float, float]:
        """Arrival and departure, seconds into the video."""
        return self.arrive / fps, self.leave / fps


def class_session() -> tuple[list[Stay], int]:
    """Eileen Collins from clip 2 to clip 12, Grace Hopper from clip 6 to clip 16 (both in
    clips 6-11); 18 clips in all (9.6 s)."""
    clip = FRAMES_PER_CLIP
    stays = [
        Stay("eileen_collins", astronaut, 2 * clip, 12 * clip, 0),
        Stay("grace_hopper", grace_hopper, 6 * clip, 16 * clip, 1),
    ]
    return stays, 18 * clip


def frames(stays: list[Stay], total: int) -> Iterator[np.ndarray]:
    """Every frame of the session (RGB)."""
    room = Image.fromarray(background())
    height = round(HEIGHT * SEAT_HEIGHT)
    portraits = {}
    for stay in stays:
        photo = Image.fromarray(stay.photo())
        width = round(photo.width * height / photo.height)
        portraits[stay.person] = photo.resize((width, height), Image.Resampling.BILINEAR)
    for index in range(total):
        canvas = room.copy()
        for stay in stays:
            if stay.arrive <= index < stay.leave:
                portrait = portraits[stay.person]
                left = 24 if stay.seat == 0 else WIDTH - 24 - portrait.width
                canvas.paste(portrait, (left, (HEIGHT - height) // 2))
        yield np.asarray(canvas)


def write_class_video(path: Path) -> tuple[Path, list[Stay]]:
    """Encode the session (H.264 MP4, edge-capture's encoder) to ``path``."""
    stays, total = class_session()
    settings = EncoderSettings(fps=FPS, preset="veryfast", tune=None, crf=20)
    return write_video(path, frames(stays, total), fps=FPS, settings=settings), stays
