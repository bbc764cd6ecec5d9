"""``tools bench-gate``: edge-capture's motion gate, its CPU time per frame and the share of
clips uploaded in three generated scenes (an empty room, a person walking across, a person
sitting still), and the gate plus encoder's share of a core.

Scenes are generated procedurally (fixed seed) at the gate's sampled resolution: the gate
only ever reads every ``stride``-th pixel, so rendering just those pixels (with per-pixel
sensor noise, quantised to ``uint8`` like a camera's) feeds it exactly what a full frame
would, and ten minutes of video per scene take seconds instead of minutes. The person is a
real face photo: scikit-image's astronaut.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.table import Table

from edge_capture.gate import GateSettings, Grid, MotionGate
from rollcall_tools.clips import astronaut

SCENES: tuple[str, ...] = ("empty", "walk", "still")
NOISE_SIGMA = 5.0
"""Sensor noise per pixel, in luma levels (a cheap camera indoors, or at night)."""
IN_VIEW = 0.005
"""A person counts as in view from 0.5 % of the frame on (less: a sliver at the edge)."""
TIMING_SIZES: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720))


@functools.cache
def astronaut_luma() -> np.ndarray:
    """The astronaut photo's luma (``float32``, 512x512, read-only), the face of every generated
    person; read once."""
    rgb = np.asarray(astronaut(), dtype=np.float32)
    luma = np.asarray((rgb[..., 0] + 2 * rgb[..., 1] + rgb[..., 2]) / 4, dtype=np.float32)
    luma.flags.writeable = False  # shared by every caller
    return luma


def room(height: int, width: int) -> np.ndarray:
    """A plain room (``float32`` luma): gradient walls, a floor line, a door and a shelf."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = 90 + 50 * (x / width) + 30 * (y / height)
    img[int(height * 0.72) :, :] -= 35  # floor
    img[int(height * 0.2) : int(height * 0.72), int(width * 0.78) : int(width * 0.9)] += 40
    img[int(height * 0.3) : int(height * 0.34), int(width * 0.1) : int(width * 0.4)] -= 50
    return np.asarray(img, dtype=np.float32)


@dataclass(frozen=True)
class Sprite:
    """A person: the photo scaled to ``height`` rows, with a soft head-and-shoulders alpha."""

    luma: np.ndarray
    alpha: np.ndarray

    @classmethod
    def of(cls, photo: np.ndarray, height: int) -> Sprite:
        """The photo (cropped to its centre 3/4 of the width) scaled to ``height`` rows."""
        crop = photo[:, photo.shape[1] // 8 : photo.shape[1] * 7 // 8]
        width = max(2, round(height * crop.shape[1] / crop.shape[0]))
        rows = (np.arange(height) * crop.shape[0] / height).astype(int)
        cols = (np.arange(width) * crop.shape[1] / width).astype(int)
        luma = crop[rows][:, cols]
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        u, v = (x + 0.5) / width * 2 - 1, (y + 0.5) / height
        head = (u / 0.55) ** 2 + ((v - 0.38) / 0.4) ** 2 <= 1
        shoulders = (v > 0.62) & (np.abs(u) <= 0.55 + (v - 0.62) * 1.2)
        return cls(luma, (head | shoulders).astype(np.float32))

    def paste(self, frame: np.ndarray, left: int, top: int) -> float:
        """Blend into ``frame`` at (left, top); returns the share of the frame it covers."""
        h, w = self.luma.shape
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + h, frame.shape[0]), min(left + w, frame.shape[1])
        if y0 >= y1 or x0 >= x1:
            return 0.0
        a = self.alpha[y0 - top : y1 - top, x0 - left : x1 - left]
        region = frame[y0:y1, x0:x1]
        region += a * (self.luma[y0 - top : y1 - top, x0 - left : x1 - left] - region)
        return float(a.sum()) / frame.size


def _gain(t: float, total: float) -> float:
    """Slow light change: dusk (100 % -> 55 %) with a cloud-like +-6 % swell every 45 s."""
    return (1.0 - 0.45 * t / max(total, 1.0)) * (1.0 + 0.06 * math.sin(2 * math.pi * t / 45.0))


