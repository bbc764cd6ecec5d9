"""Publish a result to the results topic, with the attributes its readers filter on."""

from __future__ import annotations

import hashlib
from typing import Any

from shared_schema import DEVICE_ATTRIBUTE, ROUTE_ATTRIBUTE, RecognitionResult


def publish_result(sns: Any, topic_arn: str, result: RecognitionResult, *, dedup: str) -> str:
    """``Publish`` ``result`` once; returns SNS's message id.

    Message attributes (String): ``route`` = ``device`` with ``device`` = the clip's
    device id for rollcall clips, ``route`` = ``foreign`` for any other object. A FIFO
    topic (``.fifo``) also gets a group per device and ``dedup`` (the object's identity)
    hashed as its deduplication id.

    Raises:
        botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError: SNS refused or
            stayed unreachable after botocore's retries.
    """
    attributes = result.route_attributes
    kwargs: dict[str, Any] = {
        "TopicArn": topic_arn,
        "Message": result.to_message(),
        "MessageAttributes": {
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
        },
    }
    if topic_arn.endswith(".fifo"):
        group = attributes.get(DEVICE_ATTRIBUTE, attributes[ROUTE_ATTRIBUTE])
        kwargs["MessageGroupId"] = group
        kwargs["MessageDeduplicationId"] = hashlib.sha256(dedup.encode()).hexdigest()[:128]
    return str(sns.publish(**kwargs).get("MessageId", ""))
