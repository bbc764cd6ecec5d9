"""Results routes against a moto server: each registered device receives only its own
results, foreign uploads have their own route, device queues are named safely."""

from __future__ import annotations

import json

import pytest

from rollcall_testkit.handler_stack import clip_key
from rollcall_testkit.results import drain, publish, result
from rollcall_tools.aws import AwsTarget
from rollcall_tools.errors import ConfigError
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.names import StackNames
from rollcall_tools.stack.settings import StackSettings

pytestmark = pytest.mark.slow


def _url(target: AwsTarget, queue: str) -> str:
    return str(target.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"])


def test_each_device_receives_only_its_own_results(target: AwsTarget, stack: Stack) -> None:
    names, devices = stack.names, stack.devices
    added = devices.add(["cam1", "cam2"])
    assert {str(c.action) for c in added.changes} == {"create"}
    assert len(added.changes) == 6
    assert not devices.add(["cam1", "cam2"]).changed  # idempotent

    sns, sqs = target.client("sns"), target.client("sqs")
    sent = {
        "cam1": [clip_key(i, device="cam1") for i in range(3)],
        "cam2": [clip_key(i, device="cam2") for i in range(2)],
        "cam9": [clip_key(device="cam9")],  # not registered: nobody subscribed to it
        "foreign": ["test_0.mp4", "pi/video.h264", "clips/cam1/bad-key.mp4"],
    }
    for keys in sent.values():
        for key in keys:
            publish(sns, names.results_topic_arn, result(names.bucket, key, "someone"))

    got = {
        route: sorted(r.clip.key for r in drain(sqs, _url(target, queue)))
        for route, queue in (
            ("cam1", names.device_queue("cam1")),
            ("cam2", names.device_queue("cam2")),
            ("foreign", names.foreign_queue),
        )
    }
    assert got == {route: sorted(sent[route]) for route in ("cam1", "cam2", "foreign")}

    # the device queue: only the topic may send; a DLQ after 5 receives; tagged as its own
    attrs = sqs.get_queue_attributes(
        QueueUrl=_url(target, names.device_queue("cam1")), AttributeNames=["All"]
    )["Attributes"]
    assert attrs["SqsManagedSseEnabled"] == "true"
    (allow,) = json.loads(attrs["Policy"])["Statement"]
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": names.results_topic_arn}}
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == names.queue_arn(names.device_dlq("cam1"))
    subs = sns.list_subscriptions_by_topic(TopicArn=names.results_topic_arn)["Subscriptions"]
    (sub,) = [s for s in subs if s["Endpoint"] == names.queue_arn(names.device_queue("cam1"))]
    sub_attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])
    assert json.loads(sub_attrs["Attributes"]["FilterPolicy"]) == {
        "route": ["device"],
        "device": ["cam1"],
    }
    assert sub_attrs["Attributes"]["RawMessageDelivery"] == "true"

    listed = {d.device_id: d for d in devices.describe()}
    assert set(listed) == {"cam1", "cam2"}
    assert all(d.subscribed and d.waiting == 0 for d in listed.values())

    removed = devices.remove(["cam2"])
    assert {str(c.action) for c in removed.changes} == {"delete"}
    assert devices.registered() == ["cam1"]
    publish(sns, names.results_topic_arn, result(names.bucket, clip_key(5, device="cam2")))
    assert drain(sqs, _url(target, names.foreign_queue)) == []  # a device's result stays its own
    assert {str(c.action) for c in devices.remove(["cam2"]).changes} == {"absent"}


def test_devices_need_a_deployed_stack(target: AwsTarget, prefix: str) -> None:
    stack = Stack.resolve(target, prefix, StackSettings(local=True))
    with pytest.raises(ConfigError, match="run `tools deploy` first"):
        stack.devices.add(["cam1"])
    with pytest.raises(ConfigError, match="device id 'bad id' is invalid"):
        stack.devices.add(["bad id"])


def test_a_queue_that_belongs_to_another_device_is_never_adopted(
    target: AwsTarget, stack: Stack
) -> None:
    names = stack.names
    target.client("sqs").create_queue(
        QueueName=names.device_queue("cam7"), tags={"rollcall:device": "someone-else"}
    )
    with pytest.raises(ConfigError, match="belongs to something else"):
        stack.devices.add(["cam7"])


def test_device_queue_names_fit_sqs_and_never_collide() -> None:
    names = StackNames("a" * 24, "eu-west-1", "123456789012")
    assert names.device_queue("cam1") == f"{'a' * 24}-dev-cam1"
    assert names.device_dlq("cam1") == f"{'a' * 24}-dlq-cam1"
    long_ids = ["x" * 64, "x" * 63 + "y", "x" * 50, "x" * 51]
    queues = [names.device_queue(d) for d in long_ids]
    assert all(len(q) <= 80 for q in queues + [names.device_dlq(d) for d in long_ids])
    assert len(set(queues)) == len(queues)
    hashed = [q for q in queues if len(q) == 80]
    assert hashed and all(len(names.device_queue(d)) < 80 for d in ("x" * 49, "cam1"))
    assert names.device_queue("Cam1") != names.device_queue("cam1")
    assert names.device_queue("x" * 64) == queues[0]  # deterministic
    with pytest.raises(ConfigError):
        names.device_queue("x" * 65)


def test_edge_policy_covers_only_the_devices_own_clips_and_queue(stack: Stack) -> None:
    names = stack.names
    policy = stack.devices.settings("cam1")["edge_policy"]
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    assert resources == {
        f"{names.bucket_arn}/clips/cam1/*",
        names.bucket_arn,
        names.queue_arn(names.device_queue("cam1")),
    }
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert all("*" not in a for a in actions)
    env = stack.devices.settings("cam1")["env"]
    assert env["ROLLCALL_RESULTS_QUEUE"] == names.device_queue("cam1")
    assert env["ROLLCALL_DEVICE_ID"] == "cam1"
