"""Load: N simulated devices, each uploading a real 0.5 s H.264 clip every 0.5 s for M seconds.

A simulated device does what edge-capture's uploader does (a clip key from shared-schema,
PutObject into the clips bucket) without encoding: one clip is encoded once
and uploaded under every key, so the machine's CPU goes to the system under test (moto and
the local runner), not to N encoders a real deployment would run on N cameras. "Capture end"
is the instant the simulated clip finishes recording; latency runs from there to the moment
the result is read from the results queue.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psutil

from rollcall_tools.errors import JobFailedError
from rollcall_tools.reliability.harness import InstrumentedStack
from rollcall_tools.reliability.workload import clip_key, face_clip, utc_from_epoch
from rollcall_tools.stats import latency_stats

log = logging.getLogger(__name__)
CLIP_SECONDS = 0.5
P95_LIMIT_MS = 2000.0
"""The original design's latency target: saturation is where p95 exceeds it."""


@dataclass(frozen=True)
class LoadPlan:
    """What one soak run offers."""

    devices: int = 8
    seconds: float = 60.0
    clips_per_s: float = 2.0
    drain_s: float = 600.0
    """After the last upload, how long to wait for outstanding results (then: lost)."""
    width: int = 640
    height: int = 480


@dataclass
class Sent:
    key: str
    device: int
    capture_end: float
    uploaded_at: float | None = None
    error: str | None = None


@dataclass
class SoakReport:
    """The figures of one soak run."""

    devices: int
    seconds: float
    clips_per_s_per_device: float
    workers: int
    sent: int
    uploaded: int
    upload_errors: int
    answered: int
    lost: int
    duplicates: int
    statuses: dict[str, int]
    latency_ms: dict[str, float | None]
    throughput_clips_per_s: float
    drained_after_s: float
    cpu: dict[str, Any]
    timeline: list[tuple[float, float]] = field(default_factory=list, repr=False)
    """(seconds since start at capture end, latency ms) for every answered clip."""
    lost_keys: list[str] = field(default_factory=list)

    @property
    def saturated(self) -> bool:
        p95 = self.latency_ms.get("p95")
        return self.lost > 0 or p95 is None or p95 > P95_LIMIT_MS

    def to_json(self, *, timeline: bool = False) -> dict[str, Any]:
        data = {
            "devices": self.devices,
            "seconds": self.seconds,
            "clips_per_s_per_device": self.clips_per_s_per_device,
            "offered_clips_per_s": round(self.devices * self.clips_per_s_per_device, 2),
            "workers": self.workers,
            "sent": self.sent,
            "uploaded": self.uploaded,
            "upload_errors": self.upload_errors,
            "answered": self.answered,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "statuses": self.statuses,
            "latency_ms": self.latency_ms,
            "throughput_clips_per_s": self.throughput_clips_per_s,
            "drained_after_s": self.drained_after_s,
            "cpu": self.cpu,
            "lost_keys": self.lost_keys[:20],
        }
        if timeline:
            data["timeline"] = [[round(t, 3), round(ms, 1)] for t, ms in self.timeline]
        return data


def _device(
    *,
    index: int,
    session: str,
    plan: LoadPlan,
    t0: float,
    stop: threading.Event,
    pool: ThreadPoolExecutor,
    upload: Any,
    sent: list[Sent],
    lock: threading.Lock,
) -> None:
    period = 1.0 / plan.clips_per_s
    count = int(plan.seconds * plan.clips_per_s)
    offset = (index / max(1, plan.devices)) * period  # devices are not in lock-step
    for seq in range(count):
        capture_end = t0 + offset + (seq + 1) * period
        delay = capture_end - time.time()
        if delay > 0 and stop.wait(delay):
            return
        key = clip_key(
            f"soak-{index:03d}", session, seq, utc_from_epoch(capture_end - CLIP_SECONDS)
        )
        item = Sent(key, index, capture_end)
        with lock:
            sent.append(item)
        pool.submit(upload, item)


