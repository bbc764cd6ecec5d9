"""Follow a results route: receive results from its queue, hand each one over, delete it.

Used by ``tools results``. A message that is not a valid result is reported once and left
on the queue, so that the queue's redrive policy moves it to the dead-letter queue.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared_schema import RecognitionResult, ResultStatus

MAX_POLL_S = 20
"""SQS's longest long poll."""
Clock = Callable[[], float]


@dataclass(frozen=True)
class ResultLine:
    """One result as ``tools results`` shows it: the object and the people recognized."""

    key: str
    bucket: str
    device: str | None
    route: str
    status: str
    people: list[dict[str, Any]]
    unknown_faces: int
    error: dict[str, str] | None
    frames_sampled: int
    handler_ms: float
    processed_at: str
    received_at: str

    @classmethod
    def of(cls, result: RecognitionResult, route: str | None, received_at: float) -> ResultLine:
        clip = result.clip.clip
        people = [
            {
                "name": face.identity,
                "major": face.record.major if face.record else None,
                "year": face.record.year if face.record else None,
                "similarity": round(face.similarity, 4),
            }
            for face in result.faces
            if face.identity is not None
        ]
        error = (
            {"code": result.error.code.value, "message": result.error.message}
            if result.status is ResultStatus.ERROR and result.error
            else None
        )
        return cls(
            key=result.clip.key,
            bucket=result.clip.bucket,
            device=clip.device_id if clip else None,
            route=route or ("device" if clip else "foreign"),
            status=result.status.value,
            people=people,
            unknown_faces=sum(1 for face in result.faces if face.identity is None),
            error=error,
            frames_sampled=result.frames_sampled,
            handler_ms=result.timings.total_ms,
            processed_at=result.processed_at.isoformat(),
            received_at=datetime.fromtimestamp(received_at, UTC).isoformat(timespec="milliseconds"),
        )

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class FollowStats:
    """What one follow saw."""

    results: int = 0
    malformed_ids: set[str] = field(default_factory=set)


@dataclass
class Follower:
    """Long-poll ``queue_url`` until ``count`` results or ``timeout_s``.

    ``clock`` measures the timeout (tests inject one); ``poll_s`` bounds each long poll.
    """

    sqs: Any
    queue_url: str
    clock: Clock = time.monotonic
    poll_s: int = MAX_POLL_S
    stats: FollowStats = field(default_factory=FollowStats)

    def follow(
        self,
        on_result: Callable[[ResultLine], None],
        *,
        on_malformed: Callable[[str, str], None] = lambda _id, _why: None,
        timeout_s: float | None = None,
        count: int | None = None,
    ) -> FollowStats:
        """Receive, hand over (``on_result``), then delete each result; returns the stats."""
        deadline = None if timeout_s is None else self.clock() + timeout_s
        while count is None or self.stats.results < count:
            wait = self.poll_s
            if deadline is not None:
                remaining = deadline - self.clock()
                if remaining <= 0:
                    break
                wait = min(wait, math.ceil(remaining))
            wanted = 10 if count is None else max(1, min(10, count - self.stats.results))
            reply = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=wanted,
                WaitTimeSeconds=wait,
                MessageAttributeNames=["All"],
            )
            self._handle(reply.get("Messages", []), on_result, on_malformed)
        return self.stats

    def _handle(
        self,
        messages: list[dict[str, Any]],
        on_result: Callable[[ResultLine], None],
        on_malformed: Callable[[str, str], None],
    ) -> None:
        done: list[dict[str, Any]] = []
        received_at = time.time()
        for message in messages:
            message_id = str(message.get("MessageId", ""))
            try:
                result = RecognitionResult.from_message(message.get("Body", ""))
            except ValueError as exc:  # pydantic.ValidationError is a ValueError
                if message_id not in self.stats.malformed_ids:
                    self.stats.malformed_ids.add(message_id)
                    on_malformed(message_id, str(exc).splitlines()[0][:200])
                continue
            route = message.get("MessageAttributes", {}).get("route", {}).get("StringValue")
            on_result(ResultLine.of(result, route, received_at))
            self.stats.results += 1
            done.append(message)
        if done:
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
            ]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
