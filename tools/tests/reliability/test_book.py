"""The answer book's exactly-once accounting."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from rollcall_tools.reliability.book import AnswerBook
from shared_schema import (
    ClipRef,
    ErrorCode,
    ErrorDetail,
    RecognitionResult,
    ResultStatus,
    StageTimings,
)

_COMPUTED = itertools.count()
"""Each result another computation: its own processed_at (messages carry milliseconds)."""


def _result(key: str, status: ResultStatus = ResultStatus.NO_FACE, total_ms: float = 1) -> str:
    error = None
    if status is ResultStatus.ERROR:
        error = ErrorDetail(code=ErrorCode.CORRUPT_VIDEO, message="bad", stage="decode")
    return RecognitionResult(
        clip=ClipRef(bucket="bucket", key=key, clip=None),
        status=status,
        error=error,
        timings=StageTimings(total_ms=total_ms),
        processed_at=datetime.now(UTC) + timedelta(seconds=next(_COMPUTED)),
    ).to_message()


def test_verdict_counts_lost_duplicates_conflicts_and_strangers() -> None:
    book = AnswerBook()
    book.add_message(_result("a"))
    book.add_message(_result("b"))
    book.add_message(_result("b", total_ms=9))  # same answer, other timing: a duplicate
    book.add_message(_result("c"))
    book.add_message(_result("c", ResultStatus.ERROR))  # a different answer
    book.add_message(_result("z"))
    assert book.add_message("{not json") is None
    verdict = book.verdict(["a", "b", "c", "d"])
    assert verdict.clips == 4
    assert verdict.answered_once == 1
    assert verdict.lost == 1 and verdict.lost_keys == ["d"]
    assert verdict.duplicates == 2 and verdict.duplicate_keys == ["b", "c"]
    assert verdict.conflicting == 1
    assert verdict.unexpected == 1
    assert verdict.malformed == 1
    assert not verdict.ok


def test_all_answered_once_is_ok_and_wait_for_returns() -> None:
    book = AnswerBook()
    for key in ("a", "b"):
        book.add_message(_result(key))
    assert book.wait_for(["a", "b"], 0)  # answered already: no wait
    assert not book.wait_for(["a", "x"], 0)
    verdict = book.verdict(["a", "b"])
    assert verdict.ok and verdict.to_json()["answered_once"] == 2


def test_re_uploaded_keys_count_each_upload_since_the_scenario_began() -> None:
    """The re-upload scenario's accounting on 2 keys uploaded twice: an answer from before
    the scenario does not count; a third answer for a key is a duplicate."""
    book = AnswerBook()
    book.add_message(_result("test_0.mp4"), received_at=100.0)  # an earlier run's answer
    for key in ("test_0.mp4", "test_1.mp4"):
        book.add_message(_result(key), received_at=200.0)
    assert book.wait_for(["test_0.mp4", "test_1.mp4"], 0, since=150.0)
    assert not book.wait_for(["test_0.mp4", "test_1.mp4"], 0, per_key=2, since=150.0)
    half = book.verdict(["test_0.mp4", "test_1.mp4"], per_key=2, since=150.0)
    assert (half.clips, half.answered_once, half.lost) == (4, 2, 2) and not half.ok
    for key in ("test_0.mp4", "test_1.mp4"):
        book.add_message(_result(key), received_at=300.0)
    done = book.verdict(["test_0.mp4", "test_1.mp4"], per_key=2, since=150.0)
    assert done.ok and (done.clips, done.answered_once, done.duplicates) == (4, 4, 0)
    book.add_message(_result("test_1.mp4"), received_at=400.0)
    extra = book.verdict(["test_0.mp4", "test_1.mp4"], per_key=2, since=150.0)
    assert extra.duplicates == 1 and extra.duplicate_keys == ["test_1.mp4"] and not extra.ok


def test_one_publish_sent_twice_is_republished_not_a_second_answer() -> None:
    """A publish whose response a cut connection lost is retried by botocore: the same
    message twice (one computation) is counted apart from a clip computed again."""
    book = AnswerBook()
    message = _result("a")
    book.add_message(message)
    book.add_message(message)
    book.add_message(_result("b"))
    book.add_message(_result("b"))  # computed again (another processed_at): a duplicate
    verdict = book.verdict(["a", "b"])
    assert (verdict.republished, verdict.duplicates, verdict.duplicate_keys) == (1, 1, ["b"])
    assert verdict.answered_once == 1 and not verdict.ok
    assert verdict.to_json()["republished"] == 1
