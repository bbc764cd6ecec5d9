"""``tools demo``: local stack up, recognizer enrolled, videos streamed live, summary, teardown."""

from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from edge_capture.gate import GateMode
from face_model.backbones import DEFAULT_BACKBONE
from rollcall_tools.aws import LOCAL_CREDENTIALS
from rollcall_tools.demo.attendance import take_attendance
from rollcall_tools.demo.inputs import VideoInput, resolve_inputs
from rollcall_tools.demo.library import enroll_gallery
from rollcall_tools.demo.recognizer import choose_recognizer
from rollcall_tools.demo.report import DemoReport
from rollcall_tools.errors import ServiceUnreachableError, ToolsError
from rollcall_tools.local import stack as local_stack
from rollcall_tools.local.state import LocalState

Say = Callable[[str], None]
DEMO_DEVICE = "demo"
"""The demo's edge device: registered with the stack, so it has its own results queue."""


@dataclass(frozen=True)
class DemoOptions:
    videos: Path | None = None
    roster: Path | None = None
    gallery: Path | None = None
    backbone: str | None = None
    weights: Path | None = None
    person_seconds: float = 3.0
    gate: GateMode = "motion"
    workers: int = 1
    region: str = "us-east-1"
    stack: str = "rollcall"
    fast: bool = False
    clip_seconds: float = 0.5
    result_wait_s: float = 120.0
    attendance_png: Path = Path("rollcall-attendance.png")


