"""Health: the devices, the queues' depths, the dead letters (with a re-drive), the model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from rollcall_tools import dlq
from rollcall_tools.aws import aws_errors, if_present
from rollcall_tools.cli_common import find_queue
from rollcall_tools.dashboard.pages import Page
from rollcall_tools.dashboard.security import checked_form
from rollcall_tools.dashboard.views import Dashboard, dashboard_of, render
from rollcall_tools.errors import ToolsError
from rollcall_tools.local.state import LocalState
from rollcall_tools.stack.devices import DeviceInfo


@dataclass(frozen=True)
class QueueDepth:
    role: str
    name: str
    visible: int | None
    """None: the queue does not exist."""
    in_flight: int | None


@dataclass
class Health:
    queues: list[QueueDepth]
    devices: list[DeviceInfo]
    dead_letters: int
    model: list[tuple[str, str]]


def _depth(sqs: Any, role: str, name: str) -> QueueDepth:
    found = if_present(sqs.get_queue_url, QueueName=name)
    if found is None:
        return QueueDepth(role, name, None, None)
    visible, in_flight = dlq.queue_counts(sqs, found["QueueUrl"])
    return QueueDepth(role, name, visible, in_flight)


def _local_model(dashboard: Dashboard) -> list[tuple[str, str]]:
    state = LocalState.load(dashboard.state_dir) if dashboard.state_dir else None
    if state is None or state.endpoint_url != dashboard.stack.target.endpoint_url:
        return [("model", "not recorded (this stack was not started by `tools local up` here)")]
    if not state.model_dir:
        return [("model", "none: detection only (faces are found, nobody is named)")]
    from face_model.artifact import read_manifest

    manifest = read_manifest(state.model_dir, verify=False)
    return [
        ("artifact", state.model_dir),
        ("backbone", str(manifest.get("backbone"))),
        ("version", str(manifest.get("version"))),
    ]


def _function_model(dashboard: Dashboard) -> list[tuple[str, str]]:
    names = dashboard.stack.names
    function = if_present(dashboard.client("lambda").get_function, FunctionName=names.function)
    if function is None:
        return [("function", f"{names.function} is not deployed")]
    variables = function["Configuration"].get("Environment", {}).get("Variables", {})
    model = variables.get("ROLLCALL_MODEL_S3_URI") or "the artifact baked into the image"
    return [
        ("function", names.function),
        ("image", str(function.get("Code", {}).get("ImageUri", "?"))),
        ("model", model),
    ]


def collect(dashboard: Dashboard) -> Health:
    """Everything the page shows, read now: the queues, the devices and the model at once
    (one call per queue, a few per device, one for the function)."""
    stack = dashboard.stack
    names = stack.names
    sqs = dashboard.client("sqs")
    roles = [
        ("events", names.events_queue),
        ("events dead letters", names.events_dlq),
        ("foreign results", names.foreign_queue),
        ("foreign dead letters", names.foreign_dlq),
    ]
    if dashboard.queue:
        roles.append(("this dashboard", dashboard.queue))
    model = _local_model if stack.settings.local else _function_model
    if not stack.settings.local:
        dashboard.client("lambda")  # made here, not in a worker thread
    library = dashboard.library  # its clients made here, not in a worker thread
    with (
        aws_errors(f"reading the health of stack {names.prefix}"),
        ThreadPoolExecutor(max_workers=len(roles) + 3) as pool,
    ):
        depths = [pool.submit(_depth, sqs, role, name) for role, name in roles]
        devices = pool.submit(dashboard.devices.describe)
        modelled = pool.submit(model, dashboard)
        version = pool.submit(library.version)
        queues = [depth.result() for depth in depths]
        shown = [("face library", f"version {version.result()} ({names.library_table})")]
        found = Health(queues, devices.result(), 0, modelled.result() + shown)
    dead = queues[1]
    found.dead_letters = (dead.visible or 0) + (dead.in_flight or 0)
    return found


def _count(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() else None


def health_page(request: Request) -> Response:
    """Reads the stack (blocking boto3 calls: Starlette runs this in its thread pool)."""
    dashboard = dashboard_of(request)
    try:
        health, problem = collect(dashboard), None
    except ToolsError as exc:
        health, problem = None, exc.message
    return render(
        request,
        "health.html",
        status_code=200 if problem is None else 503,
        health=health,
        problem=problem,
        moved=_count(request, "moved"),
        failed=_count(request, "failed"),
    )


def _redrive(dashboard: Dashboard) -> dlq.Redrive:
    names = dashboard.stack.names
    sqs = dashboard.client("sqs")
    hint = f"stack {names.prefix!r} is not deployed (run `tools deploy`)"
    with aws_errors(f"re-driving {names.events_dlq} to {names.events_queue}"):
        dlq_url = find_queue(sqs, names.events_dlq, hint)
        events_url = find_queue(sqs, names.events_queue, hint)
        return dlq.redrive(sqs, dlq_url, events_url)


async def redrive(request: Request) -> Response:
    """POST (CSRF-checked): move every dead-lettered event back to the events queue."""
    await checked_form(request)
    try:
        report = await run_in_threadpool(_redrive, dashboard_of(request))
    except ToolsError as exc:
        raise HTTPException(503, exc.message) from None
    return RedirectResponse(
        f"/health?moved={len(report.moved)}&failed={len(report.failed)}", status_code=303
    )


def page() -> Page:
    return Page(
        path="/health",
        title="Health",
        summary="Devices, queue depths, dead letters (re-drive them) and the deployed model.",
        routes=[
            Route("/health", health_page, name="health"),
            Route("/health/redrive", redrive, methods=["POST"], name="health-redrive"),
        ],
    )
