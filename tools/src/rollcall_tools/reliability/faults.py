"""Fault scenarios on the instrumented local stack; each ends with an exactly-once verdict.

* ``outage``: edge-capture runs; the AWS endpoint goes away for ``outage_s`` mid-run (the relay
  refuses and resets connections, or moto is frozen with SIGSTOP) and comes back with its state.
* ``edge-kill``: edge-capture is SIGKILLed mid-run and started again on the same spool.
* ``worker-kill``: the local runner is SIGKILLed while it holds clips in flight, then restarted;
  the events queue redelivers them after its visibility timeout.
* ``duplicates``: every clip's S3 notification (the very record moto sent) is delivered three
  times, as S3 itself may: twice at once, and once more after the clip was answered.
* ``re-upload``: the course's test videos uploaded at the bucket root under their own names,
  then uploaded again (identical bytes, as the course's workload generator does on every run):
  a new PUT is a new object, so each upload is answered once (twice per key).
* ``poison``: a clip of corrupt bytes under a valid key among good ones.
* ``dead-letter``: DynamoDB is unreachable for the runner, so every delivery of some clips
  fails; the events queue dead-letters them after ``maxReceiveCount`` deliveries, nothing is
  answered; with DynamoDB back, ``tools dlq``'s re-drive answers each exactly once.
* ``three-devices``: three edge-capture processes at once, each on its own device's results
  route: each receives exactly its own results.

A clip is "captured" when it is committed (an object in the bucket, or a clip left in the
edge's spool); it is "answered once" when exactly one result message was sent for it (counted
by the harness's tap on the results queue, independently of the edge).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollcall_tools import dlq
from rollcall_tools.reliability.book import Verdict
from rollcall_tools.reliability.harness import InstrumentedStack
from rollcall_tools.reliability.workload import (
    clip_key,
    face_clip,
    utc_from_epoch,
    write_face_video,
)

log = logging.getLogger(__name__)
SCENARIOS = (
    "outage", "edge-kill", "worker-kill", "duplicates", "re-upload", "poison", "dead-letter",
    "three-devices",
)  # fmt: skip
DEFAULT_VIDEOS = Path("../shared/data/cse546-videos/videos")
"""The course's test videos (the re-upload scenario), from the repository root."""
POISON = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00" + bytes(range(256)) * 40


@dataclass(frozen=True)
class FaultPlan:
    """Sizes and times of the scenarios."""

    outage_s: float = 30.0
    outage_mode: str = "refuse"
    clips: int = 8
    """Clips per runner-side scenario (worker-kill, duplicates, poison)."""
    edge_lead_s: float = 4.0
    """Seconds edge-capture records before the fault."""
    edge_tail_s: float = 4.0
    """Seconds it records after the fault (outage) or in its second run (edge-kill)."""
    answer_timeout_s: float = 240.0
    videos: Path = DEFAULT_VIDEOS
    """Folder of the ``.mp4`` videos the re-upload scenario uploads (at most ``clips``)."""


@dataclass
class ScenarioResult:
    """One scenario's verdict and what happened."""

    name: str
    verdict: Verdict
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict.ok and not self.problems and self.verdict.clips > 0

    def to_json(self) -> dict[str, Any]:
        v = self.verdict.to_json()
        return {
            "scenario": self.name,
            "ok": self.ok,
            "clips": v["clips"],
            "answered_once": v["answered_once"],
            "lost": v["lost"],
            "duplicates": v["duplicates"],
            "conflicting": v["conflicting"],
            "seconds": round(self.seconds, 1),
            "details": self.details,
            "problems": self.problems,
            "lost_keys": v["lost_keys"],
            "duplicate_keys": v["duplicate_keys"],
        }


# -- helpers ------------------------------------------------------------------------------------
def _edge_executable() -> str:
    beside = Path(sys.executable).with_name("edge-capture")
    return str(beside) if beside.exists() else "edge-capture"