@contextmanager
def interrupts(stop: threading.Event, abort: threading.Event, say: Say) -> Iterator[None]:
    """While streaming, Ctrl-C / SIGTERM stop capture gracefully (in-flight clips are still
    answered and the stack torn down); a second one cuts the waits short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():
            abort.set()
            return
        stop.set()
        say(
            f"{signal.Signals(signum).name}: stopping capture; waiting for the clips in "
            "flight (again to abort)"
        )

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler or signal.SIG_DFL)


def _terminate(_signum: int, _frame: object) -> None:
    """SIGTERM outside streaming: unwind like Ctrl-C so that teardown runs."""
    raise KeyboardInterrupt


@contextmanager
def local_credentials() -> Iterator[None]:
    """moto's dummy credentials for this process while the demo runs (never real ones)."""
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ["AWS_ACCESS_KEY_ID"] = LOCAL_CREDENTIALS["aws_access_key_id"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = LOCAL_CREDENTIALS["aws_secret_access_key"]
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def session_id(video: Path) -> str:
    """A clip-key-safe session id from the file name (plus time, so reruns never collide)."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", video.stem).strip("-_")[:40] or "video"
    return f"{stem}-{int(time.time() * 1000) % 10**9}"


def describe(outcome: object, video: str) -> str:
    """One live line per answered clip."""
    from edge_capture import ClipOutcome

    assert isinstance(outcome, ClipOutcome)
    latency = (
        f"{outcome.capture_to_result_ms:.0f} ms"
        if outcome.capture_to_result_ms is not None
        else "-"
    )
    if outcome.people:
        who = ", ".join(
            f"{p.name} ({p.major or '?'}, {p.year or '?'}; sim {p.similarity:.2f})"
            for p in outcome.people
        )
    elif outcome.status == "error":
        who = f"error: {outcome.error}"
    elif outcome.status == "unknown":
        who = f"{outcome.unknown_faces} face(s), nobody identified"
    else:
        who = outcome.status.replace("_", " ")
    if outcome.people and outcome.unknown_faces:
        who += f" + {outcome.unknown_faces} unknown face(s)"
    return f"  {video} clip {outcome.seq:>3}: {who}  [{latency}]"


def stream_video(
    state: LocalState,
    video: VideoInput,
    options: DemoOptions,
    *,
    work_dir: Path,
    say: Say,
    stop: threading.Event,
    abort: threading.Event,
) -> object:
    """Run one edge-capture session on ``video`` against the local stack."""
    from edge_capture import EdgeConfig, EdgeError, run_session

    try:
        config = EdgeConfig(
            bucket=str(state.outputs["bucket"]),
            results_queue=str(state.devices[DEMO_DEVICE]["results_queue"]),
            source=str(video.path),
            resolution=(video.width, video.height),
            fps=video.fps,
            clip_seconds=options.clip_seconds,
            duration_s=3600.0,
            fast=options.fast,
            endpoint_url=state.endpoint_url,
            region=state.region,
            device_id=DEMO_DEVICE,
            session_id=session_id(video.path),
            spool_dir=work_dir / "spool" / video.path.stem,
            gate=options.gate,
            result_wait_s=options.result_wait_s,
            poll_wait_s=1,
        )
        return run_session(config, on_result=lambda o: say(describe(o, video.path.name)), stop=stop)
    except EdgeError as exc:
        raise ToolsError(f"edge-capture on {video.path.name}: {exc}") from None


def run_demo(options: DemoOptions, say: Say) -> DemoReport:
    """The whole demo; the local stack is torn down whatever happens."""
    stop, abort = threading.Event(), threading.Event()
    main = threading.current_thread() is threading.main_thread()
    previous_term = signal.signal(signal.SIGTERM, _terminate) if main else None
    try:
        with tempfile.TemporaryDirectory(prefix="rollcall-demo-") as tmp:
            return _run(options, say, Path(tmp), stop, abort)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous_term or signal.SIG_DFL)


def _run(
    options: DemoOptions, say: Say, work_dir: Path, stop: threading.Event, abort: threading.Event
) -> DemoReport:
    inputs = resolve_inputs(
        work_dir,
        videos=options.videos,
        roster=options.roster,
        gallery=options.gallery,
        person_seconds=options.person_seconds,
    )
    if inputs.bundled:
        say(
            "demo video: Eileen Collins (skimage's astronaut) and Grace Hopper (matplotlib's "
            "sample photo) in turn; the same photos are enrolled, so this shows the pipeline "
            "working, not how well recognition generalises"
        )
    choice = choose_recognizer(
        backbone=options.backbone,
        weights=options.weights,
        people=inputs.gallery,
        work_dir=work_dir,
        progress=say,
    )
    say(choice.note)
    state_dir = work_dir / "state"
    # dlib's built-in networks: the runner starts with an empty face library and the people
    # are enrolled through it; a torch backbone's artifact brings its gallery (imported)
    through_library = choice.mode == "pretrained" and choice.backbone == DEFAULT_BACKBONE
    through_library = through_library and options.weights is None
    try:
        with local_credentials():
            state = local_stack.up(
                state_dir,
                region=options.region,
                stack=options.stack,
                roster=inputs.roster,
                model_dir=None if through_library else choice.artifact_dir,
                workers=options.workers,
                devices=[DEMO_DEVICE],
                say=say,
            )
            if through_library:
                enroll_gallery(state, inputs.gallery, say)
            report = DemoReport(choice.mode, choice.note, choice.backbone, options.gate)
            with interrupts(stop, abort, say):
                for video in inputs.videos:
                    if stop.is_set():
                        break
                    size = f"{video.width}x{video.height} @ {video.fps:g} fps"
                    say(f"streaming {video.path.name} ({size})")
                    summary = stream_video(
                        state, video, options, work_dir=work_dir, say=say, stop=stop, abort=abort
                    )
                    report.sessions[video.path.name] = summary  # type: ignore[assignment]
                    _check_runner(state)
            report.interrupted = stop.is_set()
            take_attendance(state, report, options.attendance_png)
            return report
    finally:
        local_stack.down(state_dir)


def _check_runner(state: LocalState) -> None:
    if state.runner is not None and not state.runner.alive:
        from rollcall_tools.local.processes import log_tail

        raise ServiceUnreachableError(
            "the local runner (cloud-handler serve) died: " + log_tail(state.runner.log, 5)
        )
