"""Results routes: a queue (+ DLQ) subscribed to the results topic with a filter policy.

The handler publishes each result once, with the message attributes of
``shared_schema.routing`` (``route`` = ``device`` + ``device`` = the clip's device id, or
``route`` = ``foreign``). The foreign route is part of the stack; a device's route exists
once the device is registered.
"""

from __future__ import annotations

from rollcall_tools.aws import AwsTarget
from rollcall_tools.stack.messaging import Subscription
from rollcall_tools.stack.names import StackNames, check_device_id
from rollcall_tools.stack.plan import Resource
from rollcall_tools.stack.policy import topic_queue_policy
from rollcall_tools.stack.settings import QUEUE_MAX_RECEIVES
from rollcall_tools.stack.storage import Queue, QueueSpec
from shared_schema import device_filter_policy, foreign_filter_policy

ROUTE_VISIBILITY_S = 30
"""A result a reader leaves (not its own, or unreadable) comes back after this long."""
DLQ_RETENTION_S = 14 * 24 * 3600
TAG_STACK = "rollcall:stack"
TAG_DEVICE = "rollcall:device"
TAG_ROLE = "rollcall:role"


def _route(
    target: AwsTarget,
    names: StackNames,
    *,
    queue: str,
    dlq: str,
    filter_policy: dict[str, list[str]],
    tags: dict[str, str] | None = None,
) -> list[Resource]:
    """DLQ, queue (redrive, SSE, only the topic may send), subscription: creation order."""
    tags = tags or {}
    owner = tuple(tags)
    return [
        Queue(
            target,
            QueueSpec(
                dlq,
                retention_s=DLQ_RETENTION_S,
                tags={**tags, TAG_ROLE: "dead-letter"} if tags else {},
                owner_tags=owner,
            ),
        ),
        Queue(
            target,
            QueueSpec(
                queue,
                visibility_timeout_s=ROUTE_VISIBILITY_S,
                dead_letter_arn=names.queue_arn(dlq),
                max_receives=QUEUE_MAX_RECEIVES,
                policy=topic_queue_policy(names, queue),
                tags={**tags, TAG_ROLE: "results"} if tags else {},
                owner_tags=owner,
            ),
        ),
        Subscription(target, names.results_topic_arn, names.queue_arn(queue), filter_policy),
    ]


def foreign_route(target: AwsTarget, names: StackNames) -> list[Resource]:
    """Results of objects that are not rollcall clips (``tools results`` reads them)."""
    return _route(
        target,
        names,
        queue=names.foreign_queue,
        dlq=names.foreign_dlq,
        filter_policy=foreign_filter_policy(),
    )


def device_route(target: AwsTarget, names: StackNames, device_id: str) -> list[Resource]:
    """One device's results: only messages whose ``device`` attribute is its id."""
    check_device_id(device_id)
    return _route(
        target,
        names,
        queue=names.device_queue(device_id),
        dlq=names.device_dlq(device_id),
        filter_policy=device_filter_policy(device_id),
        tags={TAG_STACK: names.prefix, TAG_DEVICE: device_id},
    )