Placement = Callable[[float], tuple["Sprite", int, int] | None]


@dataclass
class Scene:
    """A generated scene: where (if anywhere) the person is at each moment."""

    name: str
    place: Placement
    """Person sprite and top-left position at time t, or None for an empty frame."""


def make_scenes(grid: Grid, total_s: float, seed: int = 0) -> dict[str, Scene]:
    """The three benchmark scenes at the gate's sampled resolution."""
    photo = astronaut_luma()
    rows, cols = grid.sampled_shape
    rng = np.random.default_rng(seed)

    passes: list[tuple[float, float, Sprite, int, int]] = []  # start, duration, sprite, dir, y
    sprites = {h: Sprite.of(photo, h) for h in (round(rows * f) for f in (0.45, 0.6, 0.75))}
    window = 30.0
    for index in range(math.ceil(total_s / window)):
        start = index * window + float(rng.uniform(4.0, 16.0))
        height = list(sprites)[index % len(sprites)]
        passes.append(
            (start, float(rng.uniform(4.0, 8.0)), sprites[height], 1 if index % 2 else -1, height)
        )

    def walk(t: float) -> tuple[Sprite, int, int] | None:
        for start, duration, sprite, direction, height in passes:
            if start <= t < start + duration:
                w = sprite.luma.shape[1]
                progress = (t - start) / duration
                x = -w + progress * (cols + w)
                left = round(x if direction > 0 else cols - w - x)
                bob = round(2 * math.sin(2 * math.pi * 2.0 * t))
                return sprite, left, rows - height - 2 + bob
        return None

    sitting = Sprite.of(photo, round(rows * 0.6))

    def still(t: float) -> tuple[Sprite, int, int] | None:
        shift = int(t // 60.0) % 2  # shifts in the chair by one sample once a minute
        return sitting, round(cols * 0.3) + shift, rows - sitting.luma.shape[0] - 4

    return {
        "empty": Scene("empty", lambda t: None),
        "walk": Scene("walk", walk),
        "still": Scene("still", still),
    }


def render(
    scene: Scene, background: np.ndarray, t: float, total_s: float, noise: np.ndarray
) -> tuple[np.ndarray, tuple[int, int] | None, float]:
    """One frame's sampled luma (``uint8``), the person's position (None: not in view) and
    the share of the frame the person covers."""
    frame = background.copy()
    placed = scene.place(t)
    where, covered = None, 0.0
    if placed is not None:
        sprite, left, top = placed
        covered = sprite.paste(frame, left, top)
        if covered > 0:
            where = (left, top)
    frame *= np.float32(_gain(t, total_s))  # the same light falls on the room and the person
    frame += noise
    np.clip(frame, 0, 255, out=frame)
    return frame.astype(np.uint8), where, covered


@dataclass(frozen=True)
class SceneFigures:
    """What the gate did with one scene."""

    clips: int
    uploaded: int
    by_reason: dict[str, int]
    moving_clips: int
    """Clips in which the person moves with at least ``IN_VIEW`` of the frame in view."""
    moving_uploaded: int
    edge_clips: int
    """Clips in which the person moves but shows only a sliver (under ``IN_VIEW``) at an edge."""
    edge_uploaded: int
    max_gap_s: float | None
    seconds: float

    @property
    def uploaded_fraction(self) -> float:
        """Uploaded clips / clips."""
        return self.uploaded / self.clips if self.clips else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "uploaded_fraction": round(self.uploaded_fraction, 4),
            "clips": self.clips,
            "uploaded": self.uploaded,
            "by_reason": self.by_reason,
            "moving_clips": self.moving_clips,
            "moving_uploaded": self.moving_uploaded,
            "edge_clips": self.edge_clips,
            "edge_uploaded": self.edge_uploaded,
            "max_gap_s": None if self.max_gap_s is None else round(self.max_gap_s, 3),
            "generated_s": round(self.seconds, 1),
        }


