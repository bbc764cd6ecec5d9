"""The demo's inputs: videos, roster and gallery, from the user's folders or made here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from rollcall_tools.demo.roster import DEMO_ROSTER
from rollcall_tools.demo.video import (
    FPS,
    HEIGHT,
    WIDTH,
    save_portraits,
    timeline,
    write_demo_video,
)
from rollcall_tools.errors import ConfigError
from rollcall_tools.seed import load_seed
from shared_schema import StudentRecord

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".m4v", ".webm"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm", ".bmp", ".webp"}
MAX_EDGE_SIDE = 960
"""Longer side of the frames the edge records from a video file (the handler detects on a
640-pixel copy anyway)."""


@dataclass(frozen=True)
class VideoInput:
    """One video to stream, and the frame size and rate the edge should record it at."""

    path: Path
    width: int
    height: int
    fps: float


@dataclass(frozen=True)
class DemoInputs:
    videos: list[VideoInput]
    roster: list[StudentRecord]
    gallery: dict[str, list[Path]]
    bundled: bool
    """True for the bundled two-person demo."""


def _even(value: float) -> int:
    return max(16, int(value) // 2 * 2)


def probe_video(path: Path) -> VideoInput:
    """Frame size (scaled so the longer side <= 960, even) and rate (<= 30) of a video."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ConfigError(f"{path}: has no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            rate = float(stream.average_rate or stream.guessed_rate or FPS)
    except av.FFmpegError as exc:
        raise ConfigError(f"{path}: not a readable video ({exc})") from None
    if not width or not height:
        raise ConfigError(f"{path}: video has no frame size")
    scale = min(1.0, MAX_EDGE_SIDE / max(width, height))
    return VideoInput(path, _even(width * scale), _even(height * scale), min(30.0, rate))


def list_videos(folder: Path) -> list[VideoInput]:
    if not folder.is_dir():
        raise ConfigError(f"--videos {folder}: not a directory")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    if not paths:
        raise ConfigError(
            f"--videos {folder}: no video files ({', '.join(sorted(VIDEO_SUFFIXES))})"
        )
    return [probe_video(p) for p in paths]


def read_gallery(folder: Path) -> dict[str, list[Path]]:
    """``{person: [images]}`` from ``folder/<person>/*.jpg|png...``."""
    if not folder.is_dir():
        raise ConfigError(f"--gallery {folder}: not a directory")
    people = {
        d.name: sorted(p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for d in sorted(folder.iterdir())
        if d.is_dir()
    }
    people = {name: images for name, images in people.items() if images}
    if not people:
        raise ConfigError(f"--gallery {folder}: expected one folder of photos per person")
    return people


def read_roster(path: Path) -> list[StudentRecord]:
    records, invalid = load_seed(path)
    if invalid:
        first = invalid[0]
        raise ConfigError(
            f"--roster {path}: entry {first.index}: {first.message} "
            f"({len(invalid)} invalid entr{'y' if len(invalid) == 1 else 'ies'})"
        )
    return records


def resolve_inputs(
    work_dir: Path,
    *,
    videos: Path | None,
    roster: Path | None,
    gallery: Path | None,
    person_seconds: float,
) -> DemoInputs:
    """The user's folders, or the bundled two-person demo (written into ``work_dir``)."""
    if videos is None and (roster is not None or gallery is not None):
        raise ConfigError("--roster and --gallery go with --videos DIR")
    if videos is not None:
        if roster is None:
            raise ConfigError("--videos needs --roster FILE (the students' records)")
        records = read_roster(roster)
        people = read_gallery(gallery) if gallery is not None else {}
        return DemoInputs(list_videos(videos), records, people, bundled=False)
    appearances = timeline(person_seconds)
    gallery_photos = save_portraits(work_dir / "gallery", appearances)
    video = write_demo_video(work_dir / "videos" / "rollcall-demo.mp4", appearances)
    return DemoInputs(
        [VideoInput(video, WIDTH, HEIGHT, float(FPS))],
        list(DEMO_ROSTER),
        gallery_photos,
        bundled=True,
    )
