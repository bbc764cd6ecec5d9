"""Is the local runner answering? Send one tiny real clip through the stack and wait for its
result (this also warms the runner's model before the first real clip)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from rollcall_tools.aws import AwsTarget, aws_errors
from rollcall_tools.clips import make_clip
from rollcall_tools.errors import ServiceUnreachableError
from rollcall_tools.local.processes import log_tail
from rollcall_tools.local.state import LocalState
from shared_schema import ClipId, RecognitionResult

PROBE_DEVICE = "probe"


def probe_clip() -> bytes:
    """A valid 64x64 H.264 clip of a room with no face, as edge-capture encodes one."""
    return make_clip(64, 64, faces=0, duration_s=0.5, fps=10)


def wait_until_answering(state: LocalState, results_queue: str, timeout_s: float = 180.0) -> float:
    """Upload a probe clip of device :data:`PROBE_DEVICE`, wait for its result on that
    device's ``results_queue`` (registered by the caller), delete it.

    Returns the seconds it took. Raises ServiceUnreachableError when the runner dies or does
    not answer within ``timeout_s``.
    """
    target = AwsTarget(region=state.region, endpoint_url=state.endpoint_url)
    s3, sqs = target.client("s3"), target.client("sqs")
    clip = ClipId(
        device_id=PROBE_DEVICE,
        session_id=uuid.uuid4().hex[:12],
        seq=0,
        captured_at=datetime.now(UTC),
    )
    with aws_errors("sending a probe clip to the local stack"):
        return _probe(state, (s3, sqs), clip, results_queue, timeout_s=timeout_s)


def _probe(
    state: LocalState,
    clients: tuple[Any, Any],
    clip: ClipId,
    results_queue: str,
    *,
    timeout_s: float,
) -> float:
    s3, sqs = clients
    start = time.monotonic()
    s3.put_object(
        Bucket=state.outputs["bucket"],
        Key=clip.key,
        Body=probe_clip(),
        ContentType="video/mp4",
    )
    url = sqs.get_queue_url(QueueName=results_queue)["QueueUrl"]
    while time.monotonic() - start < timeout_s:
        if state.runner is not None and not state.runner.alive:
            raise ServiceUnreachableError(
                "the local runner (cloud-handler serve) exited: " + log_tail(state.runner.log, 5)
            )
        reply = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=0
        )
        for message in reply.get("Messages", []):
            try:
                result = RecognitionResult.from_message(message["Body"])
            except ValueError:
                continue
            if result.clip.key == clip.key:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                return time.monotonic() - start
    raise ServiceUnreachableError(
        f"the local runner did not answer a probe clip within {timeout_s:.0f} s"
        + (f": {log_tail(state.runner.log, 3)}" if state.runner else "")
    )
