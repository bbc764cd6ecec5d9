"""The stack as an ordered list of resources; deploy (ensure all) and destroy (reverse)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rollcall_tools.aws import AwsTarget
from rollcall_tools.errors import JobFailedError
from rollcall_tools.stack import plan
from rollcall_tools.stack.compute import (
    Function,
    InvokePermission,
    LogGroup,
    Notification,
    Repository,
    Role,
)
from rollcall_tools.stack.names import StackNames
from rollcall_tools.stack.plan import Change, PlanResult, Resource
from rollcall_tools.stack.policy import (
    bucket_policy,
    edge_policy,
    events_queue_policy,
    handler_policy,
)
from rollcall_tools.stack.settings import QUEUE_MAX_RECEIVES, StackSettings
from rollcall_tools.stack.storage import Bucket, Queue, QueueSpec, Table


@dataclass
class Stack:
    """One stack's names, settings and resources, in dependency order."""

    target: AwsTarget
    names: StackNames
    settings: StackSettings

    @classmethod
    def resolve(cls, target: AwsTarget, prefix: str, settings: StackSettings) -> Stack:
        """Look up the account (one STS call) and name everything."""
        return cls(target, StackNames(prefix, target.region, target.account_id()), settings)

    @property
    def bucket(self) -> Bucket:
        return Bucket(
            self.target,
            self.names.bucket,
            self.settings.clip_retention_days,
            None if self.settings.local else bucket_policy(self.names),
        )

    def resources(self) -> list[Resource]:
        """Everything deploy ensures, in the order it must be created."""
        n, s, t = self.names, self.settings, self.target
        out: list[Resource] = [
            self.bucket,
            Queue(t, QueueSpec(n.results_dlq, retention_s=14 * 24 * 3600)),
            Queue(
                t,
                QueueSpec(
                    n.results_queue,
                    visibility_timeout_s=30,
                    dead_letter_arn=n.queue_arn(n.results_dlq),
                    max_receives=QUEUE_MAX_RECEIVES,
                ),
            ),
            Table(t, n.students_table, "name"),
            Table(t, n.idempotency_table, "id", ttl_attribute="expiration"),
        ]
        if s.local:
            out += [
                Queue(t, QueueSpec(n.events_dlq, retention_s=14 * 24 * 3600)),
                Queue(
                    t,
                    QueueSpec(
                        n.events_queue,
                        visibility_timeout_s=max(60, 2 * s.timeout_s),
                        dead_letter_arn=n.queue_arn(n.events_dlq),
                        max_receives=QUEUE_MAX_RECEIVES,
                        policy=events_queue_policy(n),
                    ),
                ),
                Notification(t, n, local=True),
            ]
            return out
        repository = Repository(t, n.repository)
        function = Function(t, n, s, repository)
        out += [
            repository,
            LogGroup(t, n.log_group, s.log_retention_days),
            Role(t, n.role, n.role_policy, handler_policy(n, s)),
            function,
            InvokePermission(t, n, function),
            Notification(t, n, local=False, function=function),
        ]
        return out

    def outputs(self) -> dict[str, Any]:
        """What edge-capture (and the local runner) need to talk to this stack."""
        n = self.names
        out: dict[str, Any] = {
            "stack": n.prefix,
            "region": n.region,
            "account": n.account,
            "endpoint_url": self.target.endpoint_url,
            "bucket": n.bucket,
            "results_queue": n.results_queue,
            "results_queue_url": n.queue_url(self.target.endpoint_url, n.results_queue),
            "students_table": n.students_table,
            "idempotency_table": n.idempotency_table,
        }
        if self.settings.local:
            out["events_queue"] = n.events_queue
        else:
            out["function"] = n.function
            out["repository"] = f"{n.registry}/{n.repository}"
            out["edge_policy"] = edge_policy(n)
        return out

    def edge_env(self) -> dict[str, str]:
        """The same settings as edge-capture's environment variables."""
        env = {
            "AWS_REGION": self.names.region,
            "ROLLCALL_BUCKET": self.names.bucket,
            "ROLLCALL_RESULTS_QUEUE": self.names.results_queue,
        }
        if self.target.endpoint_url:
            env["ROLLCALL_ENDPOINT_URL"] = self.target.endpoint_url
        return env

    def deploy(
        self, *, dry_run: bool = False, on_change: Callable[[Change], None] | None = None
    ) -> PlanResult:
        """Create or update every resource (``dry_run``: only say what would change)."""
        return plan.run(self.resources(), dry_run=dry_run, on_change=on_change)

    def destroy(
        self,
        *,
        force: bool = False,
        dry_run: bool = False,
        on_change: Callable[[Change], None] | None = None,
    ) -> PlanResult:
        """Delete every resource, last-created first. Refuses (before deleting anything)
        when the bucket still holds clips, unless ``force``."""
        clips = self.bucket.object_count("clips/")
        if clips and not force:
            raise JobFailedError(
                f"bucket {self.names.bucket} still holds {clips} clip(s): nothing was deleted; "
                "download what you need, then run destroy with --force"
            )
        result = PlanResult()
        for resource in reversed(self.resources()):
            change = resource.remove(dry_run=dry_run)
            result.changes.append(change)
            if on_change:
                on_change(change)
        return result
