"""A tiny plan/apply engine: each resource reads its current state, diffs it, and converges."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rollcall_tools.aws import aws_errors


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    NOOP = "no change"
    BLOCKED = "blocked"
    DELETE = "delete"
    ABSENT = "absent"


@dataclass(frozen=True)
class Change:
    """What applying (or destroying) one resource does."""

    kind: str
    name: str
    action: Action
    details: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "action": str(self.action),
            "details": list(self.details),
        }


class Resource(ABC):
    """One AWS resource the stack wants. ``read`` must not change anything."""

    kind: str = "resource"

    @property
    @abstractmethod
    def name(self) -> str:
        """The resource's name as shown in plans."""

    @abstractmethod
    def read(self) -> Any | None:
        """The current state, or None when the resource does not exist."""

    @abstractmethod
    def diff(self, current: Any) -> list[str]:
        """Human-readable differences between ``current`` and the desired state."""

    @abstractmethod
    def create(self) -> None:
        """Create the resource in its desired state."""

    @abstractmethod
    def update(self, current: Any, differences: list[str]) -> None:
        """Bring an existing resource to its desired state."""

    @abstractmethod
    def delete(self, current: Any) -> None:
        """Remove the resource."""

    def blocked(self) -> str | None:
        """Why the resource cannot be created yet (None when it can)."""
        return None

    # -- the engine ---------------------------------------------------------------------
    def plan(self) -> Change:
        """What :meth:`ensure` would do, without doing it."""
        with aws_errors(f"reading {self.kind} {self.name}"):
            current = self.read()
            if current is None:
                reason = self.blocked()
                if reason:
                    return Change(self.kind, self.name, Action.BLOCKED, (reason,))
                return Change(self.kind, self.name, Action.CREATE)
            differences = self.diff(current)
        if differences:
            return Change(self.kind, self.name, Action.UPDATE, tuple(differences))
        return Change(self.kind, self.name, Action.NOOP)

    def ensure(self) -> Change:
        """Read, diff, and apply: create when absent, update when different."""
        change = self.plan()
        with aws_errors(f"{change.action} {self.kind} {self.name}"):
            if change.action is Action.CREATE:
                self.create()
            elif change.action is Action.UPDATE:
                current = self.read()
                self.update(current, self.diff(current))
        return change

    def remove(self, *, dry_run: bool = False) -> Change:
        """Delete the resource if it exists."""
        with aws_errors(f"reading {self.kind} {self.name}"):
            current = self.read()
        if current is None:
            return Change(self.kind, self.name, Action.ABSENT)
        if not dry_run:
            with aws_errors(f"deleting {self.kind} {self.name}"):
                self.delete(current)
        return Change(self.kind, self.name, Action.DELETE)


def differs(label: str, current: Any, desired: Any) -> list[str]:
    """``["label: current -> desired"]`` when the two differ (compared as canonical JSON)."""
    if _canonical(current) == _canonical(desired):
        return []
    return [f"{label}: {_short(current)} -> {_short(desired)}"]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _short(value: Any, limit: int = 80) -> str:
    text = _canonical(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class PlanResult:
    """The changes of a deploy or destroy, in order."""

    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(c.action in {Action.CREATE, Action.UPDATE, Action.DELETE} for c in self.changes)

    @property
    def blocked(self) -> list[Change]:
        return [c for c in self.changes if c.action is Action.BLOCKED]


OnChange = Callable[[Change], None]


def run(
    resources: Iterable[Resource], *, dry_run: bool, on_change: OnChange | None = None
) -> PlanResult:
    """Plan (``dry_run``) or ensure every resource in order."""
    return _each(resources, lambda r: r.plan() if dry_run else r.ensure(), on_change)


def remove(
    resources: Iterable[Resource], *, dry_run: bool, on_change: OnChange | None = None
) -> PlanResult:
    """Delete (``dry_run``: say what would go) every resource, in the order given."""
    return _each(resources, lambda r: r.remove(dry_run=dry_run), on_change)


def _each(
    resources: Iterable[Resource],
    apply: Callable[[Resource], Change],
    on_change: OnChange | None,
) -> PlanResult:
    result = PlanResult()
    for resource in resources:
        change = apply(resource)
        result.changes.append(change)
        if on_change:
            on_change(change)
    return result
