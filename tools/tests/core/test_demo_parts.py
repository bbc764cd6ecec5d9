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
from rollcall_tools.demo.roster import DEMO_PERSON
from rollcall_tools.demo.video import write_demo_video
from rollcall_tools.errors import ConfigError


def test_no_weights_offline_is_detection_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert recognizer.facenet_cached_weights().is_relative_to(tmp_path / "torch" / "checkpoints")
    monkeypatch.setattr(recognizer, "online", lambda: pytest.fail("must not probe the network"))
    choice = recognizer.choose_recognizer(
        backbone=None,
        weights=None,
        people={"x": [tmp_path / "x.png"]},
        work_dir=tmp_path,
        allow_download=False,
    )
    assert choice.mode == "detection-only"
    assert choice.artifact_dir is None
    assert "DETECTION ONLY" in choice.note
    assert "\n" not in choice.note


def test_weights_need_a_backbone_and_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--weights needs --backbone"):
        recognizer.choose_recognizer(
            backbone=None,
            weights=tmp_path / "w.ckpt",
            people={"x": []},
            work_dir=tmp_path,
            allow_download=False,
        )
    with pytest.raises(ConfigError, match="no such file"):
        recognizer.build_artifact("mobilefacenet", tmp_path / "w.ckpt", {"x": []}, tmp_path)


def test_inputs_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--videos needs --roster"):
        resolve_inputs(tmp_path, videos=tmp_path, roster=None, gallery=None, seconds=1)
    with pytest.raises(ConfigError, match="go with --videos"):
        resolve_inputs(tmp_path, videos=None, roster=tmp_path / "r.json", gallery=None, seconds=1)
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
        resolve_inputs(tmp_path, videos=tmp_path, roster=roster, gallery=None, seconds=1)


@pytest.mark.slow
def test_bundled_demo_inputs(tmp_path: Path) -> None:
    inputs = resolve_inputs(tmp_path, videos=None, roster=None, gallery=None, seconds=2)
    assert inputs.roster == [DEMO_PERSON]
    assert list(inputs.gallery) == [DEMO_PERSON.name]
    (video,) = inputs.videos
    with av.open(str(video.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 480)
        assert sum(1 for _ in container.decode(stream)) == 30
    big = write_demo_video(tmp_path / "big" / "b.mp4", seconds=1)
    (probed,) = list_videos(big.parent)
    assert (probed.width, probed.height, probed.fps) == (640, 480, 15.0)


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

    report = DemoReport("pretrained", "note", "mobilefacenet", {"v.mp4": summary})
    data = report.to_json()
    assert (data["clips"], data["answered"], data["missing"]) == (4, 3, 1)
    assert data["latency_ms"] == {"median": 200.0, "p95": 290.0, "max": 300.0}
    assert data["videos"]["v.mp4"]["name"] == "bob"
    assert {p["name"]: p["clips"] for p in data["people_seen"]} == {"ann": 2, "bob": 2}
    assert not report.ok
