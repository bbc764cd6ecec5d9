"""The answer book's exactly-once accounting."""

from __future__ import annotations

from datetime import UTC, datetime

from rollcall_tools.reliability.book import AnswerBook
from shared_schema import (
    ClipRef,
    ErrorCode,
    ErrorDetail,
    RecognitionResult,
    ResultStatus,
    StageTimings,
)


def _result(key: str, status: ResultStatus = ResultStatus.NO_FACE, total_ms: float = 1) -> str:
    error = None
    if status is ResultStatus.ERROR:
        error = ErrorDetail(code=ErrorCode.CORRUPT_VIDEO, message="bad", stage="decode")
    return RecognitionResult(
        clip=ClipRef(bucket="bucket", key=key, clip=None),
        status=status,
        error=error,
        timings=StageTimings(total_ms=total_ms),
        processed_at=datetime.now(UTC),
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
