"""The ``edge-capture`` command: ``run`` a capture session, ``bench`` the encoder."""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.logging import RichHandler
from rich.table import Table

from edge_capture.config import SPOOL_POLICIES, build_config, parse_resolution
from edge_capture.errors import ConfigError, EdgeError
from edge_capture.version import edge_version

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    help="rollcall edge: record short H.264 clips, upload them to S3, collect the results.",
)
err = Console(stderr=True)
out = Console()


def _version(value: bool) -> None:
    if value:
        out.print(f"edge-capture {edge_version()}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """rollcall edge capture."""


def _fail(exc: EdgeError) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(exc.exit_code)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, rich_tracebacks=False)],
        force=True,
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)


Opt = typer.Option


@app.command()
def run(  # noqa: PLR0917 - a Typer command takes its options as parameters
    source: Annotated[
        str | None,
        Opt(
            help="picamera | PATH (video file) | /dev/videoN | rtsp://... or http(s)://... | test "
            "(synthetic). (default: test)",
            envvar="ROLLCALL_EDGE_SOURCE",
        ),
    ] = None,
    bucket: Annotated[
        str | None, Opt(help="S3 bucket for clips (required).", envvar="ROLLCALL_BUCKET")
    ] = None,
    results_queue: Annotated[
        str | None,
        Opt(help="Results SQS queue, name or URL (required).", envvar="ROLLCALL_RESULTS_QUEUE"),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        Opt(
            help="AWS endpoint (e.g. the local stack); default: AWS.",
            envvar="ROLLCALL_ENDPOINT_URL",
        ),
    ] = None,
    region: Annotated[
        str | None, Opt(help="AWS region. (default: us-east-1)", envvar="AWS_REGION")
    ] = None,
    device_id: Annotated[
        str | None,
        Opt(help="Device id in clip keys. (default: host name)", envvar="ROLLCALL_DEVICE_ID"),
    ] = None,
    session_id: Annotated[
        str | None,
        Opt(
            help="Session id in clip keys; reuse one to continue a session. (default: sUTCTIME)",
            envvar="ROLLCALL_SESSION_ID",
        ),
    ] = None,
    resolution: Annotated[
        str | None,
        Opt(help="Frame size WIDTHxHEIGHT. (default: 640x480)", envvar="ROLLCALL_EDGE_RESOLUTION"),
    ] = None,
    fps: Annotated[
        float | None, Opt(help="Frames per second. (default: 15)", envvar="ROLLCALL_EDGE_FPS")
    ] = None,
    clip_seconds: Annotated[
        float | None,
        Opt(help="Clip length in seconds. (default: 0.5)", envvar="ROLLCALL_EDGE_CLIP_SECONDS"),
    ] = None,
    duration: Annotated[
        float | None,
        Opt(
            help="Seconds of video to record (0: only upload the spool and collect results). "
            "(default: 300)",
            envvar="ROLLCALL_EDGE_DURATION",
        ),
    ] = None,
    fast: Annotated[
        bool | None,
        Opt(
            "--fast/--real-time",
            help="Play a file (or the test pattern) as fast as possible instead of in real time.",
            envvar="ROLLCALL_EDGE_FAST",
        ),
    ] = None,
    loop: Annotated[
        bool | None,
        Opt(
            "--loop/--no-loop", help="Restart a video file at its end.", envvar="ROLLCALL_EDGE_LOOP"
        ),
    ] = None,
    spool_dir: Annotated[
        Path | None,
        Opt(
            help="Spool directory. (default: $XDG_STATE_HOME/rollcall/spool)",
            envvar="ROLLCALL_EDGE_SPOOL_DIR",
        ),
    ] = None,
    spool_max_mb: Annotated[
        float | None,
        Opt(help="Spool bound in MiB. (default: 512)", envvar="ROLLCALL_EDGE_SPOOL_MAX_MB"),
    ] = None,
    spool_policy: Annotated[
        str | None,
        Opt(
            help="When the spool is full: 'pause' (record nothing new until uploads make room) "
            "or 'drop-oldest' (delete the oldest waiting clip, with a warning). (default: pause)",
            envvar="ROLLCALL_EDGE_SPOOL_POLICY",
        ),
    ] = None,
    uploaders: Annotated[
        int | None, Opt(help="Uploader threads. (default: 2)", envvar="ROLLCALL_EDGE_UPLOADERS")
    ] = None,
    flush_timeout: Annotated[
        float | None,
        Opt(
            help="After capture, seconds to wait for the spool to upload. (default: 60)",
            envvar="ROLLCALL_EDGE_FLUSH_TIMEOUT",
        ),
    ] = None,
    result_wait: Annotated[
        float | None,
        Opt(
            help="Then, seconds to wait for outstanding results. (default: 30)",
            envvar="ROLLCALL_EDGE_RESULT_WAIT",
        ),
    ] = None,
    poll_wait: Annotated[
        int | None,
        Opt(help="SQS long-poll seconds (0-20). (default: 5)", envvar="ROLLCALL_EDGE_POLL_WAIT"),
    ] = None,
    crf: Annotated[
        int | None,
        Opt(help="x264 quality (0-51, lower is better). (default: 23)", envvar="ROLLCALL_EDGE_CRF"),
    ] = None,
    gate: Annotated[
        str | None,
        Opt(
            help="Which clips to upload: 'motion' (clips that show motion, plus a keep-alive "
            "clip) or 'off' (every clip). (default: motion)",
            envvar="ROLLCALL_EDGE_GATE",
        ),
    ] = None,
    gate_threshold: Annotated[
        float | None,
        Opt(
            help="Gate sensitivity: how far a cell must differ from the background, in "
            "sensor-noise sigmas (lower: more sensitive). (default: 5)",
            envvar="ROLLCALL_EDGE_GATE_THRESHOLD",
        ),
    ] = None,
    gate_min_area: Annotated[
        float | None,
        Opt(
            help="Least changed area that counts as motion, in % of the watched frame. "
            "(default: 0.3)",
            envvar="ROLLCALL_EDGE_GATE_MIN_AREA",
        ),
    ] = None,
    gate_keepalive: Annotated[
        float | None,
        Opt(
            help="Upload a clip at least this often (seconds of video) even without motion, "
            "so a person sitting still is re-confirmed; 0: never. (default: 10)",
            envvar="ROLLCALL_EDGE_GATE_KEEPALIVE",
        ),
    ] = None,
    gate_mask: Annotated[
        str | None,
        Opt(
            help="Regions the gate ignores: rectangles 'x,y,w,h;x,y,w,h' in pixels, or an "
            "image (PNG/PGM) the size of the frame, white = ignored. (default: none)",
            envvar="ROLLCALL_EDGE_GATE_MASK",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        Opt(
            "--config",
            "-c",
            help="TOML file with any of these settings.",
            envvar="ROLLCALL_EDGE_CONFIG",
        ),
    ] = None,
    json_out: Annotated[
        bool,
        Opt("--json", help="Print the summary as JSON on stdout.", envvar="ROLLCALL_EDGE_JSON"),
    ] = False,
    results: Annotated[
        Path | None,
        Opt(
            help="Write every clip's outcome as JSON Lines to FILE.", envvar="ROLLCALL_EDGE_RESULTS"
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        Opt(help="Draw the latency distribution to FILE.png.", envvar="ROLLCALL_EDGE_PLOT"),
    ] = None,
    live: Annotated[
        bool,
        Opt(
            "--live/--no-live", help="Live view (only on a terminal).", envvar="ROLLCALL_EDGE_LIVE"
        ),
    ] = True,
    verbose: Annotated[
        bool, Opt("--verbose", "-v", help="Log progress.", envvar="ROLLCALL_EDGE_VERBOSE")
    ] = False,
) -> None:
    """Record clips, upload them, collect results; exit 1 when any clip got no result."""
    _setup_logging(verbose)
    try:
        overrides: dict[str, Any] = {
            "source": source,
            "bucket": bucket,
            "results_queue": results_queue,
            "endpoint_url": endpoint_url,
            "region": region,
            "device_id": device_id,
            "session_id": session_id,
            "fps": fps,
            "clip_seconds": clip_seconds,
            "duration_s": duration,
            "fast": fast,
            "loop": loop,
            "spool_dir": spool_dir,
            "spool_max_mb": spool_max_mb,
            "spool_policy": spool_policy,
            "uploaders": uploaders,
            "flush_timeout_s": flush_timeout,
            "result_wait_s": result_wait,
            "poll_wait_s": poll_wait,
            "crf": crf,
            "gate": gate,
            "gate_threshold": gate_threshold,
            "gate_min_area_pct": gate_min_area,
            "gate_keepalive_s": gate_keepalive,
            "gate_mask": gate_mask,
        }
        if resolution is not None:
            overrides["width"], overrides["height"] = parse_resolution(resolution)
        if spool_policy is not None and spool_policy not in SPOOL_POLICIES:
            raise ConfigError(f"spool-policy {spool_policy!r}: must be pause or drop-oldest")
        for path, what in ((results, "results"), (plot, "plot")):
            if path is not None and path.is_dir():
                raise ConfigError(f"{what} {path}: is a directory, expected a file")
        cfg = build_config(config, overrides)
        summary = _run_with_signals(cfg, live)
    except EdgeError as exc:
        raise _fail(exc) from None

    err.print(_summary_table(summary))
    if results is not None:
        from edge_capture.summary import write_results_jsonl

        count = write_results_jsonl(summary, results)
        err.print(f"wrote {count} results to {results}")
    if plot is not None:
        from edge_capture.summary import plot_latency

        plot_latency(summary, plot)
        err.print(f"wrote the latency plot to {plot}")
    if json_out:
        typer.echo(summary.to_json())
    if not summary.ok:
        raise typer.Exit(1)


def _summary_table(summary: Any) -> Any:
    from edge_capture.live import summary_table

    return summary_table(summary)


def _run_with_signals(cfg: Any, live: bool) -> Any:
    """run_session with Ctrl-C/SIGTERM: first stops capture, second skips the waiting."""
    from edge_capture.live import LiveView, outcome_line
    from edge_capture.session import run_session

    stop, abort = threading.Event(), threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            abort.set()
            err.print("[yellow]second signal: not waiting any longer[/yellow]")
        else:
            stop.set()
            err.print(
                f"[yellow]{signal.Signals(signum).name}: stopping capture, flushing the spool and "
                "waiting for results (again to skip waiting)[/yellow]"
            )

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    use_live = live and err.is_terminal
    holder: dict[str, Any] = {}

    def on_start(ledger: Any, spool: Any) -> None:
        if use_live:
            view = LiveView(ledger, spool, f"{cfg.device_id}/{cfg.session_id}")
            holder["view"] = view
            holder["live"] = Live(view, console=err, refresh_per_second=4, transient=True)
            holder["live"].start()

    def on_result(outcome: Any) -> None:
        if "view" in holder:
            holder["view"].add(outcome)
        else:
            err.print(outcome_line(outcome), soft_wrap=True)

    try:
        return run_session(cfg, on_result=on_result, stop=stop, abort=abort, on_start=on_start)
    finally:
        if "live" in holder:
            holder["live"].stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.command()
def bench(  # noqa: PLR0917 - a Typer command takes its options as parameters
    json_out: Annotated[
        bool,
        Opt("--json", help="Print the figures as JSON on stdout.", envvar="ROLLCALL_EDGE_JSON"),
    ] = False,
    source: Annotated[
        str,
        Opt(
            help="Frames to encode: 'test' (synthetic, with sensor-like noise) or a video file.",
            envvar="ROLLCALL_EDGE_BENCH_SOURCE",
        ),
    ] = "test",
    clips: Annotated[
        int,
        Opt(
            min=1,
            max=200,
            help="Clips encoded per mode and setting.",
            envvar="ROLLCALL_EDGE_BENCH_CLIPS",
        ),
    ] = 8,
    clip_seconds: Annotated[
        float,
        Opt(min=0.1, max=10, help="Clip length in seconds.", envvar="ROLLCALL_EDGE_CLIP_SECONDS"),
    ] = 0.5,
    baseline_preset: Annotated[
        str,
        Opt(help="x264 preset of the baseline (no tune).", envvar="ROLLCALL_EDGE_BENCH_BASELINE"),
    ] = "medium",
    gate: Annotated[
        bool,
        Opt(
            "--gate/--no-gate",
            help="Also measure the motion gate: CPU per frame and the share of clips uploaded "
            "in three generated scenes (needs scikit-image: edge-capture[bench]).",
            envvar="ROLLCALL_EDGE_BENCH_GATE",
        ),
    ] = True,
    scene_minutes: Annotated[
        float,
        Opt(
            min=0.1,
            max=240,
            help="Minutes of video generated per gate scene.",
            envvar="ROLLCALL_EDGE_BENCH_SCENE_MINUTES",
        ),
    ] = 10.0,
) -> None:
    """CPU cost of encoding a clip, as a fraction of its duration, vs an x264 default baseline;
    and the motion gate's CPU cost and upload share."""
    from edge_capture.bench import run_bench
    from edge_capture.encoder import EncoderSettings

    try:
        figures = run_bench(
            source=source,
            clips=clips,
            clip_seconds=clip_seconds,
            baseline=EncoderSettings(preset=baseline_preset, tune=None),
        )
        if gate:
            from edge_capture.gate_bench import run_gate_bench

            figures["gate"] = run_gate_bench(
                clip_seconds=clip_seconds,
                minutes=scene_minutes,
                encode_fraction=figures["640x480@15"]["encode_fraction"],
            )
    except EdgeError as exc:
        raise _fail(exc) from None
    if json_out:
        typer.echo(json.dumps(figures, indent=2))
        return
    table = Table(title=f"edge-capture encode cost ({source}, {clip_seconds:g} s clips)")
    for column in ("mode", "encode fraction", "cameras/core", "KiB/clip", "baseline", "speed-up"):
        table.add_column(column, justify="right")
    for mode, row in figures.items():
        if mode.startswith("_") or mode == "gate":
            continue
        table.add_row(
            mode,
            f"{row['encode_fraction'] * 100:.1f}%",
            str(row["cameras_per_core"]),
            f"{row['kbytes_per_clip']:.0f}",
            f"{row['baseline_encode_fraction'] * 100:.1f}%",
            f"{row['speedup_vs_baseline']:.1f}x",
        )
    out.print(table)
    settings = figures["_settings"]
    out.print(f"encoder {settings['encoder']}, baseline {settings['baseline']}")
    if "gate" in figures:
        out.print(_gate_table(figures["gate"]))


def _gate_table(gate: dict[str, Any]) -> Table:
    """The gate's figures for people."""
    cpu = ", ".join(f"{size} {ms:.2f} ms" for size, ms in gate["cpu_ms_per_frame"].items())
    settings = gate["settings"]
    table = Table(
        title=f"motion gate, {settings['minutes_per_scene']:g} min per scene at "
        f"{settings['resolution']}@{settings['fps']:g}",
        caption=f"gate CPU per frame: {cpu}",
    )
    for column in ("scene", "uploaded", "clips", "by reason", "moving clips uploaded", "max gap"):
        table.add_column(column, justify="right")
    for name, row in gate["scenes"].items():
        table.add_row(
            name,
            f"{row['uploaded_fraction'] * 100:.1f}%",
            str(row["clips"]),
            ", ".join(f"{k} {v}" for k, v in row["by_reason"].items()),
            f"{row['moving_uploaded']}/{row['moving_clips']}",
            "-" if row["max_gap_s"] is None else f"{row['max_gap_s']:.1f} s",
        )
    return table
