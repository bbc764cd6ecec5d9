"""The test kit's handler stack: :mod:`rollcall_tools.bench.stack` (which the benchmarks
import without the test kit), plus what only tests do: inject AWS faults, leave or expire a
dead worker's idempotency record, upload a folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse

from rollcall_tools.bench.stack import (
    REGION,
    Delivered,
    Stack,
    body,
    clip_key,
    invoke,
    make_stack,
    queue_arn,
    s3_event,
    s3_record,
    sqs_event,
    subscribe_queue,
    wait_until,
)

__all__ = [
    "REGION",
    "Delivered",
    "Stack",
    "body",
    "clip_key",
    "expire_in_progress",
    "fail_calls",
    "invoke",
    "leave_in_progress",
    "make_stack",
    "queue_arn",
    "s3_event",
    "s3_record",
    "sqs_event",
    "subscribe_queue",
    "throttle",
    "upload_dir",
    "wait_until",
]


_ERROR_BODIES = {
    # protocol -> (body for an error code, content type)
    "json": ('{{"__type": "{code}", "message": "injected"}}', "application/x-amz-json-1.0"),
    "rest-xml": (
        "<?xml version='1.0'?><Error><Code>{code}</Code><Message>injected</Message></Error>",
        "application/xml",
    ),
    "query": (
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        "<Message>injected</Message></Error><RequestId>fault</RequestId></ErrorResponse>",
        "text/xml",
    ),
}


class _Raw:
    """The raw body botocore reads from a response."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def fail_calls(client: Any, operation: str, times: int, code: str, status: int = 400) -> list[int]:
    """Make the next ``times`` HTTP attempts of ``operation`` (e.g. ``GetObject``) on
    ``client`` answer AWS error ``code`` with ``status`` instead of reaching the server.

    The fault replaces the HTTP response, so botocore's retry handler sees it (a throttle
    is retried with backoff; ``AWS_MAX_ATTEMPTS`` bounds the attempts). Returns
    a counter of attempts made.
    """
    protocol = client.meta.service_model.protocol
    template, content_type = _ERROR_BODIES.get(protocol, _ERROR_BODIES["json"])
    service = client.meta.service_model.service_id.hyphenize()
    calls = [0]

    def handler(request: Any, **_: Any) -> Any:
        calls[0] += 1
        if calls[0] > times:
            return None
        body = template.format(code=code).encode()
        headers = {"Content-Type": content_type, "x-amzn-query-error": f"{code};Sender"}
        return AWSResponse(request.url, status, headers, _Raw(body))

    client.meta.events.register(f"before-send.{service}.{operation}", handler)
    return calls


def throttle(client: Any, event: str, times: int, code: str) -> list[int]:
    """Throttle the next ``times`` attempts of ``event`` (``service.Operation``, e.g.
    ``dynamodb.BatchGetItem``) with AWS error ``code``; see :func:`fail_calls`."""
    return fail_calls(client, event.split(".", 1)[1], times, code)


def leave_in_progress(stack: Stack, payload: dict[str, Any], remaining_ms: int) -> None:
    """Write what a worker killed mid-clip leaves behind: an INPROGRESS idempotency record
    for ``payload`` (a ``ClipTask.as_payload()``) expiring ``remaining_ms`` from now."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
    )

    from cloud_handler.answer import KEY_PREFIX

    layer = DynamoDBPersistenceLayer(
        table_name=stack.idempotency_table, boto3_client=stack.dynamodb
    )
    layer.configure(IdempotencyConfig(event_key_jmespath="id"), key_prefix=KEY_PREFIX)
    layer.save_inprogress(data=payload, remaining_time_in_millis=remaining_ms)


def expire_in_progress(stack: Stack) -> int:
    """Move the in-progress expiry of every INPROGRESS idempotency record into the past: a
    dead worker's deadline has passed (the clock advanced, without waiting for it).
    Returns how many records it changed."""
    past_ms = str(int((time.time() - 1) * 1000))
    items = stack.dynamodb.scan(TableName=stack.idempotency_table)["Items"]
    changed = 0
    for item in items:
        if item["status"]["S"] != "INPROGRESS":
            continue
        stack.dynamodb.update_item(
            TableName=stack.idempotency_table,
            Key={"id": item["id"]},
            UpdateExpression="SET in_progress_expiration = :past",
            ExpressionAttributeValues={":past": {"N": past_ms}},
        )
        changed += 1
    return changed


def upload_dir(stack: Stack, directory: Path, prefix: str) -> str:
    """Upload every file under ``directory`` to ``s3://<bucket>/<prefix>/``; returns the URI."""
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(directory).as_posix()}"
        stack.s3.put_object(Bucket=stack.bucket, Key=key, Body=path.read_bytes())
    return f"s3://{stack.bucket}/{prefix}"