class EdgeRun:
    """An edge-capture process aimed at the stack (through the relay), in its own group."""

    def __init__(
        self,
        stack: InstrumentedStack,
        work: Path,
        *,
        video: Path,
        spool: Path,
        device: str,
        session: str,
        duration_s: float,
        tag: str,
    ) -> None:
        self.stdout_path = work / f"edge-{tag}.json"
        self.stderr_path = work / f"edge-{tag}.log"
        command = [
            _edge_executable(),
            "run",
            "--source",
            str(video),
            "--loop",
            "--resolution",
            "320x240",
            "--fps",
            "15",
            "--duration",
            str(duration_s),
            "--spool-dir",
            str(spool),
            "--device-id",
            device,
            "--session-id",
            session,
            "--flush-timeout",
            "180",
            "--result-wait",
            "180",
            "--poll-wait",
            "2",
            "--no-live",
            "--json",
            "--results",
            str(work / f"edge-{tag}.jsonl"),
        ]
        env = stack.edge_env(stack.add_device(device))  # its own results route
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the edge process (and anything it started)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def wait(self, timeout_s: float) -> int:
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def summary(self) -> dict[str, Any] | None:
        """The edge's ``--json`` summary (None when it printed none, e.g. it was killed)."""
        text = self.stdout_path.read_text(errors="replace").strip()
        start = text.find("{")
        if start < 0:
            return None
        try:
            return dict(json.loads(text[start:]))
        except ValueError:
            return None


def _edge_facts(summary: dict[str, Any] | None, code: int) -> dict[str, Any]:
    if summary is None:
        return {"exit_code": code, "summary": None}
    return {
        "exit_code": code,
        "clips_captured": summary.get("clips_captured"),
        "clips_resumed": summary.get("clips_resumed"),
        "clips_uploaded": summary.get("clips_uploaded"),
        "clips_answered": summary.get("clips_answered"),
        "clips_missing": summary.get("clips_missing"),
        "duplicate_results": summary.get("duplicate_results"),
        "earlier_run_results": summary.get("earlier_run_results"),
        "upload_retries": summary.get("upload_retries"),
        "latency_ms": summary.get("latency_ms"),
    }


def _session_keys(stack: InstrumentedStack, device: str, session: str) -> set[str]:
    """Every clip object of one edge session in the bucket."""
    s3 = stack.client("s3")
    keys: set[str] = set()
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=stack.bucket, Prefix=f"clips/{device}/{session}/"
    )
    for page in pages:
        keys.update(obj["Key"] for obj in page.get("Contents", []))
    return keys


def _await_upload(stack: InstrumentedStack, device: str, session: str, timeout_s: float) -> int:
    """Wait (bounded) until the edge session's first clip is in the bucket; the clips there."""
    deadline = time.monotonic() + timeout_s
    while not (keys := _session_keys(stack, device, session)) and time.monotonic() < deadline:
        time.sleep(0.25)
    return len(keys)


def _spool_keys(spool: Path) -> set[str]:
    """Clips committed to a spool and still waiting there (never uploaded)."""
    root = spool / "clips"
    if not root.exists():
        return set()
    return {
        str(p.relative_to(spool)) for p in root.rglob("*.mp4") if p.with_suffix(".json").exists()
    }


def _upload(stack: InstrumentedStack, key: str, body: bytes) -> None:
    stack.client("s3").put_object(
        Bucket=stack.bucket,
        Key=key,
        Body=body,
        ContentType="video/mp4",
    )


def _new_keys(device: str, n: int) -> tuple[list[str], float]:
    session = device + uuid.uuid4().hex[:8]
    start = time.time()
    return [clip_key(device, session, i, utc_from_epoch(start + i * 0.5)) for i in range(n)], start


def _events_quiet(stack: InstrumentedStack, timeout_s: float, settle_s: float = 2.0) -> bool:
    """Wait until the events queue holds nothing (visible or in flight) for ``settle_s``."""
    name = str(stack.outputs["events_queue"])
    deadline = time.monotonic() + timeout_s
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        visible, in_flight = stack.queue_depth(name)
        if visible == 0 and in_flight == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle_s:
                return True
        else:
            quiet_since = None
        time.sleep(0.25)
    return False


def _dlq_depth(stack: InstrumentedStack) -> int:
    return dlq.depth(stack.client("sqs"), stack.queue_url(stack.names.events_dlq))


