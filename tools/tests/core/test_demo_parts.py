"""The demo's parts that need no stack: recognizer choice, inputs, the per-video verdict."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from edge_capture import ClipOutcome, LatencyStats, PersonInClip, SessionSummary
from rollcall_tools.demo import recognizer
from rollcall_tools.demo.inputs import list_videos, read_gallery, resolve_inputs
from rollcall_tools.demo.report import DemoReport, verdict
from rollcall_tools.demo.roster import DEMO_ROSTER
from rollcall_tools.demo.video import duration, frames, timeline
from rollcall_tools.errors import ConfigError


def test_nobody_to_enroll_is_detection_only(tmp_path: Path) -> None:
    choice = recognizer.choose_recognizer(
        backbone=None, weights=None, people={}, work_dir=tmp_path, progress=print
    )
    assert choice.mode == "detection-only"
    assert choice.artifact_dir is None
    assert "DETECTION ONLY" in choice.note
    assert "\n" not in choice.note


def test_weights_need_a_backbone_a_gallery_and_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--weights needs --backbone"):
        recognizer.choose_recognizer(
            backbone=None,
            weights=tmp_path / "w.ckpt",
            people={"x": [tmp_path / "x.png"]},
            work_dir=tmp_path,
            progress=print,
        )
    with pytest.raises(ConfigError, match="--weights needs --gallery"):
        recognizer.choose_recognizer(
            backbone="mobilefacenet",
            weights=tmp_path / "w.ckpt",
            people={},
            work_dir=tmp_path,
            progress=print,
        )
    with pytest.raises(ConfigError, match="no such file"):
        recognizer.build_artifact("mobilefacenet", tmp_path / "w.ckpt", {"x": []}, tmp_path, print)


def test_inputs_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--videos needs --roster"):
        resolve_inputs(tmp_path, videos=tmp_path, roster=None, gallery=None, person_seconds=1)
    with pytest.raises(ConfigError, match="go with --videos"):
        resolve_inputs(
            tmp_path, videos=None, roster=tmp_path / "r.json", gallery=None, person_seconds=1
        )
    with pytest.raises(ConfigError, match="no video files"):
        list_videos(tmp_path)
    with pytest.raises(ConfigError, match="one folder of photos per person"):
        read_gallery(tmp_path)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(ConfigError, match="not a readable video"):
        list_videos(tmp_path)
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps([{"name": "a", "year": "x"}]))
    with pytest.raises(ConfigError, match="entry 0: major"):
        resolve_inputs(tmp_path, videos=tmp_path, roster=roster, gallery=None, person_seconds=1)


@pytest.mark.slow
def test_bundled_demo_inputs(tmp_path: Path) -> None:
    inputs = resolve_inputs(tmp_path, videos=None, roster=None, gallery=None, person_seconds=1)
    assert inputs.roster == list(DEMO_ROSTER)
    assert sorted(inputs.gallery) == ["eileen_collins", "grace_hopper"]
    (video,) = inputs.videos
    with av.open(str(video.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 480)
        # 2 s empty, 1 s each person with 2 s empty between and after: 8 s at 15 fps
        assert sum(1 for _ in container.decode(stream)) == 120
    (probed,) = list_videos(video.path.parent)
    assert (probed.width, probed.height, probed.fps) == (640, 480, 15.0)


def test_demo_video_shows_each_person_only_in_their_turn() -> None:
    from face_model import Recognizer

    appearances = timeline(person_seconds=2.0)
    detector = Recognizer.detection_only(threads=1).detector
    found: list[bool] = []
    for t, frame in frames(appearances, duration(appearances), fps=5):
        faces = detector.detect([frame])[0]
        if any(a.start_s <= t < a.start_s + a.seconds for a in appearances):
            found.append(len(faces) == 1)
        else:
            assert not faces, f"a face in the empty room at {t:.1f} s"
    # entering and leaving, part of the face is outside the frame; otherwise one face
    assert sum(found) >= 0.8 * len(found), found


def _outcome(seq: int, *people: tuple[str, float]) -> ClipOutcome:
    return ClipOutcome(
        key=f"clips/d/s/{seq:08d}-1700000000000.mp4",
        seq=seq,
        status="recognized" if people else "no_face",
        result={} if people else None,
        capture_to_result_ms=100.0 * (seq + 1) if people else None,
        people=[PersonInClip(n, sim, "math", "senior") for n, sim in people],
    )


def _summary(*outcomes: ClipOutcome) -> SessionSummary:
    return SessionSummary(
        device_id="d",
        session_id="s",
        bucket="b",
        source="f",
        started_at=0,
        ended_at=1,
        clips_captured=len(outcomes),
        clips_resumed=0,
        clips_uploaded=len(outcomes),
        clips_answered=sum(1 for o in outcomes if o.result is not None),
        clips_dropped=0,
        missing_keys=[o.key for o in outcomes if o.result is None],
        latency_ms=LatencyStats(),
        upload_to_result_ms=LatencyStats(),
        capture_to_upload_ms=LatencyStats(),
        people_seen=[],
        outcomes=list(outcomes),
    )


def test_verdict_is_the_majority_and_ties_go_to_similarity() -> None:
    summary = _summary(
        _outcome(0, ("ann", 0.6)),
        _outcome(1, ("bob", 0.9), ("ann", 0.5)),
        _outcome(2, ("bob", 0.7)),
        _outcome(3),
    )
    got = verdict(summary)
    assert (got.name, got.votes, got.clips, got.answered) == ("bob", 2, 4, 3)
    tie = verdict(_summary(_outcome(0, ("ann", 0.6)), _outcome(1, ("bob", 0.8))))
    assert tie.name == "bob"
    assert verdict(_summary(_outcome(0))).name is None

    report = DemoReport("pretrained", "note", "mobilefacenet", sessions={"v.mp4": summary})
    data = report.to_json()
    assert (data["clips"], data["answered"], data["missing"]) == (4, 3, 1)
    assert data["upload_line"] == "uploaded 4 of 4 clips (gate: motion)"
    assert [clip["seq"] for clip in data["outcomes"]["v.mp4"]] == [0, 1, 2, 3]
    assert data["latency_ms"] == {"median": 200.0, "p95": 290.0, "max": 300.0}
    assert data["videos"]["v.mp4"]["name"] == "bob"
    assert {p["name"]: p["clips"] for p in data["people_seen"]} == {"ann": 2, "bob": 2}
    assert not report.ok