def run_load(
    stack: InstrumentedStack, plan: LoadPlan, *, stop: threading.Event | None = None
) -> SoakReport:
    """Offer ``plan``'s load to a running stack and account for every clip."""
    stop = stop or threading.Event()
    body = face_clip(plan.width, plan.height)
    s3 = stack.client("s3")
    bucket = stack.bucket
    session = "soak" + uuid.uuid4().hex[:10]

    def upload(item: Sent) -> None:
        try:  # botocore retries what can be retried (the client's standard mode)
            s3.put_object(Bucket=bucket, Key=item.key, Body=body, ContentType="video/mp4")
            item.uploaded_at = time.time()
        except Exception as exc:
            item.error = f"{type(exc).__name__}: {exc}"

    sent: list[Sent] = []
    lock = threading.Lock()
    cpu_before = _cpu_snapshot(stack)
    psutil.cpu_percent(None)
    t0 = time.time()
    with ThreadPoolExecutor(
        max_workers=min(32, 2 * plan.devices + 2), thread_name_prefix="upload"
    ) as pool:
        devices = [
            threading.Thread(
                target=_device,
                kwargs={
                    "index": i,
                    "session": session,
                    "plan": plan,
                    "t0": t0,
                    "stop": stop,
                    "pool": pool,
                    "upload": upload,
                    "sent": sent,
                    "lock": lock,
                },
                name=f"device-{i}",
                daemon=True,
            )
            for i in range(plan.devices)
        ]
        for thread in devices:
            thread.start()
        for thread in devices:
            thread.join()
    sending_done = time.time()
    keys = [s.key for s in sent if s.uploaded_at is not None]
    stack.book.wait_for(keys, plan.drain_s)
    drained = time.time()
    busy = psutil.cpu_percent(None)
    cpu_after = _cpu_snapshot(stack)
    verdict = stack.book.verdict(keys)
    latencies: list[float] = []
    timeline: list[tuple[float, float]] = []
    statuses: dict[str, int] = {}
    last_answer = t0
    for item in sent:
        answer = stack.book.first(item.key)
        if answer is None:
            continue
        ms = (answer.received_at - item.capture_end) * 1000
        latencies.append(ms)
        timeline.append((item.capture_end - t0, ms))
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        last_answer = max(last_answer, answer.received_at)
    wall = max(1e-6, drained - t0)
    elapsed = {name: round(cpu_after[name] - cpu_before[name], 2) for name in cpu_before}
    cores = psutil.cpu_count() or 1
    return SoakReport(
        devices=plan.devices,
        seconds=plan.seconds,
        clips_per_s_per_device=plan.clips_per_s,
        workers=stack.options.workers,
        sent=len(sent),
        uploaded=len(keys),
        upload_errors=sum(1 for s in sent if s.uploaded_at is None),
        answered=verdict.clips - verdict.lost,
        lost=verdict.lost + sum(1 for s in sent if s.uploaded_at is None),
        duplicates=verdict.duplicates,
        statuses=statuses,
        latency_ms=latency_stats(latencies),
        throughput_clips_per_s=round(len(latencies) / max(1e-6, last_answer - t0), 2),
        drained_after_s=round(max(0.0, drained - sending_done), 1),
        cpu={
            "cores": cores,
            "busy_percent": round(busy, 1),
            "runner_cpu_s": elapsed["runner"],
            "moto_cpu_s": elapsed["moto"],
            "harness_cpu_s": elapsed["harness"],
            "runner_cores_used": round(elapsed["runner"] / wall, 2),
            "wall_s": round(wall, 1),
            "load_avg_1m_at_end": round(psutil.getloadavg()[0], 2),
        },
        timeline=timeline,
        lost_keys=verdict.lost_keys,
    )


def _cpu_snapshot(stack: InstrumentedStack) -> dict[str, float]:
    me = psutil.Process().cpu_times()
    return {
        "runner": stack.runner_cpu_s(),
        "moto": stack.server_cpu_s(),
        "harness": me.user + me.system,
    }


