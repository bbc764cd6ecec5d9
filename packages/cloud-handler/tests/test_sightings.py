"""Sightings are recorded in the idempotent answering step: one clip item and one item per
person recognized; a duplicate delivery, or a retry after a failed publish, adds none; a
whole video (not a rollcall clip key) leaves none."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from cloud_handler.runtime import get_runtime
from rollcall_testkit.handler_stack import (
    Stack,
    body,
    clip_key,
    invoke,
    s3_event,
    sqs_event,
    throttle,
)
from shared_schema import ResultStatus
from shared_schema.sighting import from_clip_item, from_person_item

pytestmark = [pytest.mark.slow]

run = partial(invoke, timeout_s=60)


def _items(stack: Stack) -> list[dict[str, Any]]:
    # a test may Scan: the tools never do
    return stack.dynamodb.scan(TableName=stack.sightings_table)["Items"]


def test_a_recognized_clip_is_recorded_once(
    stack: Stack,
    clip_bytes: Callable[..., bytes],
    monkeypatch: pytest.MonkeyPatch,
    astronaut_artifact: Path,
) -> None:
    monkeypatch.setenv("ROLLCALL_MODEL_DIR", str(astronaut_artifact))
    monkeypatch.setenv("ROLLCALL_SIGHTINGS_RETENTION_DAYS", "30")
    get_runtime.cache_clear()
    key = clip_key(40, device="lab-1", session="class-1")
    record = stack.put(key, clip_bytes(640, 480, faces=1))
    message = body(s3_event(record))
    # the first publish fails for good: the step fails before its record completes, the
    # redelivery writes the same items again (same keys) and publishes
    throttle(get_runtime().sns, "sns.Publish", 3, "Throttling")  # botocore's 3 attempts
    first = sqs_event(message)
    failed = [{"itemIdentifier": first["Records"][0]["messageId"]}]
    assert run(first) == {"batchItemFailures": failed}
    assert _items(stack), "written before the publish failed"
    assert run(sqs_event(message, receive_count=2)) == {"batchItemFailures": []}
    assert run(sqs_event(message, receive_count=3)) == {"batchItemFailures": []}  # a duplicate
    [result] = stack.results()
    assert result.status is ResultStatus.RECOGNIZED
    items = _items(stack)
    assert len(items) == 2  # the clip's item and Eileen's, each once
    clip = next(i for i in items if "people" in i)
    person = next(i for i in items if i["pk"]["S"] == "@eileen_collins")
    [seen] = from_clip_item(clip)
    assert (seen.device_id, seen.session_id, seen.seq) == ("lab-1", "class-1", 40)
    assert seen.person == "eileen_collins" and seen.key == key
    assert from_person_item(person) == seen
    start_s = seen.start_ms // 1000
    assert int(clip["expires"]["N"]) == start_s + 30 * 86_400  # the deploy's retention


def test_no_face_clips_and_whole_videos_leave_no_sightings(
    stack: Stack, clip_bytes: Callable[..., bytes]
) -> None:
    empty = stack.put(clip_key(41), clip_bytes(320, 240, faces=0))
    video = stack.put("uploads/lecture.mp4", clip_bytes(640, 480, faces=1))
    assert invoke(sqs_event(body(s3_event(empty)), body(s3_event(video)))) == {
        "batchItemFailures": []
    }
    statuses = {r.clip.key: r.status for r in stack.results()}
    assert statuses[clip_key(41)] is ResultStatus.NO_FACE
    assert statuses["uploads/lecture.mp4"] is ResultStatus.UNKNOWN  # detection only: a face
    assert _items(stack) == []  # a foreign object has no device, session or capture time
