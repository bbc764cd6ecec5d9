"""Recognition with real artifacts of the default recognizer (dlib's ResNet, built in).

Artifacts are built once per session through face_model's API: the astronaut enrolled
from skimage's photo, and (with ../shared) the 8 CSE 546 people from their gallery/ frames.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import rollcall_testkit as testkit
from cloud_handler.runtime import get_runtime
from rollcall_testkit.handler_stack import (
    Stack,
    body,
    clip_key,
    fail_calls,
    invoke,
    s3_event,
    sqs_event,
    throttle,
    upload_dir,
)
from shared_schema import ErrorCode, RecordLookup, ResultStatus, load_student_seed

pytestmark = [pytest.mark.slow]


def _use(monkeypatch: pytest.MonkeyPatch, artifact: Path) -> None:
    monkeypatch.setenv("ROLLCALL_MODEL_DIR", str(artifact))
    get_runtime.cache_clear()


run = partial(invoke, timeout_s=60)
"""The handler, with a real model's longer deadline."""


def test_astronaut_recognized_with_record(
    stack: Stack,
    clip_bytes: Callable[..., bytes],
    monkeypatch: pytest.MonkeyPatch,
    astronaut_artifact: Path,
) -> None:
    _use(monkeypatch, astronaut_artifact)
    stack.seed([{"name": "eileen_collins", "major": "astronautics", "year": "senior", "id": 7}])
    record = stack.put(clip_key(30), clip_bytes(1280, 720, faces=1))
    # the first lookup is throttled twice: botocore retries it with backoff, then it is served
    calls = throttle(get_runtime().dynamodb, "dynamodb.BatchGetItem", 2, "ThrottlingException")
    assert run(sqs_event(body(s3_event(record)))) == {"batchItemFailures": []}
    assert calls[0] == 3
    [result] = stack.results()
    assert result.status is ResultStatus.RECOGNIZED
    assert (
        result.model is not None
        and result.model.pretrained
        and result.model.backbone == "dlib-resnet-v1"
    )
    [face] = result.faces
    assert face.identity == "eileen_collins"
    assert face.similarity > 0.6
    assert face.lookup is RecordLookup.FOUND
    assert face.record is not None and face.record.major == "astronautics" and face.record.id == 7
    assert result.timings.embed_ms > 0 and result.timings.lookup_ms > 0
    # a second clip is served from the warm record cache: no DynamoDB call at all
    again = stack.put(clip_key(31), clip_bytes(1280, 720, faces=1))
    run(sqs_event(body(s3_event(again))))
    assert calls[0] == 3
    assert stack.results()[0].faces[0].record == face.record


def test_a_whole_video_is_answered_by_its_first_moment(
    stack: Stack,
    clip_bytes: Callable[..., bytes],
    monkeypatch: pytest.MonkeyPatch,
    astronaut_artifact: Path,
    logs: list[dict[str, Any]],
) -> None:
    """A 2 s video under its own name: its first 2 frames name her, well above the
    threshold (sampling.SURE_ABOVE), so the vote is decided there and nothing later is
    decoded."""
    _use(monkeypatch, astronaut_artifact)
    stack.seed([{"name": "eileen_collins", "major": "astronautics", "year": "senior"}])
    record = stack.put("lectures/talk.mp4", clip_bytes(1280, 720, faces=1, duration_s=2.0))
    assert run(sqs_event(body(s3_event(record)))) == {"batchItemFailures": []}
    [result] = stack.results()
    assert result.status is ResultStatus.RECOGNIZED
    assert result.frames_sampled == 2
    [face] = result.faces
    assert face.identity == "eileen_collins" and face.votes == 2
    assert face.frame_time_ms <= 200
    assert 400 < face.box.x1 < face.box.x2 < 900  # the 1280-wide frame's pixels, not the copy's
    [line] = [line for line in logs if line["message"] == "clip processed"]
    assert line["notes"] == ["the vote was decided after 2 of 8 frames"]


def test_record_missing_stays_recognized(
    stack: Stack,
    clip_bytes: Callable[..., bytes],
    monkeypatch: pytest.MonkeyPatch,
    astronaut_artifact: Path,
    logs: list[dict[str, Any]],
) -> None:
    # this one loads the artifact from S3 (ROLLCALL_MODEL_S3_URI) instead of a directory
    monkeypatch.setenv("ROLLCALL_MODEL_S3_URI", upload_dir(stack, astronaut_artifact, "m/a1"))
    monkeypatch.setenv("ROLLCALL_MODEL_CACHE", str(astronaut_artifact.parent / "s3-cache"))
    get_runtime.cache_clear()
    assert get_runtime().model.pretrained
    record = stack.put(clip_key(32), clip_bytes(640, 480, faces=1))
    run(sqs_event(body(s3_event(record))))
    [result] = stack.results()
    assert result.status is ResultStatus.RECOGNIZED
    [face] = result.faces
    assert face.identity == "eileen_collins"
    assert face.lookup is RecordLookup.MISSING and face.record is None
    [warning] = [line for line in logs if "no record" in line["message"]]
    assert warning["names"] == ["eileen_collins"]
    assert warning["correlation_id"] == clip_key(32)


