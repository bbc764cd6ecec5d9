"""``cloud-handler``: run the handler locally (serve, invoke), benchmark it, export requirements."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from cloud_handler import __version__

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
    help="rollcall's Lambda function, run locally: serve a queue, invoke one event, benchmark.",
)
out = Console()
err = Console(stderr=True)

EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One red line on stderr, then exit with ``code``."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        out.print(f"cloud-handler {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """rollcall's Lambda function, run locally."""


def _check_handler_config() -> None:
    from cloud_handler.settings import ConfigError, load_settings

    try:
        load_settings()
    except ConfigError as exc:
        fail(str(exc))


@app.command()
def serve(
    *,
    queue: Annotated[
        str,
        typer.Option(
            "--queue", envvar="ROLLCALL_EVENTS_QUEUE", help="Events queue (name or URL) to poll."
        ),
    ],
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url", envvar="ROLLCALL_ENDPOINT_URL", help="AWS endpoint (e.g. moto)."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option("--workers", envvar="ROLLCALL_WORKERS", min=1, max=64, help="Workers."),
    ] = 2,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            envvar="ROLLCALL_WORKER_MODE",
            help="'process' (one model per worker) or 'thread' (one shared model).",
        ),
    ] = "process",
    wait_time: Annotated[
        int,
        typer.Option(
            "--wait-time", envvar="ROLLCALL_WAIT_TIME_S", min=0, max=20, help="Long-poll seconds."
        ),
    ] = 5,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size",
            envvar="ROLLCALL_BATCH_SIZE",
            min=1,
            max=10,
            help="Messages received per batch (the event source mapping's batch size).",
        ),
    ] = 10,
    function_timeout: Annotated[
        float,
        typer.Option(
            "--function-timeout",
            envvar="ROLLCALL_FUNCTION_TIMEOUT_S",
            min=1,
            max=900,
            help="The handler's deadline per batch, like the function's timeout. The queue's "
            "visibility timeout must be at least 6x this.",
        ),
    ] = 30,
    region: Annotated[
        str, typer.Option("--region", envvar="AWS_REGION", help="AWS region.")
    ] = "us-east-1",
) -> None:
    """Long-poll the events queue and run each batch through lambda_handler until SIGTERM/SIGINT,
    as Lambda's SQS event source mapping does (visibility and redrive are the queue's own)."""
    from cloud_handler.local_runner import RunnerConfig, RunnerError, run_local

    if mode not in ("process", "thread"):
        fail(f"--mode must be 'process' or 'thread', not {mode!r}")
    if endpoint_url:
        import os

        os.environ["ROLLCALL_ENDPOINT_URL"] = endpoint_url  # the handler reads it too
    _check_handler_config()
    config = RunnerConfig(
        queue=queue,
        endpoint_url=endpoint_url,
        region=region,
        workers=workers,
        mode=mode,  # type: ignore[arg-type]
        batch_size=batch_size,
        wait_time_s=wait_time,
        function_timeout_s=function_timeout,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        from cloud_handler.local_runner import check_visibility, sqs_client

        check_visibility(sqs_client(endpoint_url, region), queue, function_timeout)
        err.print(
            f"serving [bold]{queue}[/bold] with {workers} {mode} worker(s); "
            "SIGTERM or Ctrl-C stops",
            highlight=False,
        )
        stats = run_local(config, stop=stop)
    except RunnerError as exc:
        fail(str(exc), EXIT_UNREACHABLE if exc.unreachable else EXIT_USAGE)
    err.print(
        f"stopped: {stats.received} received, {stats.succeeded} done, "
        f"{stats.failed} left for redelivery",
        highlight=False,
    )


@app.command()
def invoke(
    event: Annotated[
        Path,
        typer.Option("--event", envvar="ROLLCALL_EVENT_FILE", help="JSON event file ('-': stdin)."),
    ],
) -> None:
    """Run one Lambda event (an SQS batch of S3 notifications) through the handler; print its
    answer.

    Exit 0 when everything was handled, 1 when a record must be retried.
    """
    text = sys.stdin.read() if str(event) == "-" else _read(event)
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{event}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
    if not isinstance(document, dict):
        fail(f"{event}: a Lambda event is a JSON object, got {type(document).__name__}")
    _check_handler_config()
    from cloud_handler.context import LocalContext
    from cloud_handler.handler import lambda_handler, logger
    from cloud_handler.settings import ConfigError

    # the handler's log lines and metrics go to stderr; stdout carries only its answer
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            response = lambda_handler(document, LocalContext(timeout_s=300))
    except ConfigError as exc:
        fail(str(exc))
    print(json.dumps(response, indent=2))  # noqa: T201 - the CLI's output
    if response.get("batchItemFailures"):
        raise typer.Exit(EXIT_FAILED)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        fail(f"{path}: cannot read the event file ({exc.strerror or exc})")