def _finish(
    name: str,
    stack: InstrumentedStack,
    keys: set[str],
    started: float,
    plan: FaultPlan,
    *,
    per_key: int = 1,
    since: float = 0.0,
    **details: Any,
) -> ScenarioResult:
    """The verdict once every key has ``per_key`` answers received since ``since`` (epoch
    seconds) and the events queue is quiet."""
    stack.book.wait_for(keys, plan.answer_timeout_s, per_key=per_key, since=since)
    quiet = _events_quiet(stack, float(stack.outputs["events_visibility_s"]) + 60.0)
    verdict = stack.book.verdict(keys, per_key=per_key, since=since)
    result = ScenarioResult(name, verdict, time.monotonic() - started, details)
    if not quiet:
        result.problems.append("the events queue never drained (something keeps looping)")
    dlq = _dlq_depth(stack)
    result.details["events_dlq_messages"] = dlq
    if dlq:
        result.problems.append(f"{dlq} event(s) ended in the events dead-letter queue")
    if verdict.conflicting:
        result.problems.append(f"{verdict.conflicting} clip(s) got different answers")
    return result


# -- scenarios ----------------------------------------------------------------------------------
def outage(stack: InstrumentedStack, work: Path, plan: FaultPlan) -> ScenarioResult:
    """The endpoint goes away mid-run for ``plan.outage_s`` seconds and comes back."""
    started = time.monotonic()
    video = work / "face.mp4"
    write_face_video(video)
    device, session = "fault-outage", "s" + uuid.uuid4().hex[:10]
    spool = work / "spool-outage"
    duration = plan.edge_lead_s + plan.outage_s + plan.edge_tail_s
    edge = EdgeRun(
        stack, work, video=video, spool=spool, device=device, session=session,
        duration_s=duration, tag="outage",
    )  # fmt: skip
    # the outage starts once the edge is up and uploading (its start-up check would otherwise
    # meet the outage on a loaded machine and exit 3), after the lead it was planned with
    before = _await_upload(stack, device, session, timeout_s=duration + 120)
    time.sleep(plan.edge_lead_s)
    stack.outage(plan.outage_s, plan.outage_mode)
    code = edge.wait(duration + 400)
    summary = edge.summary()
    keys = _session_keys(stack, device, session) | _spool_keys(spool)
    keys |= {o["key"] for o in (summary or {}).get("outcomes", [])}
    result = _finish(
        "outage", stack, keys, started, plan,
        outage_s=plan.outage_s, mode=plan.outage_mode, uploaded_before_outage=before,
        edge=_edge_facts(summary, code),
    )  # fmt: skip
    _check_edge(result, summary, code)
    return result


def edge_kill(stack: InstrumentedStack, work: Path, plan: FaultPlan) -> ScenarioResult:
    """SIGKILL edge-capture mid-run; start it again with the same spool, device and session."""
    started = time.monotonic()
    video = work / "face.mp4"
    if not video.exists():
        write_face_video(video)
    device, session = "fault-kill", "s" + uuid.uuid4().hex[:10]
    spool = work / "spool-kill"
    first = EdgeRun(
        stack, work, video=video, spool=spool, device=device, session=session,
        duration_s=plan.edge_lead_s + 60, tag="kill-1",
    )  # fmt: skip
    time.sleep(plan.edge_lead_s + 1.0)
    first.kill()
    left_in_spool = len(_spool_keys(spool))
    uploaded_by_first = len(_session_keys(stack, device, session))
    second = EdgeRun(
        stack, work, video=video, spool=spool, device=device, session=session,
        duration_s=plan.edge_tail_s, tag="kill-2",
    )  # fmt: skip
    code = second.wait(plan.edge_tail_s + 400)
    summary = second.summary()
    keys = _session_keys(stack, device, session) | _spool_keys(spool)
    keys |= {o["key"] for o in (summary or {}).get("outcomes", [])}
    result = _finish(
        "edge-kill", stack, keys, started, plan,
        uploaded_before_kill=uploaded_by_first, left_in_spool_at_kill=left_in_spool,
        edge=_edge_facts(summary, code),
    )  # fmt: skip
    _check_edge(result, summary, code)
    return result


