"""Registered devices: each has its own results route (queue + DLQ + filtered subscription)."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from rollcall_tools.aws import AwsTarget, aws_errors, if_present
from rollcall_tools.dlq import queue_counts
from rollcall_tools.errors import ConfigError
from rollcall_tools.stack import plan
from rollcall_tools.stack.messaging import Topic
from rollcall_tools.stack.names import StackNames, check_device_id
from rollcall_tools.stack.plan import OnChange, PlanResult, Resource
from rollcall_tools.stack.policy import edge_policy
from rollcall_tools.stack.routes import TAG_DEVICE, TAG_ROLE, TAG_STACK, device_route

DESCRIBE_THREADS = 16
"""Queues ``registered`` and ``describe`` read at once (one shared, thread-safe SQS client)."""


@dataclass(frozen=True)
class DeviceInfo:
    """A registered device's route and how many results wait on it."""

    device_id: str
    results_queue: str
    waiting: int
    in_flight: int
    dead_lettered: int
    subscribed: bool

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Devices:
    """Register, list and remove the devices of one stack."""

    def __init__(self, target: AwsTarget, names: StackNames) -> None:
        self.target, self.names = target, names
        self.sqs = target.client("sqs")
        self.sns = target.client("sns")

    def resources(self, device_id: str) -> list[Resource]:
        return device_route(self.target, self.names, device_id)

    def _require_topic(self) -> None:
        topic = Topic(self.target, self.names.results_topic, self.names.results_topic_arn)
        with aws_errors(f"reading sns topic {self.names.results_topic}"):
            if topic.read() is None:
                raise ConfigError(
                    f"stack {self.names.prefix!r} is not deployed in {self.names.region} "
                    f"(no topic {self.names.results_topic}): run `tools deploy` first"
                )

    def add(
        self,
        device_ids: Iterable[str],
        *,
        dry_run: bool = False,
        on_change: OnChange | None = None,
    ) -> PlanResult:
        """Create (or repair) each device's route; idempotent."""
        ids = [check_device_id(d) for d in device_ids]
        self._require_topic()
        routes = (r for device_id in ids for r in self.resources(device_id))
        return plan.run(routes, dry_run=dry_run, on_change=on_change)

    def remove(
        self,
        device_ids: Iterable[str],
        *,
        dry_run: bool = False,
        on_change: OnChange | None = None,
    ) -> PlanResult:
        """Delete each device's route (results still waiting on it go with it)."""
        ids = [check_device_id(d) for d in device_ids]
        routes = (r for device_id in ids for r in reversed(self.resources(device_id)))
        return plan.remove(routes, dry_run=dry_run, on_change=on_change)

    def registered(self) -> list[str]:
        """The ids of this stack's registered devices (from their queues' tags), sorted."""
        found: list[str] = []
        with aws_errors("listing the device queues"):
            pages = self.sqs.get_paginator("list_queues").paginate(
                QueueNamePrefix=self.names.device_queue_prefix()
            )
            urls = [url for page in pages for url in page.get("QueueUrls", [])]
            with ThreadPoolExecutor(max_workers=max(1, min(DESCRIBE_THREADS, len(urls)))) as pool:
                listed = pool.map(
                    lambda url: if_present(self.sqs.list_queue_tags, QueueUrl=url), urls
                )
                for reply in listed:  # None: deleted meanwhile
                    tags = (reply or {}).get("Tags", {})
                    if tags.get(TAG_STACK) == self.names.prefix and tags.get(TAG_ROLE) == "results":
                        found.append(tags[TAG_DEVICE])
        return sorted(set(found))

    def describe(self) -> list[DeviceInfo]:
        """Every registered device with its queue depths and whether it is subscribed: one
        listing of the topic's subscriptions, the devices' queues read concurrently (the
        dashboard's Health page shows this)."""
        ids = self.registered()
        with aws_errors(f"listing the subscriptions of {self.names.results_topic}"):
            subscribed = self._subscribed_queues()
        with ThreadPoolExecutor(max_workers=max(1, min(DESCRIBE_THREADS, len(ids)))) as pool:
            return list(pool.map(lambda device_id: self._describe(device_id, subscribed), ids))

    def _subscribed_queues(self) -> set[str]:
        """The ARNs of the queues subscribed to the results topic."""
        paginator = self.sns.get_paginator("list_subscriptions_by_topic")
        pages: list[dict[str, Any]] | None = if_present(
            list, paginator.paginate(TopicArn=self.names.results_topic_arn)
        )
        return {
            str(sub["Endpoint"])
            for page in pages or []
            for sub in page.get("Subscriptions", [])
            if sub.get("Protocol") == "sqs"
        }

    def _describe(self, device_id: str, subscribed: set[str]) -> DeviceInfo:
        queue = self.names.device_queue(check_device_id(device_id))
        with aws_errors(f"reading the route of device {device_id}"):
            waiting, in_flight = self.depth(queue)
            dead, dead_in_flight = self.depth(self.names.device_dlq(device_id))
        return DeviceInfo(
            device_id,
            queue,
            waiting,
            in_flight,
            dead + dead_in_flight,
            self.names.queue_arn(queue) in subscribed,
        )

    def depth(self, queue: str) -> tuple[int, int]:
        """(visible, in flight) messages of ``queue``; (0, 0) when it does not exist."""
        found = if_present(self.sqs.get_queue_url, QueueName=queue)
        if found is None:
            return 0, 0
        return queue_counts(self.sqs, found["QueueUrl"])

    def settings(self, device_id: str) -> dict[str, Any]:
        """What the device's edge-capture needs: its queue, environment and IAM policy."""
        queue = self.names.device_queue(device_id)
        env = {
            "AWS_REGION": self.names.region,
            "ROLLCALL_BUCKET": self.names.bucket,
            "ROLLCALL_RESULTS_QUEUE": queue,
            "ROLLCALL_DEVICE_ID": device_id,
        }
        if self.target.endpoint_url:
            env["ROLLCALL_ENDPOINT_URL"] = self.target.endpoint_url
        return {
            "device_id": device_id,
            "results_queue": queue,
            "results_queue_url": self.names.queue_url(self.target.endpoint_url, queue),
            "env": env,
            "edge_policy": edge_policy(self.names, device_id),
        }
