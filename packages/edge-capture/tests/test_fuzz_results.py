"""Fuzz the edge's results handling with mutated RecognitionResult messages: every message is
either matched to its clip, left for its owner, or counted as malformed; nothing raises, and
a message the contract refuses (unknown schema version, bad field) is never recorded."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_capture.config import EdgeConfig
from edge_capture.ledger import Ledger
from edge_capture.results import ResultsPoller
from edge_capture.spool import SpoolEntry
from shared_schema import (
    ClipId,
    ClipRef,
    RecognitionResult,
    ResultStatus,
    format_key,
)
from shared_schema_strategies import recognition_results

CAPTURED = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
KEY = format_key(ClipId(device_id="dev", session_id="s1", seq=0, captured_at=CAPTURED))


@pytest.fixture(scope="module")
def spool_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def _poller(spool_dir: Path) -> tuple[ResultsPoller, Ledger]:
    config = EdgeConfig(
        bucket="clips-bucket",
        results_queue="results",
        device_id="dev",
        session_id="s1",
        spool_dir=spool_dir,
    )
    ledger = Ledger(config)
    path = spool_dir / KEY
    ledger.add(
        SpoolEntry(KEY, path, path.with_suffix(".json"), 100, time.time()),
        resumed=False,
        seq=0,
    )
    poller = ResultsPoller(None, "http://unused", ledger, device_id="dev", session_id="s1")
    return poller, ledger


def _ours(result: RecognitionResult) -> RecognitionResult:
    """The same result, about this session's clip."""
    clip = ClipId(device_id="dev", session_id="s1", seq=0, captured_at=CAPTURED)
    return result.model_copy(update={"clip": ClipRef(bucket="clips-bucket", key=KEY, clip=clip)})


@st.composite
def mutated(draw: st.DrawFn) -> str | bytes:
    body = _ours(draw(recognition_results())).to_message()
    how = draw(st.sampled_from(["truncate", "flip", "schema", "drop", "extra", "retype", "bytes"]))
    if how == "truncate":
        return body[: draw(st.integers(0, max(0, len(body) - 1)))]
    if how == "flip":
        i = draw(st.integers(0, len(body) - 1))
        return body[:i] + draw(st.characters()) + body[i + 1 :]
    if how == "bytes":
        return draw(st.binary(max_size=512))
    data: dict[str, Any] = json.loads(body)
    if how == "schema":
        data["schema_version"] = draw(st.integers().filter(lambda v: v != 1) | st.text(max_size=5))
    elif how == "drop":
        data.pop(draw(st.sampled_from(sorted(data))))
    elif how == "extra":
        data[draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in data))] = 1
    else:
        data[draw(st.sampled_from(sorted(data)))] = draw(
            st.none() | st.integers() | st.text(max_size=10) | st.lists(st.integers(), max_size=2)
        )
    return json.dumps(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=mutated())
def test_mutated_results_never_raise_and_invalid_ones_are_never_recorded(
    spool_dir: Path, body: str | bytes
) -> None:
    poller, ledger = _poller(spool_dir)
    try:
        valid: RecognitionResult | None = RecognitionResult.from_message(body)
    except ValueError:
        valid = None
    delete = poller.handle({"MessageId": "m1", "Body": body, "ReceiptHandle": "r"}, time.time())
    assert isinstance(delete, bool)
    outcome = ledger.outcomes()[0]
    if valid is None:
        assert delete is False, "an invalid message must stay on the queue for its DLQ"
        assert outcome.status == "missing"
        assert ledger.summary().malformed_results == 1
    elif valid.clip.key == KEY:
        assert delete is True
        assert outcome.status == valid.status.value


def test_a_newer_schema_version_is_refused_not_recorded(spool_dir: Path) -> None:
    poller, ledger = _poller(spool_dir)
    good = RecognitionResult(
        clip=ClipRef(bucket="clips-bucket", key=KEY, clip=None),
        status=ResultStatus.NO_FACE,
        processed_at=CAPTURED,
    )
    data = json.loads(good.to_message())
    data["schema_version"] = 2
    assert poller.handle({"MessageId": "v2", "Body": json.dumps(data)}, time.time()) is False
    assert ledger.outcomes()[0].status == "missing"
    # the same result in the version we read is matched, and a second copy is a duplicate
    assert poller.handle({"MessageId": "v1", "Body": good.to_message()}, time.time()) is True
    assert poller.handle({"MessageId": "v1b", "Body": good.to_message()}, time.time()) is True
    summary = ledger.summary()
    assert summary.clips_answered == 1
    assert summary.duplicate_results == 1
    assert summary.malformed_results == 1