def _check_edge(result: ScenarioResult, summary: dict[str, Any] | None, code: int) -> None:
    if summary is None:
        result.problems.append(f"edge-capture printed no summary (exit {code})")
        return
    if summary.get("clips_missing"):
        result.problems.append(f"edge-capture reports {summary['clips_missing']} clip(s) missing")
    if code != 0:
        result.problems.append(f"edge-capture exited {code}")


NO_CLIP_HELD = "the killed worker held no clip (nothing was redelivered)"
WORKER_KILL_TRIES = 3


def worker_kill(stack: InstrumentedStack, work: Path, plan: FaultPlan) -> ScenarioResult:
    """SIGKILL a worker of the local runner mid-clip; its messages come back after the
    visibility timeout and are answered once.

    Which worker holds a clip at the instant of the kill is a race: when the victim turned
    out to hold none, the experiment did not happen (every clip is still checked), so it is
    run again with new clips, up to :data:`WORKER_KILL_TRIES` times.
    """
    for attempt in range(1, WORKER_KILL_TRIES + 1):
        result = _worker_kill_once(stack, plan)
        result.details["attempts"] = attempt
        if result.problems != [NO_CLIP_HELD] or not result.verdict.ok:
            return result
    return result


def _worker_kill_once(stack: InstrumentedStack, plan: FaultPlan) -> ScenarioResult:
    started = time.monotonic()
    body = face_clip()
    keys, _ = _new_keys("fault-worker", plan.clips)

    def feed() -> None:  # a steady trickle keeps every worker busy
        for key in keys:
            _upload(stack, key, body)
            time.sleep(0.25)

    feeder = threading.Thread(target=feed, name="worker-kill-feed", daemon=True)
    feeder.start()
    events = str(stack.outputs["events_queue"])
    in_flight = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, in_flight = stack.queue_depth(events)
        if in_flight and stack.book.answered(keys) < len(keys):  # a worker holds a clip
            break
        time.sleep(0.05)
    answered_before = stack.book.answered(keys)
    workers_before = len(stack.workers())
    killed = stack.kill_busiest_worker()
    feeder.join()
    time.sleep(1.0)
    workers_after = len(stack.workers())
    restarted = False
    if not stack.runner_alive():  # the last worker died: the runner stops; start it again
        if stack.runner is not None:
            stack.kill_runner()
        stack.start_runner()
        restarted = True
    result = _finish(
        "worker-kill", stack, set(keys), started, plan,
        killed_pid=killed, in_flight_at_kill=in_flight, answered_before_kill=answered_before,
        workers_before=workers_before, workers_after=workers_after, runner_restarted=restarted,
    )  # fmt: skip
    answered_late = [k for k in keys if any(a.attempt > 1 for a in stack.book.all(k))]
    replayed = _replayed_in_runner_logs(stack.options.work_dir, set(keys))
    result.details["redelivered_and_answered"] = len(answered_late)
    result.details["redelivered_and_replayed_from_store"] = len(replayed - set(answered_late))
    if not in_flight or killed is None:
        result.problems.append("no worker was killed with a clip in flight")
    elif not answered_late and not replayed:
        result.problems.append(NO_CLIP_HELD)
    return result


def _replayed_in_runner_logs(work: Path, keys: set[str]) -> set[str]:
    """Clips whose redelivery the handler answered from its idempotency store (its structured
    log says so; no second result is sent, which is the point)."""
    found: set[str] = set()
    for log_path in work.glob("runner-*.log"):
        for line in log_path.read_text(errors="replace").splitlines():
            if "duplicate delivery" not in line or not line.startswith("{"):
                continue
            try:
                key = json.loads(line).get("correlation_id")
            except ValueError:
                continue
            if key in keys:
                found.add(key)
    return found


