"""Messaging resources: the bucket's notification, the results topic and its subscriptions."""

from __future__ import annotations

import json
from typing import Any

from rollcall_tools.aws import AwsTarget, if_present
from rollcall_tools.stack.eventual import PATIENT, Patience, destination_not_validated
from rollcall_tools.stack.plan import Resource, differs

NOTIFICATION_ID = "new-objects"
TOPIC_KMS_KEY = "alias/aws/sns"
"""The results topic encrypts at rest with SNS's AWS-managed key: its key policy lets the
account's principals use it through SNS, so publishers need no KMS grant of their own."""


class Notification(Resource):
    """The clips bucket notifies the events queue of every object created (any key)."""

    kind = "s3 notification"

    def __init__(
        self, target: AwsTarget, bucket: str, queue_arn: str, patience: Patience = PATIENT
    ) -> None:
        self.bucket, self.queue_arn, self.patience = bucket, queue_arn, patience
        self.s3 = target.client("s3")

    @property
    def name(self) -> str:
        return f"{self.bucket} -> {self.queue_arn.rsplit(':', 1)[-1]}"

    def desired(self) -> dict[str, Any]:
        entry = {
            "Id": NOTIFICATION_ID,
            "Events": ["s3:ObjectCreated:*"],
            "QueueArn": self.queue_arn,
        }
        return {"QueueConfigurations": [entry]}

    def read(self) -> dict[str, Any] | None:
        config = if_present(self.s3.get_bucket_notification_configuration, Bucket=self.bucket)
        if config is None:
            return None
        state: dict[str, Any] = {}
        for section in (
            "QueueConfigurations",
            "LambdaFunctionConfigurations",
            "TopicConfigurations",
        ):
            entries = config.get(section) or []
            if entries:
                state[section] = [_normal_notification(e) for e in entries]
        return state or None

    def diff(self, current: dict[str, Any]) -> list[str]:
        return differs("notification", current, self.desired())

    def create(self) -> None:
        # S3 may not validate the queue yet, just after its policy was set (eventual.py)
        self.patience.call(
            destination_not_validated,
            self.s3.put_bucket_notification_configuration,
            Bucket=self.bucket,
            NotificationConfiguration=self.desired(),
        )

    def update(self, current: Any, differences: list[str]) -> None:
        self.create()

    def delete(self, current: Any) -> None:
        self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket, NotificationConfiguration={}
        )


def _normal_notification(entry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": entry.get("Id"), "Events": sorted(entry.get("Events", []))}
    rules = entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    if rules:
        out["Filter"] = {
            "Key": {
                "FilterRules": sorted(
                    ({"Name": r["Name"].lower(), "Value": r["Value"]} for r in rules),
                    key=lambda r: r["Name"],
                )
            }
        }
    for arn_key in ("QueueArn", "LambdaFunctionArn", "TopicArn"):
        if arn_key in entry:
            out[arn_key] = entry[arn_key]
    return out


class Topic(Resource):
    """An SNS topic, encrypted at rest."""

    kind = "sns topic"

    def __init__(self, target: AwsTarget, topic: str, arn: str) -> None:
        self.topic, self.arn = topic, arn
        self.sns = target.client("sns")

    @property
    def name(self) -> str:
        return self.topic

    def read(self) -> dict[str, Any] | None:
        found = if_present(self.sns.get_topic_attributes, TopicArn=self.arn)
        if found is None:
            return None
        return {"KmsMasterKeyId": found["Attributes"].get("KmsMasterKeyId")}

    def diff(self, current: dict[str, Any]) -> list[str]:
        return differs("KmsMasterKeyId", current["KmsMasterKeyId"], TOPIC_KMS_KEY)

    def create(self) -> None:
        self.sns.create_topic(Name=self.topic, Attributes={"KmsMasterKeyId": TOPIC_KMS_KEY})

    def update(self, current: Any, differences: list[str]) -> None:
        self.sns.set_topic_attributes(
            TopicArn=self.arn, AttributeName="KmsMasterKeyId", AttributeValue=TOPIC_KMS_KEY
        )

    def delete(self, current: Any) -> None:
        self.sns.delete_topic(TopicArn=self.arn)


class Subscription(Resource):
    """A queue subscribed to a topic with raw delivery (the queue's message body is the
    published message itself) and a filter policy on the message attributes."""

    kind = "sns subscription"

    def __init__(
        self,
        target: AwsTarget,
        topic_arn: str,
        queue_arn: str,
        filter_policy: dict[str, list[str]],
    ) -> None:
        self.topic_arn, self.queue_arn, self.filter_policy = topic_arn, queue_arn, filter_policy
        self.sns = target.client("sns")

    @property
    def name(self) -> str:
        topic, queue = (arn.rsplit(":", 1)[-1] for arn in (self.topic_arn, self.queue_arn))
        return f"{topic} -> {queue}"

    def desired(self) -> dict[str, Any]:
        return {
            "RawMessageDelivery": "true",
            "FilterPolicyScope": "MessageAttributes",
            "FilterPolicy": self.filter_policy,
        }

    def read(self) -> dict[str, Any] | None:
        arn = self._find()
        if arn is None:
            return None
        attrs = self.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        policy = attrs.get("FilterPolicy")
        return {
            "arn": arn,
            "RawMessageDelivery": str(attrs.get("RawMessageDelivery", "false")).lower(),
            "FilterPolicyScope": attrs.get("FilterPolicyScope", "MessageAttributes"),
            "FilterPolicy": json.loads(policy) if policy else None,
        }

    def _find(self) -> str | None:
        paginator = self.sns.get_paginator("list_subscriptions_by_topic")
        pages: list[dict[str, Any]] | None = if_present(
            list, paginator.paginate(TopicArn=self.topic_arn)
        )
        for page in pages or []:
            for sub in page.get("Subscriptions", []):
                if sub.get("Protocol") == "sqs" and sub.get("Endpoint") == self.queue_arn:
                    return str(sub["SubscriptionArn"])
        return None

    def diff(self, current: dict[str, Any]) -> list[str]:
        out: list[str] = []
        for key, value in self.desired().items():
            out += differs(key, current.get(key), value)
        return out

    def create(self) -> None:
        desired = self.desired()
        desired["FilterPolicy"] = json.dumps(self.filter_policy)
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=self.queue_arn,
            Attributes=desired,
            ReturnSubscriptionArn=True,
        )

    def update(self, current: dict[str, Any], differences: list[str]) -> None:
        changed = {d.split(":", 1)[0] for d in differences}
        for key, value in self.desired().items():
            if key in changed:
                text = json.dumps(value) if key == "FilterPolicy" else value
                self.sns.set_subscription_attributes(
                    SubscriptionArn=current["arn"], AttributeName=key, AttributeValue=text
                )

    def delete(self, current: dict[str, Any]) -> None:
        self.sns.unsubscribe(SubscriptionArn=current["arn"])
