"""The stack as an ordered list of resources; deploy (ensure all) and destroy (reverse)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rollcall_tools.aws import AwsTarget
from rollcall_tools.errors import JobFailedError
from rollcall_tools.stack import plan
from rollcall_tools.stack.compute import EventSourceMapping, Function, LogGroup, Repository, Role
from rollcall_tools.stack.devices import Devices
from rollcall_tools.stack.library import library_resources
from rollcall_tools.stack.messaging import Notification, Topic
from rollcall_tools.stack.names import StackNames
from rollcall_tools.stack.plan import OnChange, PlanResult, Resource
from rollcall_tools.stack.policy import (
    events_queue_policy,
    handler_policy,
    repository_policy,
)
from rollcall_tools.stack.routes import DLQ_RETENTION_S, foreign_route
from rollcall_tools.stack.settings import StackSettings
from rollcall_tools.stack.sightings import SightingsTable
from rollcall_tools.stack.storage import Bucket, Queue, QueueSpec, Table, tls_only_policy


@dataclass
class Stack:
    """One stack's names, settings and resources, in dependency order."""

    target: AwsTarget
    names: StackNames
    settings: StackSettings

    @classmethod
    def resolve(
        cls,
        target: AwsTarget,
        prefix: str,
        settings: StackSettings,
        *,
        input_bucket: str | None = None,
        output_bucket: str | None = None,
    ) -> Stack:
        """Look up the account and its partition (one STS call) and name everything (the
        upload bucket ``input_bucket`` when given; an output bucket when ``output_bucket`` is
        given)."""
        who = target.identity()
        names = StackNames(
            prefix,
            target.region,
            who.account,
            who.partition,
            input_bucket=input_bucket,
            output_bucket=output_bucket,
        )
        return cls(target, names, settings)

    @property
    def bucket(self) -> Bucket:
        return Bucket(
            self.target,
            self.names.bucket,
            self.settings.clip_retention_days,
            None if self.settings.local else tls_only_policy(self.names.bucket_arn),
        )

    @property
    def output_bucket(self) -> Bucket | None:
        """The output bucket, when the stack has one: never notified (the handler's own
        writes trigger nothing); its objects expire with the clips."""
        name, arn = self.names.output_bucket, self.names.output_bucket_arn
        if name is None or arn is None:
            return None
        policy = None if self.settings.local else tls_only_policy(arn)
        return Bucket(
            self.target,
            name,
            self.settings.clip_retention_days,
            policy,
            expire=("expire-outputs", ""),
        )

    @property
    def devices(self) -> Devices:
        return Devices(self.target, self.names)

    def resources(self) -> list[Resource]:
        """Everything deploy ensures, in the order it must be created.

        Both flavours: the bucket notifies the events queue of every new object; results go
        to the topic, and the foreign route is subscribed. The AWS flavour adds the function
        and the event source mapping that feeds it from the events queue; locally the runner
        (``cloud-handler serve``) takes the mapping's place.
        """
        n, s, t = self.names, self.settings, self.target
        out: list[Resource] = [
            self.bucket,
            Queue(t, QueueSpec(n.events_dlq, retention_s=DLQ_RETENTION_S)),
            Queue(
                t,
                QueueSpec(
                    n.events_queue,
                    visibility_timeout_s=s.events_visibility_s,
                    dead_letter_arn=n.queue_arn(n.events_dlq),
                    max_receives=s.max_receives,
                    policy=events_queue_policy(n),
                ),
            ),
            Notification(t, n.bucket, n.queue_arn(n.events_queue)),
            Topic(t, n.results_topic, n.results_topic_arn),
            *foreign_route(t, n),
            Table(t, n.students_table, "name"),
            Table(t, n.idempotency_table, "id", ttl_attribute="expiration"),
            SightingsTable(t, n.sightings_table),
            *library_resources(t, n, s),
        ]
        if self.output_bucket is not None:
            out.append(self.output_bucket)
        if s.local:
            return out
        repository = Repository(t, n.repository, repository_policy(n))
        function = Function(t, n, s, repository)
        out += [
            repository,
            LogGroup(t, n.log_group, s.log_retention_days),
            Role(t, n.role, n.role_policy, handler_policy(n, s)),
            function,
            EventSourceMapping(t, n, s, function),
        ]
        return out

    def outputs(self) -> dict[str, Any]:
        """What edge-capture, `tools results` and the local runner need to use this stack."""
        n = self.names
        out: dict[str, Any] = {
            "stack": n.prefix,
            "region": n.region,
            "account": n.account,
            "endpoint_url": self.target.endpoint_url,
            "bucket": n.bucket,
            "events_queue": n.events_queue,
            "events_dlq": n.events_dlq,
            "results_topic": n.results_topic,
            "results_topic_arn": n.results_topic_arn,
            "foreign_queue": n.foreign_queue,
            "students_table": n.students_table,
            "idempotency_table": n.idempotency_table,
            "sightings_table": n.sightings_table,
            "sightings_retention_days": self.settings.sightings_retention_days,
            "library_table": n.library_table,
            "face_store": n.face_store,
            "events_visibility_s": self.settings.events_visibility_s,
            "batch_size": self.settings.batch_size,
            "function_timeout_s": self.settings.timeout_s,
        }
        if n.output_bucket:
            out["output_bucket"] = n.output_bucket
            out["output_format"] = self.settings.output_format
        if not self.settings.local:
            out["function"] = n.function
            out["repository"] = f"{n.registry}/{n.repository}"
        return out

    def edge_env(self) -> dict[str, str]:
        """The settings every edge device shares (each device adds its own results queue
        and id: `tools devices add`)."""
        env = {"AWS_REGION": self.names.region, "ROLLCALL_BUCKET": self.names.bucket}
        if self.target.endpoint_url:
            env["ROLLCALL_ENDPOINT_URL"] = self.target.endpoint_url
        return env

    def deploy(self, *, dry_run: bool = False, on_change: OnChange | None = None) -> PlanResult:
        """Create or update every resource (``dry_run``: only say what would change)."""
        return plan.run(self.resources(), dry_run=dry_run, on_change=on_change)

    def destroy(
        self,
        *,
        force: bool = False,
        dry_run: bool = False,
        on_change: OnChange | None = None,
    ) -> PlanResult:
        """Delete every registered device's route, then every resource, last-created first.
        Refuses (before deleting anything) when the bucket still holds objects, unless
        ``force``."""
        for bucket in (self.bucket, self.output_bucket):
            objects = bucket.object_count() if bucket else 0
            if bucket and objects and not force:
                raise JobFailedError(
                    f"bucket {bucket.name} still holds {objects} object(s): nothing was "
                    "deleted; download what you need, then run destroy with --force"
                )
        devices = self.devices
        result = devices.remove(devices.registered(), dry_run=dry_run, on_change=on_change)
        result.changes += plan.remove(
            reversed(self.resources()), dry_run=dry_run, on_change=on_change
        ).changes
        return result
