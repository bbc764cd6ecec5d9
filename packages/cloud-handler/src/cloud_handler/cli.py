"""``cloud-handler``: run the handler locally: serve the events queue, invoke one event."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from cloud_handler.local_runner import RunnerConfig
    from cloud_handler.settings import Settings

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
    help="rollcall's Lambda function, run locally: serve the events queue, invoke one event.",
)
out = Console()
err = Console(stderr=True)

EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3


class EventFileError(ValueError):
    """The event file cannot be read, or does not hold a Lambda event."""


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One red line on stderr, then exit with ``code``."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def exit_codes() -> Iterator[None]:
    """The CLI's one error convention: a failure is one red line on stderr and an exit code
    (2 bad usage or configuration, 3 an endpoint unreachable); never a traceback."""
    from cloud_handler.errors import ConfigError
    from cloud_handler.local_runner import RunnerError

    try:
        yield
    except (ConfigError, EventFileError) as exc:
        fail(str(exc), EXIT_USAGE)
    except RunnerError as exc:
        fail(str(exc), EXIT_UNREACHABLE if exc.unreachable else EXIT_USAGE)


def _version(value: bool) -> None:
    if value:
        import cloud_handler

        out.print(f"cloud-handler {cloud_handler.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """rollcall's Lambda function, run locally."""


def _handler_settings(**options: str | None) -> Settings:
    """The handler's settings with this command's options in force. Given options are
    exported as their variables, so that the handler (and every worker process) reads the
    same; every problem is named at once (ConfigError)."""
    from cloud_handler.settings import ENV_PREFIX, load_settings

    names = {"endpoint_url": f"{ENV_PREFIX}ENDPOINT_URL", "region": "AWS_REGION"}
    for option, value in options.items():
        if value:
            os.environ[names[option]] = value
    return load_settings()


QueueOpt = Annotated[str, typer.Option("--queue", help="Events queue (name or URL) to poll.")]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="AWS endpoint, e.g. moto (default: ROLLCALL_ENDPOINT_URL; unset: botocore's "
        "own AWS_ENDPOINT_URL resolution).",
    ),
]
RegionOpt = Annotated[
    str | None, typer.Option("--region", help="AWS region (default: AWS_REGION, else us-east-1).")
]
WorkersOpt = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        max=64,
        help="Worker processes, each with its own model: the event source mapping's "
        "maximum concurrency.",
    ),
]
WaitTimeOpt = Annotated[int, typer.Option("--wait-time", min=0, max=20, help="Long-poll seconds.")]
BatchSizeOpt = Annotated[
    int,
    typer.Option(
        "--batch-size",
        min=1,
        max=10,
        help="Messages received per batch (the event source mapping's batch size).",
    ),
]
FunctionTimeoutOpt = Annotated[
    float,
    typer.Option(
        "--function-timeout",
        min=1,
        max=900,
        help="The handler's deadline per batch, like the function's timeout. The queue's "
        "visibility timeout must be at least 6x this.",
    ),
]


@app.command()
def serve(
    *,
    queue: QueueOpt,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    workers: WorkersOpt = 2,
    wait_time: WaitTimeOpt = 5,
    batch_size: BatchSizeOpt = 10,
    function_timeout: FunctionTimeoutOpt = 30,
) -> None:
    """Long-poll the events queue and run each batch through lambda_handler until SIGTERM/SIGINT,
    as Lambda's SQS event source mapping does (visibility and redrive are the queue's own).
    The handler's variables must be set too."""
    from cloud_handler.local_runner import RunnerConfig

    with exit_codes():
        settings = _handler_settings(endpoint_url=endpoint_url, region=region)
        config = RunnerConfig(
            queue=queue,
            endpoint_url=settings.endpoint_url,
            region=settings.region,
            workers=workers,
            batch_size=batch_size,
            wait_time_s=wait_time,
            function_timeout_s=function_timeout,
        )
        _serve(config)


def _serve(config: RunnerConfig) -> None:
    """Run the local runner on ``config`` until SIGTERM/SIGINT; say what it did."""
    from cloud_handler.local_runner import check_visibility, run_local, sqs_client

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sqs = sqs_client(config.endpoint_url, config.region)
    check_visibility(sqs, config.queue, config.function_timeout_s)
    err.print(
        f"serving [bold]{config.queue}[/bold] with {config.workers} worker process(es); "
        "SIGTERM or Ctrl-C stops",
        highlight=False,
    )
    stats = run_local(config, stop=stop)
    err.print(
        f"stopped: {stats.received} received, {stats.succeeded} done, "
        f"{stats.failed} left for redelivery",
        highlight=False,
    )


@app.command()
def invoke(
    event: Annotated[Path, typer.Option("--event", help="JSON event file ('-': stdin).")],
) -> None:
    """Run one Lambda event (an SQS batch of S3 notifications) through the handler; print its
    answer.

    Exit 0 when everything was handled, 1 when a record must be retried.
    """
    with exit_codes():
        document = _load_event(event)
        _handler_settings()
        response = _run(document)
    print(json.dumps(response, indent=2))  # noqa: T201 - the CLI's output
    if response.get("batchItemFailures"):
        raise typer.Exit(EXIT_FAILED)


def _load_event(path: Path) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except OSError as exc:
        raise EventFileError(
            f"{path}: cannot read the event file ({exc.strerror or exc})"
        ) from None
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventFileError(
            f"{path}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(document, dict):
        raise EventFileError(
            f"{path}: a Lambda event is a JSON object, got {type(document).__name__}"
        )
    return document


def _run(document: dict[str, Any]) -> Mapping[str, Any]:
    """The handler's answer to ``document``; its log lines and metrics go to stderr, so that
    stdout carries only the answer."""
    from cloud_handler.context import LocalContext
    from cloud_handler.handler import lambda_handler, logger

    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
    with contextlib.redirect_stdout(sys.stderr):
        response: Mapping[str, Any] = lambda_handler(document, LocalContext(timeout_s=300))
    return response
