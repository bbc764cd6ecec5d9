"""The Live page's source: the dashboard's own queue on the results topic, followed in a
thread, and the latest results per device handed to every open page.

The dashboard never reads a device's queue (that would take the device's results away): it
subscribes a queue of its own to the results topic, with a filter that lets every route
through, creates it on start and deletes it (queue and subscription) on exit. Its messages
expire after :data:`RETENTION_S`: the page shows what arrives while it runs, and a queue
left by a killed dashboard holds nothing for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rollcall_tools.aws import aws_errors
from rollcall_tools.errors import ConfigError
from rollcall_tools.follow import Follower, ResultLine
from rollcall_tools.stack import plan
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.messaging import Subscription, Topic
from rollcall_tools.stack.plan import Resource
from rollcall_tools.stack.policy import topic_queue_policy
from rollcall_tools.stack.routes import ROUTE_VISIBILITY_S, TAG_ROLE, TAG_STACK
from rollcall_tools.stack.storage import Queue, QueueSpec
from shared_schema import ROUTE_ATTRIBUTE, InvalidKeyError, ResultRoute, parse_key

RETENTION_S = 300
"""Seconds a result waits on the dashboard's queue before it expires."""
POLL_S = 2
"""Longest wait of one receive: how soon the follower notices that the dashboard stops."""
PER_DEVICE = 20
"""Results kept (and shown) per device."""
EVERY_ROUTE = {ROUTE_ATTRIBUTE: [route.value for route in ResultRoute]}
FOREIGN = ""
"""The section key of results that belong to no device (the foreign route)."""


@dataclass(frozen=True)
class LiveRow:
    """One result as the Live page shows it."""

    seq: int
    line: ResultLine
    captured_at: datetime | None
    """Capture start of the clip's first frame (from its key; None for a foreign object)."""

    @property
    def latency_ms(self) -> float | None:
        """Capture start to the result's arrival here (edge-capture's capture -> result)."""
        if self.captured_at is None:
            return None
        received = datetime.fromisoformat(self.line.received_at)
        return (received - self.captured_at).total_seconds() * 1000


def live_row(seq: int, line: ResultLine) -> LiveRow:
    captured = None
    if line.device is not None:
        with contextlib.suppress(InvalidKeyError):
            captured = parse_key(line.key).captured_at.astimezone(UTC)
    return LiveRow(seq, line, captured)


@dataclass
class _Listener:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[LiveRow | None]


@dataclass
class LiveFeed:
    """The latest :data:`PER_DEVICE` results of every device seen, and the pages listening.

    ``add`` is called from the follower's thread; listeners are asyncio queues of the
    server's event loop.
    """

    per_device: int = PER_DEVICE
    error: str | None = None
    """The last failure of the follower (shown on the page), None while it works."""
    _rows: dict[str, deque[LiveRow]] = field(default_factory=dict)
    _listeners: list[_Listener] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: int = 0
    _closed: bool = False

    def add(self, line: ResultLine) -> None:
        """Keep ``line`` and hand it to every listener."""
        with self._lock:
            self._seq += 1
            row = live_row(self._seq, line)
            device = line.device or FOREIGN
            self._rows.setdefault(device, deque(maxlen=self.per_device)).appendleft(row)
            listeners = list(self._listeners)
        for listener in listeners:
            with contextlib.suppress(RuntimeError):  # its loop closed meanwhile
                listener.loop.call_soon_threadsafe(listener.queue.put_nowait, row)

    def snapshot(self) -> list[tuple[str, list[LiveRow]]]:
        """(device, its rows newest first) per device, devices sorted, foreign last."""
        return self.view()[1]

    def view(self) -> tuple[int, list[tuple[str, list[LiveRow]]]]:
        """The number of the last row added, and :meth:`snapshot`, read together."""
        with self._lock:
            sections = sorted(
                ((device, list(rows)) for device, rows in self._rows.items()),
                key=lambda item: (item[0] == FOREIGN, item[0]),
            )
            return self._seq, sections

    def listen(self) -> asyncio.Queue[LiveRow | None]:
        """A queue (of the running event loop) that receives every row added from now on,
        and None when the feed closes."""
        listener = _Listener(asyncio.get_running_loop(), asyncio.Queue())
        with self._lock:
            self._listeners.append(listener)
            if self._closed:
                listener.queue.put_nowait(None)
        return listener.queue

    def close(self) -> None:
        """End every listener's stream (the server is stopping); thread-safe."""
        with self._lock:
            self._closed = True
            listeners = list(self._listeners)
        for listener in listeners:
            with contextlib.suppress(RuntimeError):
                listener.loop.call_soon_threadsafe(listener.queue.put_nowait, None)

    def unlisten(self, queue: asyncio.Queue[LiveRow | None]) -> None:
        with self._lock:
            self._listeners = [item for item in self._listeners if item.queue is not queue]


def dashboard_queue_name(stack: Stack, suffix: str | None = None) -> str:
    """``<stack>-dashboard-<random>``: each running dashboard has its own."""
    return f"{stack.names.prefix}-dashboard-{suffix or secrets.token_hex(4)}"


def dashboard_route(stack: Stack, queue: str) -> list[Resource]:
    """The dashboard's queue and its subscription to every route of the results topic."""
    names = stack.names
    spec = QueueSpec(
        queue,
        visibility_timeout_s=ROUTE_VISIBILITY_S,
        retention_s=RETENTION_S,
        policy=topic_queue_policy(names, queue),
        tags={TAG_STACK: names.prefix, TAG_ROLE: "dashboard"},
    )
    return [
        Queue(stack.target, spec),
        Subscription(stack.target, names.results_topic_arn, names.queue_arn(queue), EVERY_ROUTE),
    ]


@dataclass
class Subscriber:
    """Creates the dashboard's route, follows it into ``feed`` in a thread, removes it."""

    stack: Stack
    feed: LiveFeed
    queue: str
    poll_s: int = POLL_S
    on_error: Callable[[str], None] = lambda _message: None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _creating: bool = False

    @property
    def resources(self) -> list[Resource]:
        return dashboard_route(self.stack, self.queue)

    def start(self) -> None:
        """Create the queue and subscription (the stack must be deployed), start following."""
        names = self.stack.names
        topic = Topic(self.stack.target, names.results_topic, names.results_topic_arn)
        with aws_errors(f"reading sns topic {names.results_topic}"):
            if topic.read() is None:
                raise ConfigError(
                    f"stack {names.prefix!r} is not deployed in {names.region} (no topic "
                    f"{names.results_topic}): run `tools deploy` or `tools local up` first"
                )
        self._creating = True  # from here on, stop() removes what was made
        plan.run(self.resources, dry_run=False)
        sqs = self.stack.target.client("sqs")
        url = str(sqs.get_queue_url(QueueName=self.queue)["QueueUrl"])
        follower = Follower(sqs, url, poll_s=self.poll_s)
        self._thread = threading.Thread(
            target=self._follow, args=(follower,), name="dashboard-feed", daemon=True
        )
        self._thread.start()

    def _follow(self, follower: Follower) -> None:
        while not self._stop.is_set():
            try:
                follower.follow(self.feed.add, timeout_s=self.poll_s)
                self.feed.error = None
            except Exception as exc:  # shown on the page; the follower tries again
                self.feed.error = f"reading {self.queue}: {exc}"
                self.on_error(self.feed.error)
                self._stop.wait(self.poll_s)

    def stop(self) -> None:
        """Stop following and delete the subscription, then the queue (nothing when start
        made nothing)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.poll_s + 30)
        if self._creating:
            plan.remove(reversed(self.resources), dry_run=False)
