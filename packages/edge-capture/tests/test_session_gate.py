"""The gate in a whole session against the moto server: a real H.264 recording of an empty
room, the astronaut walking across, and the empty room again."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from edge_testkit import Responder, SceneMaker, Stack, room
from rich.console import Console
from test_session import config
from typer.testing import CliRunner

from edge_capture import run_session
from edge_capture.cli import app
from edge_capture.live import summary_table
from edge_capture.spool import Spool
from rollcall_testkit.clips import write_video

W, H, FPS, PER_CLIP = 160, 120, 15, 8
FRAMES = 240  # 16 s: 30 clips
WALK_FROM = 60  # the astronaut walks in at 4 s, 3 px a frame, and is gone 73 frames later


def person_at(k: int) -> tuple[int, int] | None:
    if k < WALK_FROM:
        return None
    left = -60 + (k - WALK_FROM) * 3
    return (left, 40) if left < W else None


def shows_face(frame: np.ndarray, empty: np.ndarray) -> bool:
    """Whether at least 1 % of the frame is far from the empty room (the face is in view)."""
    return float((np.abs(frame.astype(int) - empty).max(axis=-1) > 40).mean()) >= 0.01


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The video, and how many of its 30 clips show the face."""
    scene = SceneMaker(W, H, noise=3.0, seed=7)
    frames = [scene.frame(person=person_at(k)) for k in range(FRAMES)]
    path = write_video(tmp_path_factory.mktemp("video") / "walk.mp4", frames, fps=FPS)
    empty = np.clip(room(W, H), 0, 255).astype(int)
    face_clips = sum(
        any(shows_face(f, empty) for f in frames[c : c + PER_CLIP])
        for c in range(0, FRAMES, PER_CLIP)
    )
    return path, face_clips


def test_skipped_clips_are_counted_never_uploaded_never_missing(
    stack: Stack, tmp_path: Path, recording: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    video, face_clips = recording
    assert face_clips >= 9
    commits: list[str] = []
    real_commit = Spool.commit

    def counting_commit(self: Spool, temp: Path, key: str, *args: Any) -> Any:
        commits.append(key)
        return real_commit(self, temp, key, *args)

    monkeypatch.setattr(Spool, "commit", counting_commit)
    cfg = config(
        stack, tmp_path, source=str(video), duration_s=60, gate="motion", gate_keepalive=3.0
    )
    with Responder(stack) as responder:
        summary = run_session(cfg)
    assert responder.errors == []

    uploaded = len(summary.outcomes)
    assert summary.clips_captured == 30
    assert summary.clips_skipped == 30 - uploaded >= 10
    assert summary.missing_keys == [] and summary.ok, "a skipped clip is never missing"
    assert summary.clips_uploaded == summary.clips_answered == uploaded
    assert sorted(commits) == stack.keys() == sorted(o.key for o in summary.outcomes)
    assert all(n == 1 for n in stack.versions().values())
    assert summary.gate == "motion"
    reasons = summary.gate_reasons
    assert reasons["first"] == 1 and reasons["keep-alive"] >= 1 and reasons["motion"] >= 9
    assert sum(reasons.values()) == uploaded
    assert {o.gate_reason for o in summary.outcomes} <= {"first", "motion", "keep-alive"}
    assert summary.latency_ms.count == uploaded, "latency figures cover uploaded clips only"
    assert not list((tmp_path / "spool").rglob("*.mp4")), "nothing left in the spool"

    # Every clip that shows the walking face reached S3.
    empty = np.clip(room(W, H), 0, 255).astype(int)
    with_face = 0
    uploaded_keys = stack.keys()
    for key in uploaded_keys:
        body = stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()
        with av.open(io.BytesIO(body)) as container:
            decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        with_face += any(shows_face(f, empty) for f in decoded)
    assert with_face == face_clips

    line = f"uploaded {uploaded} of 30 clips (gate: motion)"
    assert summary.upload_line == line
    data = json.loads(summary.to_json())
    assert (data["clips_captured"], data["clips_skipped"], data["gate"]) == (
        30,
        30 - uploaded,
        "motion",
    )
    assert data["upload_line"] == line and data["clips_missing"] == 0
    assert data["gate_reasons"] == reasons
    console = Console(file=io.StringIO(), width=200)
    console.print(summary_table(summary))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "clips skipped by the gate" in text and line in text


def test_gate_off_uploads_every_clip(
    stack: Stack, tmp_path: Path, recording: tuple[Path, int]
) -> None:
    video, _ = recording
    args = [
        "run",
        "--source", str(video),
        "--bucket", stack.bucket,
        "--results-queue", stack.queue_name,
        "--endpoint-url", stack.url,
        "--resolution", f"{W}x{H}",
        "--fast",
        "--spool-dir", str(tmp_path / "spool"),
        "--poll-wait", "1",
        "--json",
    ]  # fmt: skip
    with Responder(stack):
        outcome = CliRunner().invoke(app, args, env={"ROLLCALL_GATE": "off"})
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.stdout)
    assert (data["clips_captured"], data["clips_skipped"], data["clips_answered"]) == (30, 0, 30)
    assert data["gate"] == "off" and data["gate_reasons"] == {"off": 30}
    assert data["upload_line"] == "uploaded 30 of 30 clips (gate: off)"
    assert len(stack.keys()) == 30
    assert "uploaded 30 of 30 clips (gate: off)" in outcome.stderr