def _captured_notifications(stack: InstrumentedStack, uploads: dict[str, bytes]) -> list[str]:
    """PUT ``uploads`` (key -> bytes) while the bucket notifies a capture queue instead of the
    events queue; returns the notifications moto sent (message bodies, one per object), for
    the scenario to deliver as often as it likes. The bucket's configuration is put back."""
    s3, sqs = stack.client("s3"), stack.client("sqs")
    saved = s3.get_bucket_notification_configuration(Bucket=stack.bucket)
    saved.pop("ResponseMetadata", None)
    url = sqs.create_queue(QueueName=f"capture-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    capture = {
        **saved,
        "QueueConfigurations": [
            {**c, "QueueArn": arn["QueueArn"]} for c in saved.get("QueueConfigurations", [])
        ],
    }
    bodies: list[str] = []
    try:
        s3.put_bucket_notification_configuration(
            Bucket=stack.bucket, NotificationConfiguration=capture
        )
        for key, data in uploads.items():
            _upload(stack, key, data)
        deadline = time.monotonic() + 60
        while len(bodies) < len(uploads) and time.monotonic() < deadline:
            reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in reply.get("Messages", []):
                if "Records" in json.loads(message["Body"]):  # not S3's s3:TestEvent
                    bodies.append(message["Body"])
    finally:
        s3.put_bucket_notification_configuration(
            Bucket=stack.bucket, NotificationConfiguration=saved
        )
        sqs.delete_queue(QueueUrl=url)
    return bodies


DELIVERIES = 3
"""Deliveries of each notification in the duplicates scenario."""


def duplicates(stack: InstrumentedStack, work: Path, plan: FaultPlan) -> ScenarioResult:
    """Each clip's own S3 notification delivered :data:`DELIVERIES` times: twice at once (two
    SQS messages carrying the one record, as S3 may send), once more after its answer (the
    store must still say "done"). One answer per clip."""
    started = time.monotonic()
    body = face_clip()
    keys, _ = _new_keys("fault-dup", plan.clips)
    sqs = stack.client("sqs")
    events_url = stack.queue_url(str(stack.outputs["events_queue"]))
    notifications = _captured_notifications(stack, dict.fromkeys(keys, body))
    for message in notifications:
        for _ in range(DELIVERIES - 1):
            sqs.send_message(QueueUrl=events_url, MessageBody=message)
    stack.book.wait_for(keys, plan.answer_timeout_s)
    for message in notifications:
        sqs.send_message(QueueUrl=events_url, MessageBody=message)
    result = _finish(
        "duplicates", stack, set(keys), started, plan,
        notifications=len(notifications), deliveries=len(notifications) * DELIVERIES,
    )  # fmt: skip
    if len(notifications) != len(keys):
        result.problems.append(f"moto sent {len(notifications)} notifications for {len(keys)}")
    return result


def course_videos(folder: Path, limit: int) -> list[Path]:
    """The first ``limit`` ``.mp4`` videos of ``folder``, by name."""
    return sorted(folder.glob("*.mp4"))[:limit]


def re_upload(stack: InstrumentedStack, work: Path, plan: FaultPlan) -> ScenarioResult:
    """The course's videos PUT at the bucket root under their own names, answered, then PUT
    again with identical bytes: a new PUT is a new object, so every upload is answered once
    (two answers per key, never a third)."""
    started, since = time.monotonic(), time.time()
    videos = {v.name: v.read_bytes() for v in course_videos(plan.videos, plan.clips)}
    for key, data in videos.items():
        _upload(stack, key, data)
    first_round = stack.book.wait_for(videos, plan.answer_timeout_s, since=since)
    for key, data in videos.items():
        _upload(stack, key, data)
    result = _finish(
        "re-upload", stack, set(videos), started, plan, per_key=2, since=since,
        videos=len(videos), uploads=2 * len(videos), first_round_answered=first_round,
    )  # fmt: skip
    if not videos:
        result.problems.append(f"no .mp4 videos in {plan.videos}")
    return result


