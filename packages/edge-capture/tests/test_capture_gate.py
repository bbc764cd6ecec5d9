"""The capture loop with a gate: skipped clips are never encoded or spooled; decided ones are
complete whether the gate decides at the first frame or the last."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from edge_capture import capture
from edge_capture.capture import CaptureLoop
from edge_capture.config import EdgeConfig
from edge_capture.gate import GateReason
from edge_capture.sources import CapturedFrame, SourceSpec, SyntheticSource
from edge_capture.spool import Spool, SpoolEntry

W, H, FPS = 160, 120, 15.0


class ScriptedGate:
    """Per clip: (due at begin, frame index from which observe says 'upload', end verdict)."""

    def __init__(self, script: list[tuple[bool, int | None, GateReason | None]]) -> None:
        self.script, self.clip, self.frame = script, -1, 0
        self.times: list[float] = []
        self.uploads = 0

    def begin(self, t: float) -> bool:
        self.clip += 1
        self.frame = 0
        self.times.append(t)
        return self.script[self.clip][0]

    def observe(self, image: np.ndarray, t: float) -> bool:
        due, from_frame, _ = self.script[self.clip]
        self.frame += 1
        return due or (from_frame is not None and self.frame > from_frame)

    def end(self) -> GateReason | None:
        return self.script[self.clip][2]

    def uploaded(self) -> None:
        self.uploads += 1


class Frames:
    """The test pattern as a source, with its media-time clock."""

    description = "test"

    def __init__(self, count: int) -> None:
        self.count = count
        self.pattern = SyntheticSource(SourceSpec("test", W, H, FPS), threading.Event())

    def frames(self) -> Iterator[CapturedFrame]:
        for k in range(self.count):
            yield CapturedFrame(self.pattern.frame_at(k), 1_800_000_000.0 + k, k / FPS)

    def close(self) -> None:
        return None


@pytest.fixture
def writers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every ClipWriter the capture loop opens."""
    opened: list[Any] = []
    real = capture.ClipWriter

    def spy(*args: Any, **kwargs: Any) -> Any:
        writer = real(*args, **kwargs)
        opened.append(writer)
        return writer

    monkeypatch.setattr(capture, "ClipWriter", spy)
    return opened


def _loop(tmp_path: Path, gate: ScriptedGate) -> tuple[CaptureLoop, Spool, list[Any]]:
    config = EdgeConfig(
        bucket="b", results_queue="q", resolution=(W, H), duration_s=60, spool_dir=tmp_path
    )
    spool = Spool(tmp_path, 10**9)
    events: list[Any] = []
    loop = CaptureLoop(
        config,
        spool,
        gate=gate,
        on_clip=lambda entry, seq, reason: events.append((entry, seq, reason)),
        on_skipped=lambda frames: events.append(("skipped", frames)),
    )
    return loop, spool, events


def _decoded(entry: SpoolEntry) -> list[np.ndarray]:
    with av.open(str(entry.path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_skipped_clips_are_never_encoded_or_spooled(tmp_path: Path, writers: list[Any]) -> None:
    gate = ScriptedGate(
        [
            (True, None, "first"),  # due at begin: encoded as frames arrive
            (False, None, None),  # no motion: skipped
            (False, 7, "motion"),  # motion in its last frame: encoded at the end
            (False, None, None),
            (False, 2, "motion"),  # the final partial clip (4 frames), motion from frame 3
        ]
    )
    loop, spool, events = _loop(tmp_path, gate)
    loop.run(Frames(36), threading.Event())
    assert gate.times == [0.0, 8 / FPS, 16 / FPS, 24 / FPS, 32 / FPS]  # the source's clock
    assert [e[0] for e in events if e[0] == "skipped"] == ["skipped"] * 2
    committed = [e for e in events if e[0] != "skipped"]
    assert [(seq, reason) for _, seq, reason in committed] == [
        (0, "first"),
        (1, "motion"),
        (2, "motion"),
    ], "skipped clips take no sequence number"
    assert len(writers) == 3, "a skipped clip must never reach the encoder"
    assert gate.uploads == 3
    assert not list(spool.tmp_dir.iterdir())
    assert len(list(spool.clips_dir.rglob("*.mp4"))) == 3
    pattern = Frames(36).pattern
    for (entry, _, _), first, count in zip(committed, (0, 16, 32), (8, 8, 4), strict=True):
        frames = _decoded(entry)
        assert len(frames) == count
        error = np.abs(frames[0].astype(int) - pattern.frame_at(first).astype(int)).mean()
        assert error < 10, "the clip holds the frames of its own time span"
    assert loop.skipped == 2 and loop.clips == 3


def test_a_long_undecided_clip_is_encoded_ahead_then_discarded(
    tmp_path: Path, writers: list[Any]
) -> None:
    """Past the hold limit the encoder starts anyway; a skip then deletes its temp file."""
    gate = ScriptedGate([(False, None, None), (False, None, "motion")])
    loop, spool, events = _loop(tmp_path, gate)
    loop.max_pending = 3
    loop.run(Frames(16), threading.Event())
    assert len(writers) == 2, "both clips outgrew the hold and were encoded ahead"
    assert [e[1] for e in events if e[0] != "skipped"] == [0]
    assert not list(spool.tmp_dir.iterdir()), "the skipped clip's temp file is gone"
    assert len(list(spool.clips_dir.rglob("*.mp4"))) == 1
    assert len(_decoded(events[-1][0])) == 8