def run_scene(
    scene: Scene,
    settings: GateSettings,
    *,
    width: int,
    height: int,
    fps: float,
    frames_per_clip: int,
    total_s: float,
    seed: int = 1,
) -> SceneFigures:
    """Feed ``total_s`` seconds of ``scene`` through a fresh gate, clip by clip."""
    gate = MotionGate(settings, width, height, frames_per_clip / fps)
    grid = gate.grid  # the scene is rendered at exactly the samples this grid reads
    rows, cols = grid.sampled_shape
    background = room(rows, cols)
    rng = np.random.default_rng(seed)
    total_frames = round(total_s * fps)
    reasons: Counter[str] = Counter()
    starts: list[float] = []
    clips = moving = moving_uploaded = edge = edge_uploaded = 0
    previous: tuple[int, int] | None = None
    for first in range(0, total_frames, frames_per_clip):
        count = min(frames_per_clip, total_frames - first)
        noise = rng.standard_normal((count, rows, cols), dtype=np.float32)
        noise *= np.float32(NOISE_SIGMA)
        gate.begin(first / fps)
        clip_moving = clip_edge = False
        for i in range(count):
            t = (first + i) / fps
            luma, where, covered = render(scene, background, t, total_s, noise[i])
            if where is not None and previous is not None and where != previous:
                clip_moving |= covered >= IN_VIEW
                clip_edge |= covered < IN_VIEW
            previous = where
            gate.observe_cells(grid.cells(luma.astype(np.uint16), scale=1.0), t)
        reason = gate.end()
        clips += 1
        moving += clip_moving
        edge += clip_edge and not clip_moving
        if reason is not None:
            gate.uploaded()
            reasons[reason] += 1
            starts.append(first / fps)
            moving_uploaded += clip_moving
            edge_uploaded += clip_edge and not clip_moving
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    return SceneFigures(
        clips=clips,
        uploaded=sum(reasons.values()),
        by_reason=dict(sorted(reasons.items())),
        moving_clips=moving,
        moving_uploaded=moving_uploaded,
        edge_clips=edge,
        edge_uploaded=edge_uploaded,
        max_gap_s=max(gaps) if gaps else None,
        seconds=total_frames / fps,
    )


def _timing_frames(width: int, height: int, count: int) -> Iterator[np.ndarray]:
    """Full RGB frames: the room, noise and a person moving across (for the CPU figure)."""
    photo = astronaut_luma()
    base = room(height, width)
    sprite = Sprite.of(photo, round(height * 0.6))
    rng = np.random.default_rng(2)
    for index in range(count):
        frame = base.copy()
        sprite.paste(frame, round(index * width / count), height - sprite.luma.shape[0])
        frame += rng.standard_normal(frame.shape, dtype=np.float32) * np.float32(NOISE_SIGMA)
        luma = np.clip(frame, 0, 255)
        rgb = np.stack([luma * 1.05, luma, luma * 0.9], axis=-1)
        yield np.clip(rgb, 0, 255).astype(np.uint8)


def cpu_ms_per_frame(
    settings: GateSettings, width: int, height: int, *, fps: float = 15.0, frames: int = 300
) -> float:
    """CPU milliseconds the gate spends on one full RGB frame (sampling included).

    Cycles through 30 distinct frames so that each is read from memory, not from cache,
    much like a camera's fresh frames.
    """
    images = list(_timing_frames(width, height, 30))
    gate = MotionGate(settings, width, height, 8 / fps)
    for index, image in enumerate(images):  # warm up: the first frame sets the background
        gate.observe(image, index / fps)
    start = time.process_time()
    for index in range(frames):
        gate.observe(images[index % len(images)], (30 + index) / fps)
    return (time.process_time() - start) / frames * 1000.0


