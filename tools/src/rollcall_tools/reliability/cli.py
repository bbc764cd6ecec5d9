"""``tools soak`` and ``tools faults``: bounded, loopback-only runs on an instrumented stack."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from rollcall_tools.cli_common import ModelDir
from rollcall_tools.errors import ConfigError, JobFailedError
from rollcall_tools.output import err, handles_errors, out, print_json
from rollcall_tools.reliability.faults import (
    DEFAULT_VIDEOS,
    RUNNERS,
    SCENARIOS,
    FaultPlan,
    ScenarioResult,
    course_videos,
)
from rollcall_tools.reliability.harness import (
    OUTAGE_MODES,
    InstrumentedStack,
    StackOptions,
    default_workers,
)
from rollcall_tools.reliability.report import (
    faults_table,
    plot_latency,
    saturation_table,
    soak_table,
)
from rollcall_tools.reliability.soak import (
    LoadPlan,
    Saturation,
    run_load,
    search_saturation,
    warm_up,
)
from rollcall_tools.settings import load_settings
from rollcall_tools.stack.settings import QUEUE_MAX_RECEIVES

Json = Annotated[bool, typer.Option("--json", help="Print one JSON object only (on stdout).")]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        max=64,
        help="Local runner worker processes (default: one per core).",
    ),
]
WorkDir = Annotated[
    Path | None,
    typer.Option(
        "--work-dir",
        help="Keep logs (moto, runner, edge) here; default: a temporary directory, removed.",
    ),
]
VISIBILITY_S = 30
"""The events queue's visibility timeout for the proofs: a function timeout of 5 s (clips take
well under a second here). Deploy's default (180 s) would hold a dead worker's clip for 3
minutes and a dead-letter run (6 deliveries) for 18."""
Visibility = Annotated[
    int,
    typer.Option(
        "--visibility-timeout",
        min=6,
        max=900,
        help="The events queue's visibility timeout (s): how soon a failed or dead worker's "
        "clip is delivered again. The stack gets a function timeout of a sixth of it, as "
        "deploy does.",
    ),
]


@contextlib.contextmanager
def _work_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="rollcall-reliability-") as tmp:
        yield Path(tmp)


def _options(
    work: Path,
    workers: int | None,
    model_dir: Path | None,
    visibility: int,
    max_receives: int = QUEUE_MAX_RECEIVES,
) -> StackOptions:
    model_dir = model_dir or load_settings().model_dir
    if model_dir is not None and not (model_dir / "manifest.json").is_file():
        raise ConfigError(f"--model-dir {model_dir}: no manifest.json there (not an artifact)")
    return StackOptions(
        work_dir=work,
        workers=workers or default_workers(),
        model_dir=model_dir.resolve() if model_dir else None,
        visibility_s=visibility,
        max_receives=max_receives,
    )


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        err.print(message)


@contextlib.contextmanager
def _warm_stack(
    work_dir: Path | None,
    workers: int | None,
    model_dir: Path | None,
    visibility: int,
    *,
    quiet: bool,
    max_receives: int = QUEUE_MAX_RECEIVES,
) -> Iterator[tuple[Path, InstrumentedStack, float]]:
    """The instrumented stack, started in ``work_dir`` (default: a temporary directory) and
    warmed up (every worker has loaded its model): the directory, the stack, the warm-up's
    seconds."""
    logging.getLogger("botocore").setLevel(logging.ERROR)
    with _work_dir(work_dir) as work:
        options = _options(work, workers, model_dir, visibility, max_receives)
        _say(quiet, f"starting the local stack ({options.workers} runner workers) in {work}")
        with InstrumentedStack(options) as stack:
            yield work, stack, warm_up(stack, 2 * options.workers)


DevicesOpt = Annotated[
    int,
    typer.Option("--devices", min=1, max=64, help="Simulated devices."),
]
SecondsOpt = Annotated[
    float,
    typer.Option(
        "--seconds",
        min=1,
        max=3600,
        help="Seconds each device sends.",
    ),
]
RateOpt = Annotated[
    float,
    typer.Option(
        "--clips-per-second",
        min=0.1,
        max=10,
        help="Clips per second per device.",
    ),
]
DrainOpt = Annotated[
    float,
    typer.Option(
        "--drain-seconds",
        min=1,
        max=3600,
        help="After sending, seconds to wait for outstanding results (then: lost).",
    ),
]
SaturationOpt = Annotated[
    bool,
    typer.Option(
        "--saturation/--no-saturation",
        help="Also search the devices count at which p95 latency exceeds 2 s.",
    ),
]
MaxDevicesOpt = Annotated[
    int,
    typer.Option(
        "--max-devices",
        min=1,
        max=64,
        help="Saturation search: most devices tried.",
    ),
]
StepSecondsOpt = Annotated[
    float,
    typer.Option(
        "--step-seconds",
        min=1,
        max=600,
        help="Saturation search: seconds per step.",
    ),
]
PlotOpt = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        help="Write a PNG of latency over time (and the saturation curve).",
    ),
]


@handles_errors
def soak(
    *,
    devices: DevicesOpt = 8,
    seconds: SecondsOpt = 60.0,
    rate: RateOpt = 2.0,
    drain: DrainOpt = 600.0,
    saturation: SaturationOpt = False,
    max_devices: MaxDevicesOpt = 16,
    step_seconds: StepSecondsOpt = 20.0,
    plot: PlotOpt = None,
    workers: Workers = None,
    model_dir: ModelDir = None,
    visibility: Visibility = VISIBILITY_S,
    work_dir: WorkDir = None,
    as_json: Json = False,
) -> None:
    """Load test: N simulated devices, each sending a real H.264 clip every 1/rate s for M s,
    to a local stack on loopback. Reports sent, answered, lost, latency and CPU; exits 1 if
    any clip is lost."""
    with _warm_stack(work_dir, workers, model_dir, visibility, quiet=as_json) as (_, stack, took):
        _say(
            as_json, f"warm-up {took:.1f} s; {devices} devices x {rate:g} clips/s for {seconds:g} s"
        )
        report = run_load(
            stack, LoadPlan(devices=devices, seconds=seconds, clips_per_s=rate, drain_s=drain)
        )
        found: Saturation | None = None
        if saturation:
            _say(
                as_json,
                f"saturation search up to {max_devices} devices, {step_seconds:g} s per step",
            )
            found = search_saturation(
                stack,
                max_devices=max_devices,
                seconds=step_seconds,
                clips_per_s=rate,
                drain_s=drain,
                on_step=lambda r: _say(
                    as_json, f"  {r.devices} devices: p95 {r.latency_ms['p95']} ms, lost {r.lost}"
                ),
            )
    if plot is not None:
        plot_latency(report, plot, found)
    data: dict[str, Any] = report.to_json()
    data["saturation"] = found.to_json() if found else None
    data["plot"] = str(plot) if plot else None
    if as_json:
        print_json(data)
    else:
        out.print(soak_table(report))
        if found is not None:
            out.print(saturation_table(found))
            out.print(f"p95 exceeds 2 s from {found.saturation_devices} devices on")
    if report.lost:
        raise JobFailedError(f"{report.lost} of {report.sent} clips were lost")


OutageSOpt = Annotated[
    float,
    typer.Option(
        "--outage-seconds",
        min=0.5,
        max=600,
        help="How long the local AWS endpoint stays down in the outage scenario.",
    ),
]
ModeOpt = Annotated[
    str,
    typer.Option(
        "--outage-mode",
        help="'refuse': connections refused and reset (the endpoint is down); "
        "'freeze': moto SIGSTOPped (it hangs). Either way its state survives.",
    ),
]
ScenariosOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--scenario",
        help=f"Run only these (repeatable): {', '.join(SCENARIOS)}.",
    ),
]
ClipsOpt = Annotated[
    int,
    typer.Option(
        "--clips",
        min=2,
        max=200,
        help="Clips per runner-side scenario.",
    ),
]
EdgeSecondsOpt = Annotated[
    float,
    typer.Option(
        "--edge-seconds",
        min=1,
        max=120,
        help="edge-capture records this long before a fault, and again after it.",
    ),
]
MaxReceivesOpt = Annotated[
    int,
    typer.Option(
        "--max-receives",
        min=1,
        max=20,
        help="Deliveries of a failing message before the events queue dead-letters it.",
    ),
]
VideosOpt = Annotated[
    Path,
    typer.Option(
        "--videos",
        help="Folder of .mp4 videos the re-upload scenario uploads at the bucket root "
        "(the first --clips of them, by name): the course's test videos.",
    ),
]


@handles_errors
def faults(
    *,
    outage_s: OutageSOpt = 30.0,
    mode: ModeOpt = "refuse",
    scenarios: ScenariosOpt = None,
    clips: ClipsOpt = 8,
    edge_seconds: EdgeSecondsOpt = 4.0,
    max_receives: MaxReceivesOpt = QUEUE_MAX_RECEIVES,
    videos: VideosOpt = DEFAULT_VIDEOS,
    workers: Workers = None,
    model_dir: ModelDir = None,
    visibility: Visibility = VISIBILITY_S,
    work_dir: WorkDir = None,
    as_json: Json = False,
) -> None:
    """Fault scenarios on a local stack (loopback only); each must end with every captured
    clip answered exactly once. Exits 1 if any scenario fails."""
    chosen = list(scenarios or SCENARIOS)
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        raise ConfigError(f"--scenario {unknown[0]!r}: choose from {', '.join(SCENARIOS)}")
    if mode not in OUTAGE_MODES:
        raise ConfigError(f"--outage-mode {mode!r}: choose 'refuse' or 'freeze'")
    if "re-upload" in chosen and not course_videos(videos, clips):
        raise ConfigError(f"--videos {videos}: no .mp4 videos there (the re-upload scenario)")
    plan = FaultPlan(
        outage_s=outage_s,
        outage_mode=mode,
        clips=clips,
        edge_lead_s=edge_seconds,
        edge_tail_s=edge_seconds,
        videos=videos,
    )
    results: list[ScenarioResult] = []
    with _warm_stack(
        work_dir, workers, model_dir, visibility, quiet=as_json, max_receives=max_receives
    ) as (work, stack, _):
        for name in chosen:
            _say(as_json, f"scenario {name} ...")
            result = RUNNERS[name](stack, work, plan)
            _say(as_json, f"  {name}: {'ok' if result.ok else 'FAILED'} ({result.seconds:.0f} s)")
            results.append(result)
    ok = all(r.ok for r in results)
    if as_json:
        print_json(
            {
                "ok": ok,
                "outage_seconds": outage_s,
                "outage_mode": mode,
                "workers": stack.options.workers,
                "scenarios": {r.name: r.to_json() for r in results},
            }
        )
    else:
        out.print(faults_table(results))
    if not ok:
        failed = [r.name for r in results if not r.ok]
        raise JobFailedError(f"scenario(s) failed: {', '.join(failed)}")