def poison(stack: InstrumentedStack, work: Path, plan: FaultPlan) -> ScenarioResult:
    """A corrupt clip under a valid key in the middle of good ones."""
    started = time.monotonic()
    body = face_clip()
    keys, _ = _new_keys("fault-poison", plan.clips + 1)
    bad = keys[len(keys) // 2]
    for key in keys:
        _upload(stack, key, POISON if key == bad else body)
    result = _finish("poison", stack, set(keys), started, plan, poison_key=bad)
    answers = stack.book.all(bad)
    if answers:
        result.details["poison_status"] = answers[0].status
        result.details["poison_error"] = answers[0].error_code
        result.details["poison_attempt"] = answers[0].attempt
        if answers[0].status != "error":
            result.problems.append(f"the poison clip was answered {answers[0].status!r}, not error")
    failed_good = [
        k for k in keys if k != bad and (a := stack.book.first(k)) and a.status == "error"
    ]
    if failed_good:
        result.problems.append(f"{len(failed_good)} good clip(s) failed")
    return result


def dead_letter(stack: InstrumentedStack, work: Path, plan: FaultPlan) -> ScenarioResult:
    """DynamoDB unreachable: the clips fail on every delivery and end in the events DLQ, none
    answered; listed and re-driven once DynamoDB is back, each is answered exactly once."""
    assert stack.dynamodb_relay is not None
    started = time.monotonic()
    body = face_clip()
    keys, _ = _new_keys("fault-dlq", plan.clips)
    sqs = stack.client("sqs")
    dlq_url = stack.queue_url(stack.names.events_dlq)
    events_url = stack.queue_url(str(stack.outputs["events_queue"]))
    visibility = float(stack.outputs["events_visibility_s"])
    receives = int(stack.options.max_receives)
    stack.dynamodb_relay.shut()
    try:
        for key in keys:
            _upload(stack, key, body)
        # every delivery fails; SQS moves a message on its (maxReceiveCount + 1)th receive
        deadline = time.monotonic() + (receives + 2) * visibility + 60
        while _dlq_depth(stack) < len(keys) and time.monotonic() < deadline:
            time.sleep(0.5)
        answered_while_down = stack.book.answered(keys)
        listed = dlq.peek(sqs, dlq_url)
    finally:
        stack.dynamodb_relay.open()
    listed_keys = {o["key"] for letter in listed for o in letter.objects}
    moved = dlq.redrive(sqs, dlq_url, events_url)
    result = _finish(
        "dead-letter", stack, set(keys), started, plan,
        max_receives=receives, dead_lettered=len(listed), answered_while_down=answered_while_down,
        # SQS's receive count: the deliveries before dead-lettering, plus the listing's own
        receive_counts=sorted({letter.receives for letter in listed}),
        redriven=len(moved.moved),
    )  # fmt: skip
    if answered_while_down:
        result.problems.append(f"{answered_while_down} clip(s) answered while DynamoDB was down")
    if listed_keys != set(keys):
        result.problems.append(
            f"the DLQ listed {len(listed_keys & set(keys))} of {len(keys)} clips"
        )
    return result


DEVICES = 3


def three_devices(stack: InstrumentedStack, work: Path, plan: FaultPlan) -> ScenarioResult:
    """Three edge-capture processes at once: each receives its own results, no other's."""
    started = time.monotonic()
    video = work / "face.mp4"
    if not video.exists():
        write_face_video(video)
    runs = {}
    for n in range(DEVICES):
        device, session = f"fault-dev{n}", "s" + uuid.uuid4().hex[:10]
        runs[device] = (
            session,
            EdgeRun(
                stack, work, video=video, spool=work / f"spool-{device}", device=device,
                session=session, duration_s=plan.edge_tail_s, tag=device,
            ),
        )  # fmt: skip
    keys: set[str] = set()
    facts: dict[str, Any] = {}
    summaries = {}
    for device, (session, run) in runs.items():
        code = run.wait(plan.edge_tail_s + 400)
        summary = run.summary()
        summaries[device] = (summary, code)
        keys |= _session_keys(stack, device, session)
        facts[device] = {
            **_edge_facts(summary, code),
            "foreign_results": (summary or {}).get("foreign_results"),
        }
    result = _finish("three-devices", stack, keys, started, plan, devices=facts)
    for device, (summary, code) in summaries.items():
        _check_edge(result, summary, code)
        outcomes = (summary or {}).get("outcomes", [])
        strangers = [o["key"] for o in outcomes if not o["key"].startswith(f"clips/{device}/")]
        if strangers or (summary or {}).get("foreign_results"):
            result.problems.append(f"{device} received results of other devices")
    return result


RUNNERS: dict[str, Callable[[InstrumentedStack, Path, FaultPlan], ScenarioResult]] = {
    "outage": outage,
    "edge-kill": edge_kill,
    "worker-kill": worker_kill,
    "duplicates": duplicates,
    "re-upload": re_upload,
    "poison": poison,
    "dead-letter": dead_letter,
    "three-devices": three_devices,
}