def _wait_workers_polling(stack: InstrumentedStack, timeout_s: float) -> None:
    """Wait until every runner worker has started and gone quiet (it is long-polling)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        workers = stack.workers()
        if len(workers) >= stack.options.workers:
            try:
                before = [sum(w.cpu_times()[:2]) for w in workers]
                time.sleep(0.5)
                after = [sum(w.cpu_times()[:2]) for w in workers]
            except psutil.Error:
                continue
            if all(b - a < 0.1 for a, b in zip(before, after, strict=True)):
                return
        else:
            time.sleep(0.2)


def warm_up(stack: InstrumentedStack, clips: int, timeout_s: float = 300.0) -> float:
    """Send ``clips`` clips and wait for their answers (each worker loads its model on its
    first clip); returns the seconds it took. Not counted in any report.

    The workers are first given time to start polling, and the clips are spaced a second
    apart, so that each lands on an idle worker rather than all in one worker's batch.
    """
    start = time.time()
    _wait_workers_polling(stack, timeout_s / 2)
    body = face_clip()
    s3 = stack.client("s3")
    session = "warm" + uuid.uuid4().hex[:8]
    keys = []
    for seq in range(clips):
        key = clip_key("warmup", session, seq, utc_from_epoch(start))
        s3.put_object(Bucket=stack.bucket, Key=key, Body=body)
        keys.append(key)
        time.sleep(1.0)
    if not stack.book.wait_for(keys, timeout_s):
        raise JobFailedError(
            f"warm-up: the local runner did not answer {clips} clips within {timeout_s:.0f} s "
            f"(logs in {stack.options.work_dir}; use --work-dir to keep them)"
        )
    return time.time() - start


@dataclass
class Saturation:
    """The saturation search: p95 at each device count until it exceeds the limit."""

    steps: list[SoakReport]
    limit_ms: float = P95_LIMIT_MS

    @property
    def saturation_devices(self) -> int | None:
        """The fewest devices at which p95 exceeded the limit (None: never, up to the max tried)."""
        for step in self.steps:
            if step.saturated:
                return step.devices
        return None

    @property
    def max_sustained_devices(self) -> int | None:
        ok = [s.devices for s in self.steps if not s.saturated]
        return max(ok) if ok else None

    def to_json(self) -> dict[str, Any]:
        return {
            "p95_limit_ms": self.limit_ms,
            "saturation_devices": self.saturation_devices,
            "max_sustained_devices": self.max_sustained_devices,
            "steps": [
                {
                    "devices": s.devices,
                    "offered_clips_per_s": round(s.devices * s.clips_per_s_per_device, 2),
                    "sent": s.sent,
                    "answered": s.answered,
                    "lost": s.lost,
                    "throughput_clips_per_s": s.throughput_clips_per_s,
                    "latency_ms": s.latency_ms,
                    "busy_percent": s.cpu["busy_percent"],
                }
                for s in self.steps
            ],
        }


def search_saturation(
    stack: InstrumentedStack,
    *,
    max_devices: int,
    seconds: float,
    clips_per_s: float = 2.0,
    drain_s: float = 300.0,
    on_step: Any = None,
) -> Saturation:
    """Double the devices (1, 2, 4, ...) until p95 exceeds the limit, then bisect between the
    last good and the first bad count. Each step is a fresh session on the same stack."""
    steps: dict[int, SoakReport] = {}

    def measure(devices: int) -> SoakReport:
        report = run_load(
            stack,
            LoadPlan(devices=devices, seconds=seconds, clips_per_s=clips_per_s, drain_s=drain_s),
        )
        steps[devices] = report
        if on_step is not None:
            on_step(report)
        return report

    good, bad = 0, None
    devices = 1
    while devices <= max_devices:
        if measure(devices).saturated:
            bad = devices
            break
        good = devices
        devices *= 2
    if bad is None and good < max_devices and good * 2 > max_devices:
        if measure(max_devices).saturated:
            bad = max_devices
        else:
            good = max_devices
    while bad is not None and bad - good > 1:
        middle = (good + bad) // 2
        if measure(middle).saturated:
            bad = middle
        else:
            good = middle
    return Saturation(steps=[steps[d] for d in sorted(steps)])