def test_lookup_throttled_until_redelivery(
    stack: Stack,
    clip_bytes: Callable[..., bytes],
    monkeypatch: pytest.MonkeyPatch,
    astronaut_artifact: Path,
) -> None:
    _use(monkeypatch, astronaut_artifact)
    stack.seed([{"name": "eileen_collins", "major": "astronautics", "year": "senior"}])
    record = stack.put(clip_key(33), clip_bytes(640, 480, faces=1))
    calls = throttle(
        get_runtime().dynamodb,
        "dynamodb.BatchGetItem",
        4,
        "ProvisionedThroughputExceededException",
    )
    event = sqs_event(body(s3_event(record)))
    assert len(run(event)["batchItemFailures"]) == 1
    assert calls[0] == 3  # AWS_MAX_ATTEMPTS (the test stack)
    assert not stack.results()
    assert run(sqs_event(body(s3_event(record)), receive_count=2)) == {"batchItemFailures": []}
    [result] = stack.results()
    assert result.faces[0].lookup is RecordLookup.FOUND
    assert result.attempt == 2


def test_a_refused_lookup_is_access_denied(
    stack: Stack,
    clip_bytes: Callable[..., bytes],
    monkeypatch: pytest.MonkeyPatch,
    astronaut_artifact: Path,
) -> None:
    _use(monkeypatch, astronaut_artifact)
    record = stack.put(clip_key(34), clip_bytes(640, 480, faces=1))
    fail_calls(get_runtime().dynamodb, "BatchGetItem", 1, "AccessDeniedException")
    assert run(sqs_event(body(s3_event(record)))) == {"batchItemFailures": []}
    [result] = stack.results()
    assert result.error is not None
    assert (result.error.code, result.error.stage) == (ErrorCode.ACCESS_DENIED, "lookup")


def _cse546(stack: Stack, monkeypatch: pytest.MonkeyPatch, artifact: Path) -> list[dict[str, str]]:
    """The course's seed in the students table, the gallery's artifact served; expected.csv."""
    root = testkit.shared_data("cse546-videos")
    seed = load_student_seed(root / "student_data.json")
    assert seed.ok
    stack.seed([r.to_item() for r in seed.records])
    _use(monkeypatch, artifact)
    with (root / "expected.csv").open() as handle:
        expected = list(csv.DictReader(handle))
    assert len(expected) == 8
    return expected


@pytest.mark.shared_data
def test_cse546_videos_uploaded_under_their_own_names(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, cse546_artifact: Path
) -> None:
    """The course's workload generator: ``s3.upload_file(path, bucket, "test_0.mp4")`` at the
    bucket root. S3's own notifications reach the events queue; each video is answered
    once, as a whole video, on the foreign route, naming the right person and record."""
    expected = _cse546(stack, monkeypatch, cse546_artifact)
    videos = testkit.shared_data("cse546-videos", "videos")
    stack.notify_events()
    for row in expected:
        stack.s3.upload_file(str(videos / row["video"]), stack.bucket, row["video"])
    event = stack.received_events(len(expected))
    assert len(event["Records"]) == len(expected)
    assert run(event) == {"batchItemFailures": []}
    delivered = {d.result.clip.key: d for d in stack.deliveries()}
    assert set(delivered) == {row["video"] for row in expected}
    for row in expected:
        result = delivered[row["video"]].result
        assert delivered[row["video"]].attributes == {"route": "foreign"}
        assert result.clip.clip is None and result.clip.bucket == stack.bucket
        assert result.status is ResultStatus.RECOGNIZED, (row["video"], result.error)
        # answered by the first moment once it names the same people in each of its frames
        # (2 where each is named well above the threshold: sampling.SURE_ABOVE)
        assert 2 <= result.frames_sampled <= 8  # sampling.VIDEO_FRAMES
        assert result.faces[0].frame_time_ms < 300 or result.frames_sampled > 3
        named = [f for f in result.faces if f.identity is not None]
        assert [f.identity for f in named] == [row["name"]], row["video"]
        record = named[0].record
        assert record is not None, row["video"]
        assert (record.major, record.year) == (row["major"], row["year"]), row["video"]


@pytest.mark.shared_data
def test_cse546_clips_each_recognized_with_their_record(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, cse546_artifact: Path
) -> None:
    """The same videos uploaded by a device under rollcall clip keys: 3 frames each."""
    expected = _cse546(stack, monkeypatch, cse546_artifact)
    root = testkit.shared_data("cse546-videos")
    keys: dict[str, dict[str, str]] = {}
    records = []
    for seq, row in enumerate(expected):
        key = clip_key(seq, device="cse546", session="test")
        keys[key] = row
        records.append(stack.put(key, (root / "videos" / row["video"]).read_bytes()))
    event = sqs_event(*(body(s3_event(r)) for r in records))
    assert run(event) == {"batchItemFailures": []}
    results = {r.clip.key: r for r in stack.results()}
    assert set(results) == set(keys)
    for key, row in keys.items():
        result = results[key]
        assert result.status is ResultStatus.RECOGNIZED, (row["video"], result.error)
        named = [f for f in result.faces if f.identity is not None]
        assert [f.identity for f in named] == [row["name"]], row["video"]
        record = named[0].record
        assert record is not None, row["video"]
        assert (record.major, record.year) == (row["major"], row["year"]), row["video"]
