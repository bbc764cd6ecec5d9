"""The ``edge-capture`` command: ``run`` a capture session, ``bench`` the encoder.

Settings come from options, ``ROLLCALL_*`` environment variables and a TOML file
(:class:`~edge_capture.settings.EdgeSettings`); this run's options (duration, outputs...) from
options only. Exit codes: 0 ok, 1 the session ran and clips are missing, 2 bad usage or
configuration, 3 an endpoint or camera is unreachable; an error is one red line on stderr.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.live import Live
from rich.logging import RichHandler
from rich.markup import escape

from edge_capture.config import EdgeConfig
from edge_capture.errors import EXIT_FAILED, EXIT_USAGE, ConfigError, EdgeError
from edge_capture.settings import EdgeSettings, env_name
from edge_capture.summary import SessionSummary
from edge_capture.version import edge_version

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    help="rollcall edge: record short H.264 clips, upload them to S3, collect the results.",
)
err = Console(stderr=True)
out = Console()


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One red line on stderr, then exit with ``code``."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """The CLI's one error convention: an :class:`EdgeError` exits with its ``exit_code``, an
    output file that cannot be written with 2; both as one red line, never a traceback."""
    try:
        yield
    except EdgeError as exc:
        fail(str(exc), exc.exit_code)
    except OSError as exc:
        fail(f"{exc.filename or 'output'}: {exc.strerror or exc}", EXIT_USAGE)


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


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, rich_tracebacks=False)],
        force=True,
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)


_DEFAULT_TEXT = {
    "endpoint_url": "AWS",
    "region": "us-east-1",
    "device_id": "the host name",
    "session_id": "sUTCTIME",
    "spool_dir": "$XDG_STATE_HOME/rollcall/spool",
    "gate_mask": "none",
    "fast": "real time",
    "loop": "no loop",
}


def _help(field: str) -> str:
    """An option's help, from the field: its description, its environment variable (settings
    only) and its default."""
    info = EdgeConfig.model_fields[field]
    notes = [env_name(field)] if field in EdgeSettings.model_fields else []
    if info.is_required():
        notes.append("required")
    else:
        default = _DEFAULT_TEXT.get(field, info.default)
        notes.append(
            f"default: {default:g}" if isinstance(default, float) else f"default: {default}"
        )
    return f"{info.description} ({'; '.join(notes)})."


def _opt(field: str, *names: str) -> Any:
    return typer.Option(*names, help=_help(field), show_default=False)


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="TOML file with any of the settings above (not found: exit 2)."
    ),
]
JsonOutOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")]
ResultsOpt = Annotated[
    Path | None, typer.Option(help="Write every clip's outcome as JSON Lines to FILE.")
]
PlotOpt = Annotated[Path | None, typer.Option(help="Draw the latency distribution to FILE.png.")]
LiveOpt = Annotated[bool, typer.Option("--live/--no-live", help="Live view (only on a terminal).")]


@app.command()
def run(  # noqa: PLR0917 - a Typer command takes its options as parameters
    ctx: typer.Context,
    source: Annotated[str | None, _opt("source")] = None,
    bucket: Annotated[str | None, _opt("bucket")] = None,
    results_queue: Annotated[str | None, _opt("results_queue")] = None,
    endpoint_url: Annotated[str | None, _opt("endpoint_url")] = None,
    region: Annotated[str | None, _opt("region")] = None,
    device_id: Annotated[str | None, _opt("device_id")] = None,
    resolution: Annotated[str | None, _opt("resolution")] = None,
    fps: Annotated[float | None, _opt("fps")] = None,
    clip_seconds: Annotated[float | None, _opt("clip_seconds")] = None,
    spool_dir: Annotated[Path | None, _opt("spool_dir")] = None,
    spool_max_mb: Annotated[float | None, _opt("spool_max_mb")] = None,
    spool_policy: Annotated[str | None, _opt("spool_policy")] = None,
    uploaders: Annotated[int | None, _opt("uploaders")] = None,
    crf: Annotated[int | None, _opt("crf")] = None,
    gate: Annotated[str | None, _opt("gate")] = None,
    gate_threshold: Annotated[float | None, _opt("gate_threshold")] = None,
    gate_min_area: Annotated[float | None, _opt("gate_min_area")] = None,
    gate_keepalive: Annotated[float | None, _opt("gate_keepalive")] = None,
    gate_mask: Annotated[str | None, _opt("gate_mask")] = None,
    config: ConfigOpt = None,
    session_id: Annotated[str | None, _opt("session_id")] = None,
    duration: Annotated[float | None, _opt("duration_s", "--duration")] = None,
    fast: Annotated[bool | None, _opt("fast", "--fast/--real-time")] = None,
    loop: Annotated[bool | None, _opt("loop", "--loop/--no-loop")] = None,
    flush_timeout: Annotated[float | None, _opt("flush_timeout_s", "--flush-timeout")] = None,
    result_wait: Annotated[float | None, _opt("result_wait_s", "--result-wait")] = None,
    poll_wait: Annotated[int | None, _opt("poll_wait_s", "--poll-wait")] = None,
    json_out: JsonOutOpt = False,
    results: ResultsOpt = None,
    plot: PlotOpt = None,
    live: LiveOpt = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    """Record clips, upload them, collect results; exit 1 when any clip got no result."""
    _setup_logging(verbose)
    with friendly_errors():
        _output_file(results, "results")
        _output_file(plot, "plot")
        given = {k: v for k, v in ctx.params.items() if k in EdgeSettings.model_fields}
        settings = EdgeSettings.load(config, **given)
        cfg = EdgeConfig.from_settings(
            settings,
            session_id=session_id,
            duration_s=duration,
            fast=fast,
            loop=loop,
            flush_timeout_s=flush_timeout,
            result_wait_s=result_wait,
            poll_wait_s=poll_wait,
        )
        summary = _run_with_signals(cfg, live)
        _report(summary, results, plot, json_out)
    if not summary.ok:
        raise typer.Exit(EXIT_FAILED)


def _output_file(path: Path | None, what: str) -> None:
    """Check an output before the session, not after it.

    Raises:
        ConfigError: ``path`` is a directory or its directory cannot be made.
    """
    if path is None:
        return
    if path.is_dir():
        raise ConfigError(f"{what} {path}: is a directory, expected a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot create its directory ({exc.strerror})") from None


def _report(
    summary: SessionSummary, results: Path | None, plot: Path | None, as_json: bool
) -> None:
    """The summary table on stderr, then the outputs asked for."""
    from edge_capture.live import summary_table

    err.print(summary_table(summary))
    if results is not None:
        from edge_capture.summary import write_results_jsonl

        count = write_results_jsonl(summary, results)
        err.print(f"wrote {count} results to {results}")
    if plot is not None:
        from edge_capture.summary import plot_latency

        plot_latency(summary, plot)
        err.print(f"wrote the latency plot to {plot}")
    if as_json:
        typer.echo(summary.to_json())


def _run_with_signals(cfg: EdgeConfig, live: bool) -> SessionSummary:
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
def bench(
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the figures as JSON on stdout.")
    ] = False,
    source: Annotated[
        str,
        typer.Option(
            help="Frames to encode: 'test' (synthetic, with sensor-like noise) or a video file."
        ),
    ] = "test",
    clips: Annotated[
        int, typer.Option(min=1, max=200, help="Clips encoded per mode and setting.")
    ] = 8,
    clip_seconds: Annotated[
        float, typer.Option(min=0.1, max=10, help="Clip length in seconds.")
    ] = 0.5,
    baseline_preset: Annotated[
        str, typer.Option(help="x264 preset of the baseline (no tune).")
    ] = "medium",
) -> None:
    """CPU cost of encoding a clip, as a fraction of its duration, vs an x264 default baseline
    (the motion gate's benchmark is `tools bench-gate`)."""
    from edge_capture.bench import run_bench
    from edge_capture.encoder import EncoderSettings

    with friendly_errors():
        figures = run_bench(
            source=source,
            clips=clips,
            clip_seconds=clip_seconds,
            baseline=EncoderSettings(preset=baseline_preset, tune=None),
        )
    if json_out:
        typer.echo(json.dumps(figures, indent=2))
        return
    from edge_capture.live import bench_tables

    for table in bench_tables(figures, f"{source}, {clip_seconds:g} s clips"):
        out.print(table)


UserOpt = Annotated[
    str | None,
    typer.Option(
        help="Account the service runs as (User=); it must exist and may use the camera "
        "(default: you).",
        show_default=False,
    ),
]
WorkingDirOpt = Annotated[
    Path,
    typer.Option(
        help="Directory it runs in (WorkingDirectory=), where results.jsonl and "
        "latency.png are written; made here if missing.",
    ),
]
EnvFileOpt = Annotated[
    Path,
    typer.Option(
        help="KEY=VALUE settings file the unit reads (EnvironmentFile=): AWS_REGION, "
        "ROLLCALL_BUCKET, ROLLCALL_RESULTS_QUEUE, ROLLCALL_DEVICE_ID.",
    ),
]
ExecutableOpt = Annotated[
    Path | None,
    typer.Option(
        help="The edge-capture to run (default: this environment's, e.g. the venv's "
        "bin/edge-capture).",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write the unit to FILE (default: stdout).", show_default=False
    ),
]


@app.command()
def service(  # noqa: PLR0917 - a Typer command takes its options as parameters
    user: UserOpt = None,
    working_dir: WorkingDirOpt = Path("~/rollcall-edge"),
    env_file: EnvFileOpt = Path("/etc/rollcall/edge.env"),
    executable: ExecutableOpt = None,
    source: Annotated[str, typer.Option(help="The --source it records.")] = "picamera",
    output: OutputOpt = None,
) -> None:
    """Print the systemd unit that runs `edge-capture run` at boot until stopped (restarted
    whenever it exits); install it as /etc/systemd/system/rollcall-edge.service."""
    import getpass

    from edge_capture.service import ServiceSpec, default_executable, render_unit

    with friendly_errors():
        workdir = working_dir.expanduser().absolute()
        spec = ServiceSpec(
            user=user or getpass.getuser(),
            working_directory=workdir,
            executable=(executable or default_executable()).expanduser(),
            environment_file=env_file.expanduser(),
            source=source,
        )
        unit = render_unit(spec)
        if not spec.executable.is_file():
            raise ConfigError(f"--executable {spec.executable}: no such file")
        workdir.mkdir(parents=True, exist_ok=True)
        if output is None:
            typer.echo(unit, nl=False)
        else:
            output.write_text(unit, encoding="utf-8")
            err.print(
                f"wrote {output}: install it with sudo install -m 644 {output} /etc/systemd/system/"
            )
