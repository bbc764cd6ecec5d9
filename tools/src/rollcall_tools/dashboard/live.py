"""Live: per device, the latest results as they arrive, pushed by server-sent events."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from rollcall_tools.dashboard.feed import FOREIGN, LiveRow
from rollcall_tools.dashboard.pages import Page
from rollcall_tools.dashboard.security import checked_form
from rollcall_tools.dashboard.unknown_chips import STREAM_TRIES, STREAM_WAIT_S
from rollcall_tools.dashboard.views import Dashboard, dashboard_of, render
from rollcall_tools.errors import ConfigError, ToolsError
from rollcall_tools.faces.reject import reject as add_negative

KEEPALIVE_S = 15.0
"""An SSE comment this often keeps proxies from closing an idle stream."""


def section_id(device: str) -> str:
    """The HTML id of a device's section (a hash: any device string gives a safe id)."""
    return "device-" + hashlib.blake2s(device.encode(), digest_size=6).hexdigest()


def device_label(device: str) -> str:
    return "foreign uploads" if device == FOREIGN else device


def _section(device: str, rows: list[LiveRow]) -> dict[str, Any]:
    return {"id": section_id(device), "label": device_label(device), "rows": rows}


Chips = Mapping[str, list[str]]
"""Clip key -> the ``/files/<id>`` links of its unknown faces' chips."""


def chip_links(dashboard: Dashboard, rows: Iterable[LiveRow], *, again: bool = False) -> Chips:
    """The chips of the unknown faces of ``rows`` (blocking: run in the thread pool), as
    links the listing serves (the face store's objects, by ID)."""
    keys = [row.line.key for row in rows if row.line.unknown_faces]
    if not keys:
        return {}
    store, listing = dashboard.library.store, dashboard.listing
    found = dashboard.unknown_chips.of(keys, again=again)
    return {key: [listing.url(store, chip, "image/jpeg") for chip in chips]
            for key, chips in found.items()}  # fmt: skip


async def live_page(request: Request) -> Response:
    dashboard = dashboard_of(request)
    feed = dashboard.feed
    seq, snapshot = feed.view()
    sections = [_section(device, rows) for device, rows in snapshot]
    rows = [row for _, shown in snapshot for row in shown]
    chips = await run_in_threadpool(chip_links, dashboard, rows)
    return render(
        request,
        "live.html",
        sections=sections,
        chips=chips,
        after=seq,
        error=feed.error,
        per_device=feed.per_device,
    )


def _event(templates: Jinja2Templates, row: LiveRow, chips: Chips | None = None) -> str:
    device = row.line.device or FOREIGN
    env = templates.env
    section = _section(device, [])
    payload = {
        "section": section_id(device),
        "section_html": env.get_template("_live_section.html").render(section=section),
        "row_html": env.get_template("_live_row.html").render(row=row, chips=chips or {}),
    }
    return f"id: {row.seq}\ndata: {json.dumps(payload)}\n\n"


async def _chips_of(dashboard: Dashboard, row: LiveRow) -> Chips:
    """The row's chips, waiting a moment for those not readable yet (a new result)."""
    chips: Chips = {}
    for attempt in range(STREAM_TRIES if row.line.unknown_faces else 0):
        if attempt:
            await asyncio.sleep(STREAM_WAIT_S / STREAM_TRIES)
        chips = await run_in_threadpool(chip_links, dashboard, [row], again=attempt > 0)
        if chips:
            break
    return chips


def _seq(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


async def live_events(request: Request) -> Response:
    """``text/event-stream``: one event per result after the page's (``?after=SEQ``, or the
    ``Last-Event-ID`` of a reconnect), each with its rendered row (and its device's empty
    section, for a device the page does not show yet). Rows kept from before the stream
    opened are sent first, so none falls between the page and its stream."""
    dashboard = dashboard_of(request)
    feed = dashboard.feed
    templates: Jinja2Templates = request.app.state.templates
    after = _seq(request.headers.get("last-event-id")) or _seq(request.query_params.get("after"))
    queue = feed.listen()
    kept = [row for _, rows in feed.snapshot() for row in rows if row.seq > after]

    async def stream() -> AsyncIterator[str]:
        sent = after
        try:
            yield "retry: 2000\n: connected\n\n"
            for old in sorted(kept, key=lambda r: r.seq):
                yield _event(templates, old, await _chips_of(dashboard, old))
                sent = old.seq
            while True:
                try:
                    row = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if row is None:  # the server is stopping
                    return
                if row.seq > sent:  # not already sent from the kept rows
                    yield _event(templates, row, await _chips_of(dashboard, row))
                    sent = row.seq
        finally:
            feed.unlisten(queue)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"x-accel-buffering": "no"}
    )


def _reject(dashboard: Dashboard, key: str, name: str) -> float:
    names = dashboard.stack.names
    return add_negative(dashboard.library, dashboard.recognizer(), names.bucket, key, name)


async def reject(request: Request) -> Response:
    """POST (CSRF-checked): "not this person" - the face of the clip ``key`` (in the stack's
    bucket) closest to ``name`` becomes a negative example of ``name`` (``tools faces reject
    KEY --not NAME``)."""
    form = await checked_form(request)
    key, name = form.get("key"), form.get("name")
    if not isinstance(key, str) or not isinstance(name, str) or not key or not name:
        raise HTTPException(400, "key and name: required")
    try:
        similarity = await run_in_threadpool(_reject, dashboard_of(request), key, name)
    except ConfigError as exc:
        return render(request, "notice.html", status_code=400, title="Not rejected",
                      problem=exc.message, done=None, back="/live")  # fmt: skip
    except ToolsError as exc:
        return render(request, "notice.html", status_code=503, title="Not rejected",
                      problem=exc.message, done=None, back="/live")  # fmt: skip
    done = (
        f"The face of {key} (similarity {similarity:.2f} to {name}) is now a negative "
        f"example of {name}: a face as close to it is not {name}."
    )
    return render(request, "notice.html", title="Rejected", done=done, problem=None, back="/live")


def page() -> Page:
    return Page(
        path="/live",
        title="Live",
        summary="The latest results of every device as they arrive.",
        routes=[
            Route("/live", live_page, name="live"),
            Route("/live/events", live_events, name="live-events"),
            Route("/live/reject", reject, methods=["POST"], name="live-reject"),
        ],
    )