def run_gate_bench(
    settings: GateSettings | None = None,
    *,
    fps: float = 15.0,
    clip_seconds: float = 0.5,
    minutes: float = 10.0,
    width: int = 640,
    height: int = 480,
    encode_fraction: float | None = None,
) -> dict[str, Any]:
    """``tools bench-gate --json``'s figures.

    ``encode_fraction`` (the encoder's CPU share at ``width``x``height``@``fps``, from
    edge-capture's encoder benchmark) turns the upload share into an estimate of gate plus
    encoder CPU per camera, since a skipped clip is never encoded.
    """
    settings = settings or GateSettings()
    frames_per_clip = max(1, round(fps * clip_seconds))
    total_s = minutes * 60.0
    grid = Grid.for_frame(width, height)
    cpu = {f"{w}x{h}": round(cpu_ms_per_frame(settings, w, h, fps=fps), 3) for w, h in TIMING_SIZES}
    scenes = make_scenes(grid, total_s)
    figures = {
        name: run_scene(
            scenes[name],
            settings,
            width=width,
            height=height,
            fps=fps,
            frames_per_clip=frames_per_clip,
            total_s=total_s,
        )
        for name in SCENES
    }
    gate_fraction = cpu.get(f"{width}x{height}", 0.0) * fps / 1000.0
    walk, still = figures["walk"], figures["still"]
    keepalive = settings.keepalive_s
    out: dict[str, Any] = {
        "cpu_ms_per_frame": cpu,
        "scenes": {name: fig.to_dict() for name, fig in figures.items()},
        "targets": {
            "cpu_ms_per_frame_640x480_under_1": cpu.get("640x480", math.inf) < 1.0,
            "empty_uploaded_at_most_5pct": figures["empty"].uploaded_fraction <= 0.05,
            "walk_every_moving_clip_uploaded": walk.moving_uploaded == walk.moving_clips,
            "still_uploaded_every_keepalive": still.max_gap_s is not None
            and still.max_gap_s <= keepalive + 1e-6,
        },
        "keepalive_floor_fraction": round(
            1.0 / max(1, math.floor(keepalive * fps / frames_per_clip + 1e-9)), 4
        )
        if keepalive > 0
        else 0.0,
        "settings": {
            "resolution": f"{width}x{height}",
            "fps": fps,
            "frames_per_clip": frames_per_clip,
            "minutes_per_scene": minutes,
            "noise_sigma": NOISE_SIGMA,
            "grid": f"{grid.cols}x{grid.rows} cells of {grid.stride * 4}x{grid.stride * 4} px",
            "threshold": settings.threshold,
            "min_area_pct": settings.min_area_pct,
            "keepalive_s": settings.keepalive_s,
            "background_s": settings.background_s,
            "min_delta": settings.min_delta,
            "motion_lag_s": settings.motion_lag_s,
        },
    }
    if encode_fraction is not None:
        out[f"core_fraction_{width}x{height}@{fps:g}"] = {
            name: round(gate_fraction + encode_fraction * fig.uploaded_fraction, 4)
            for name, fig in figures.items()
        }
    return out


def gate_table(gate: dict[str, Any]) -> Table:
    """The figures of :func:`run_gate_bench` for people."""
    cpu = ", ".join(f"{size} {ms:.2f} ms" for size, ms in gate["cpu_ms_per_frame"].items())
    settings = gate["settings"]
    table = Table(
        title=f"motion gate, {settings['minutes_per_scene']:g} min per scene at "
        f"{settings['resolution']}@{settings['fps']:g}",
        caption=f"gate CPU per frame: {cpu}",
    )
    for column in ("scene", "uploaded", "clips", "by reason", "moving clips uploaded", "max gap"):
        table.add_column(column, justify="right")
    core: dict[str, float] = next(
        (v for k, v in gate.items() if k.startswith("core_fraction_")), {}
    )
    if core:
        table.add_column("gate + encoder, % of a core", justify="right")
    for name, row in gate["scenes"].items():
        cells = [
            name,
            f"{row['uploaded_fraction'] * 100:.1f}%",
            str(row["clips"]),
            ", ".join(f"{k} {v}" for k, v in row["by_reason"].items()),
            f"{row['moving_uploaded']}/{row['moving_clips']}",
            "-" if row["max_gap_s"] is None else f"{row['max_gap_s']:.1f} s",
        ]
        if core:
            cells.append(f"{core[name] * 100:.1f}%")
        table.add_row(*cells)
    return table
