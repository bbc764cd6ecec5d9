"""The bundled demo: two public-domain portraits that ship inside installed wheels, and a
generated video in which each person appears in turn, transformed, between empty stretches.

* Eileen Collins: NASA's portrait, ``skimage.data.astronaut()`` (scikit-image).
* Grace Hopper: ``grace_hopper.jpg`` from matplotlib's sample data.

The same photos are enrolled and animated: the demo shows the pipeline working end to end,
not how well the recognizer generalises (the shared-data tests measure that).
Deterministic: the same frames on every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from edge_capture.encoder import EncoderSettings
from rollcall_tools.clips import astronaut, write_video

WIDTH, HEIGHT, FPS = 640, 480, 15


def grace_hopper() -> np.ndarray:
    """The public-domain portrait of Grace Hopper in matplotlib's sample data (RGB)."""
    from matplotlib import cbook

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


@dataclass(frozen=True)
class Appearance:
    """One person's stretch of the video: who, from when, for how long, and how shown."""

    person: str
    photo: Callable[[], np.ndarray]
    start_s: float
    seconds: float
    mirrored: bool
    exit_right: bool  # slides out over the right edge (a partial crop) rather than the left


def timeline(person_seconds: float = 3.0, gap_seconds: float = 2.0) -> list[Appearance]:
    """Empty room, Eileen Collins, empty room, Grace Hopper (mirrored), empty room."""
    first = gap_seconds
    second = first + person_seconds + gap_seconds
    return [
        Appearance("eileen_collins", astronaut, first, person_seconds, False, True),
        Appearance("grace_hopper", grace_hopper, second, person_seconds, True, False),
    ]


def duration(appearances: list[Appearance], gap_seconds: float = 2.0) -> float:
    """Seconds of video: the last appearance plus a trailing empty stretch."""
    last = max(appearances, key=lambda a: a.start_s + a.seconds)
    return last.start_s + last.seconds + gap_seconds


def background(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A soft diagonal gradient with a faint grid: a plain room, no faces."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 70 + 60 * (x / width) + 40 * (y / height)
    grid = ((x.astype(int) % 64 < 2) | (y.astype(int) % 64 < 2)) * 25.0
    rgb = np.stack([base + grid, base * 0.9 + grid, base * 0.8 + 30 + grid], axis=-1)
    return np.asarray(np.clip(rgb, 0, 255), dtype=np.uint8)


def _portrait(photo: np.ndarray, height: int, brightness: float, mirrored: bool) -> Image.Image:
    image = Image.fromarray(photo)
    width = max(1, round(image.width * height / image.height))
    image = image.resize((width, height), Image.Resampling.BILINEAR)
    if mirrored:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return ImageEnhance.Brightness(image).enhance(brightness)


def compose(appearance: Appearance, photo: np.ndarray, t: float, room: np.ndarray) -> np.ndarray:
    """The frame ``t`` seconds into ``appearance``: the portrait walks in, varies in scale
    and brightness, and leaves with part of it cut off by the frame edge."""
    phase = min(1.0, max(0.0, t / appearance.seconds))
    frame_h, frame_w = room.shape[:2]
    scale = 0.62 + 0.22 * math.sin(math.pi * phase)  # of the frame height
    brightness = 0.75 + 0.45 * phase
    portrait = _portrait(photo, round(frame_h * scale), brightness, appearance.mirrored)
    span = frame_w - portrait.width
    # enter from one side, cross, and finish a third of the way out of the other side
    travel = -0.15 + 1.5 * phase if appearance.exit_right else 1.15 - 1.5 * phase
    left = round(span * travel) if span > 0 else round((frame_w - portrait.width) / 2)
    top = round((frame_h - portrait.height) * (0.5 + 0.25 * math.sin(2 * math.pi * phase)))
    canvas = Image.fromarray(room)
    canvas.paste(portrait, (left, top))
    return np.asarray(canvas)


def frames(
    appearances: list[Appearance], seconds: float, fps: int = FPS
) -> Iterator[tuple[float, np.ndarray]]:
    """(time, RGB frame) for every frame of the video."""
    room = background()
    photos = {a.person: a.photo() for a in appearances}
    for index in range(max(1, round(seconds * fps))):
        t = index / fps
        current = next((a for a in appearances if a.start_s <= t < a.start_s + a.seconds), None)
        if current is None:
            yield t, room
        else:
            yield t, compose(current, photos[current.person], t - current.start_s, room)


def save_portraits(folder: Path, appearances: list[Appearance]) -> dict[str, list[Path]]:
    """Write each person's photo (the enrollment images) as ``folder/<person>/portrait.png``."""
    out: dict[str, list[Path]] = {}
    for appearance in appearances:
        path = folder / appearance.person / "portrait.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(appearance.photo()).save(path)
        out[appearance.person] = [path]
    return out


def write_demo_video(path: Path, appearances: list[Appearance], fps: int = FPS) -> Path:
    """Encode the demo video (H.264 MP4, with edge-capture's encoder) to ``path``."""
    images = (image for _, image in frames(appearances, duration(appearances), fps))
    settings = EncoderSettings(fps=fps, preset="veryfast", tune=None, crf=20)
    return write_video(path, images, fps=fps, settings=settings)
