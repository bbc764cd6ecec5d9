"""Drive the handler against a local AWS endpoint (the benchmarks; the test kit builds on it).

Builds S3/SQS event documents the way AWS does and a uniquely named set of resources on
any endpoint (moto server, the embedded local stack): a bucket, the events queue, the
results topic with a results queue subscribed to all of it (raw message delivery), and
the students and idempotency tables.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import boto3

from rollcall_tools.stack.sightings import table_definition as sightings_table
from shared_schema import RecognitionResult

REGION = "us-east-1"


@dataclass(frozen=True)
class Delivered:
    """One result as a subscribed queue received it: the result and its message attributes."""

    result: RecognitionResult
    attributes: dict[str, str]


@dataclass
class Stack:
    """One test's AWS resources on the moto server, plus helpers to drive the handler."""

    endpoint: str
    bucket: str
    topic_arn: str
    results_queue_url: str
    """Subscribed to the whole results topic (no filter), raw message delivery."""
    events_queue_url: str
    table: str
    idempotency_table: str
    sightings_table: str
    s3: Any
    sqs: Any
    sns: Any
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

    def subscribe(self, filter_policy: dict[str, list[str]] | None = None) -> str:
        """A new queue subscribed to the results topic (raw delivery, ``filter_policy`` on
        message attributes); returns its URL."""
        url = str(self.sqs.create_queue(QueueName=f"sub-{uuid.uuid4().hex[:12]}")["QueueUrl"])
        subscribe_queue(self.sns, self.sqs, self.topic_arn, url, filter_policy)
        return url

    def deliveries(self, queue_url: str | None = None, wait_s: int = 0) -> list[Delivered]:
        """Drain a subscribed queue (default: the results queue): results and attributes."""
        url = queue_url or self.results_queue_url
        out: list[Delivered] = []
        while True:
            response = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=wait_s if not out else 0,
                MessageAttributeNames=["All"],
            )
            messages = response.get("Messages", [])
            if not messages:
                return out
            for message in messages:
                attributes = {
                    name: value["StringValue"]
                    for name, value in message.get("MessageAttributes", {}).items()
                }
                out.append(Delivered(RecognitionResult.from_message(message["Body"]), attributes))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def results(self, wait_s: int = 0, queue_url: str | None = None) -> list[RecognitionResult]:
        """Drain a subscribed queue (default: the results queue): the results only."""
        return [d.result for d in self.deliveries(queue_url, wait_s)]

    def notify_events(self) -> None:
        """Have the bucket notify the events queue of every object created (as deploy does);
        S3's own ``s3:TestEvent`` that this sends is removed from the queue."""
        arn = queue_arn(self.sqs, self.events_queue_url)
        self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        self.sqs.purge_queue(QueueUrl=self.events_queue_url)

    def received_events(self, expected: int, timeout_s: float = 30) -> dict[str, Any]:
        """The Lambda SQS event of ``expected`` messages received from the events queue
        (what the event source mapping would pass); their receipt is not deleted."""
        from cloud_handler.local_runner import to_lambda_event

        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while len(messages) < expected and time.monotonic() < deadline:
            response = self.sqs.receive_message(
                QueueUrl=self.events_queue_url,
                MaxNumberOfMessages=min(10, expected - len(messages)),
                WaitTimeSeconds=1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages.extend(response.get("Messages", []))
        arn = queue_arn(self.sqs, self.events_queue_url)
        return to_lambda_event(messages, arn, REGION)

    def seed(self, records: list[dict[str, Any]]) -> None:
        """Put student items (resource-API style) into the students table."""
        table = boto3.resource("dynamodb", endpoint_url=self.endpoint, region_name=REGION).Table(
            self.table
        )
        with table.batch_writer() as batch:
            for record in records:
                batch.put_item(Item=record)


def queue_arn(sqs: Any, url: str) -> str:
    """The ARN of the queue at ``url``."""
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def subscribe_queue(
    sns: Any,
    sqs: Any,
    topic_arn: str,
    queue_url: str,
    filter_policy: dict[str, list[str]] | None = None,
) -> str:
    """Subscribe a queue to a topic with raw message delivery (and a filter policy on
    message attributes); returns the subscription ARN."""
    attributes = {"RawMessageDelivery": "true"}
    if filter_policy is not None:
        attributes["FilterPolicy"] = json.dumps(filter_policy)
        attributes["FilterPolicyScope"] = "MessageAttributes"
    response = sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn(sqs, queue_url),
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    return str(response["SubscriptionArn"])


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
    """An S3 event notification document (what S3 puts in an SQS message body)."""
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


def invoke(event: dict[str, Any], timeout_s: float = 30) -> dict[str, Any]:
    """Run the handler on ``event`` as Lambda would, ``timeout_s`` before its deadline;
    returns its ``{"batchItemFailures": [...]}``."""
    from cloud_handler.context import LocalContext
    from cloud_handler.handler import lambda_handler

    response: dict[str, Any] = lambda_handler(event, LocalContext(timeout_s=timeout_s))
    return response


def clip_key(seq: int = 0, device: str = "cam1", session: str = "s1") -> str:
    """A valid rollcall clip key."""
    return f"clips/{device}/{session}/{seq:08d}-{1_764_000_000_000 + seq * 500:013d}.mp4"


def make_stack(
    endpoint: str,
    *,
    versioned: bool = False,
    events_visibility_s: int = 30,
    events_redrive: int | None = None,
) -> Stack:
    """Create uniquely named resources on the moto server.

    ``events_redrive`` gives the events queue a dead-letter queue (``<events>-dlq``) after
    that many receives.
    """
    suffix = uuid.uuid4().hex[:10]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
    sns = boto3.client("sns", endpoint_url=endpoint, region_name=REGION)
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    bucket = f"clips-{suffix}"
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    topic = sns.create_topic(Name=f"results-{suffix}")["TopicArn"]
    results = sqs.create_queue(QueueName=f"results-{suffix}")["QueueUrl"]
    subscribe_queue(sns, sqs, topic, results)
    attributes = {"VisibilityTimeout": str(events_visibility_s)}
    if events_redrive is not None:
        dlq = sqs.create_queue(QueueName=f"events-{suffix}-dlq")["QueueUrl"]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": queue_arn(sqs, dlq), "maxReceiveCount": events_redrive}
        )
    events = sqs.create_queue(QueueName=f"events-{suffix}", Attributes=attributes)["QueueUrl"]
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
    sightings = f"sightings-{suffix}"
    ddb.create_table(**sightings_table(sightings))
    stack = Stack(
        endpoint, bucket, topic, results, events, table, idem, sightings, s3, sqs, sns, ddb
    )
    stack.env = {
        "ROLLCALL_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "ROLLCALL_RESULTS_TOPIC_ARN": topic,
        "ROLLCALL_TABLE": table,
        "ROLLCALL_IDEMPOTENCY_TABLE": idem,
        "ROLLCALL_SIGHTINGS_TABLE": sightings,
        "AWS_MAX_ATTEMPTS": "3",  # botocore's own: fewer attempts than the handler's 4
    }
    return stack


def wait_until(predicate: Callable[[], bool], timeout_s: float, interval_s: float = 0.1) -> bool:
    """Poll ``predicate`` until true or ``timeout_s`` passes; returns the last answer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()


def body(event: dict[str, Any]) -> str:
    """An S3 notification as an SQS message body."""
    return json.dumps(event)
