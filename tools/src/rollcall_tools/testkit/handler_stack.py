"""Helpers to drive the handler against a local AWS endpoint (tests, benchmark, tools).

Builds S3/SQS event documents the way AWS does and a uniquely named set of resources
on any endpoint (moto server, the embedded local stack).
"""

from __future__ import annotations

import json
import os
import unittest
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3
from botocore.awsrequest import AWSResponse

from shared_schema import RecognitionResult

REGION = "us-east-1"


@dataclass
class Stack:
    """One test's AWS resources on the moto server, plus helpers to drive the handler."""

    endpoint: str
    bucket: str
    results_queue_url: str
    events_queue_url: str
    table: str
    idempotency_table: str
    s3: Any
    sqs: Any
    dynamodb: Any
    env: dict[str, str] = field(default_factory=dict)

    def put(self, key: str, data: bytes) -> dict[str, Any]:
        """Upload ``data`` and return the S3 notification record S3 would send for it."""
        response = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        return s3_record(
            self.bucket,
            key,
            size=len(data),
            etag=response["ETag"].strip('"'),
            version_id=response.get("VersionId"),
        )

    def results(self, wait_s: int = 0) -> list[RecognitionResult]:
        """Drain the results queue."""
        out: list[RecognitionResult] = []
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.results_queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=wait_s if not out else 0,
            )
            messages = response.get("Messages", [])
            if not messages:
                return out
            for message in messages:
                out.append(RecognitionResult.from_message(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.results_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def seed(self, records: list[dict[str, Any]]) -> None:
        """Put student items (resource-API style) into the students table."""
        table = boto3.resource("dynamodb", endpoint_url=self.endpoint, region_name=REGION).Table(
            self.table
        )
        with table.batch_writer() as batch:
            for record in records:
                batch.put_item(Item=record)


def s3_record(
    bucket: str,
    key: str,
    *,
    size: int = 1,
    etag: str = "0" * 32,
    version_id: str | None = None,
    event_name: str = "ObjectCreated:Put",
) -> dict[str, Any]:
    """One record of an S3 event notification, with the key URL-encoded as S3 does."""
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag}
    if version_id:
        obj["versionId"] = version_id
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": "2026-11-24T17:30:00.000Z",
        "eventName": event_name,
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "rollcall-clips",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
    }


def s3_event(*records: dict[str, Any]) -> dict[str, Any]:
    """A direct S3 -> Lambda event."""
    return {"Records": list(records)}


def sqs_event(*bodies: str, receive_count: int = 1) -> dict[str, Any]:
    """An SQS -> Lambda batch event whose records carry ``bodies``."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"handle-{i}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": "1732469400000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1732469400001",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:000000000000:rollcall-events",
                "awsRegion": REGION,
            }
            for i, body in enumerate(bodies)
        ]
    }


def clip_key(seq: int = 0, device: str = "cam1", session: str = "s1") -> str:
    """A valid rollcall clip key."""
    return f"clips/{device}/{session}/{seq:08d}-{1_764_000_000_000 + seq * 500:013d}.mp4"


def make_stack(endpoint: str, *, versioned: bool = False) -> Stack:
    """Create uniquely named resources on the moto server."""
    suffix = uuid.uuid4().hex[:10]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    bucket = f"clips-{suffix}"
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    results = sqs.create_queue(QueueName=f"results-{suffix}")["QueueUrl"]
    events = sqs.create_queue(QueueName=f"events-{suffix}", Attributes={"VisibilityTimeout": "30"})[
        "QueueUrl"
    ]
    table, idem = f"students-{suffix}", f"idempotency-{suffix}"
    for name, key in ((table, "name"), (idem, "id")):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    ddb.update_time_to_live(
        TableName=idem,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )
    stack = Stack(endpoint, bucket, results, events, table, idem, s3, sqs, ddb)
    stack.env = {
        "ROLLCALL_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "ROLLCALL_RESULTS_QUEUE_URL": results,
        "ROLLCALL_TABLE": table,
        "ROLLCALL_IDEMPOTENCY_TABLE": idem,
        "ROLLCALL_AWS_BACKOFF_BASE_S": "0.01",
    }
    return stack


def throttle(client: Any, event: str, times: int, code: str) -> list[int]:
    """Make the next ``times`` calls matching ``event`` (e.g. ``dynamodb.BatchGetItem``)
    fail with AWS error ``code`` before reaching the server. Returns a call counter."""
    calls = [0]

    def handler(**_: Any) -> Any:
        calls[0] += 1
        if calls[0] > times:
            return None
        http = AWSResponse("http://fault", 400, {}, None)
        return http, {
            "Error": {"Code": code, "Message": "injected throttling"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    client.meta.events.register(f"before-call.{event}", handler)
    return calls


def shared_path(var: str, *parts: str) -> Path:
    """A path under a shared folder, or skip the test naming what is missing.

    Raises :class:`unittest.SkipTest`, which pytest reports as a skip with this reason.
    """
    root = os.environ.get(var)
    if not root:
        raise unittest.SkipTest(f"{var} is not set: real third-party data/weights are absent")
    path = Path(root, *parts)
    if not path.exists():
        raise unittest.SkipTest(f"{path} does not exist ({var}={root})")
    return path


def body(event: dict[str, Any]) -> str:
    """An S3 notification as an SQS message body."""
    return json.dumps(event)


def leave_in_progress(stack: Stack, payload: dict[str, Any], remaining_ms: int) -> None:
    """Write what a worker killed mid-clip leaves behind: an INPROGRESS idempotency record
    for ``payload`` (a ``ClipTask.as_payload()``) expiring ``remaining_ms`` from now."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
    )

    layer = DynamoDBPersistenceLayer(
        table_name=stack.idempotency_table, boto3_client=stack.dynamodb
    )
    layer.configure(IdempotencyConfig(event_key_jmespath="id"), key_prefix="rollcall-clip")
    layer.save_inprogress(data=payload, remaining_time_in_millis=remaining_ms)


def upload_dir(stack: Stack, directory: Path, prefix: str) -> str:
    """Upload every file under ``directory`` to ``s3://<bucket>/<prefix>/``; returns the URI."""
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(directory).as_posix()}"
        stack.s3.put_object(Bucket=stack.bucket, Key=key, Body=path.read_bytes())
    return f"s3://{stack.bucket}/{prefix}"
