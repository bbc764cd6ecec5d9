"""What every page shares: the dashboard's state, the templates, rendering one page."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from rollcall_tools.dashboard.feed import LiveFeed
from rollcall_tools.dashboard.files import Listing
from rollcall_tools.dashboard.security import CSRF_FIELD, Access
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.devices import Devices


@dataclass
class Dashboard:
    """The stack the dashboard shows, its live feed, who may use it."""

    stack: Stack
    feed: LiveFeed
    access: Access
    queue: str | None = None
    """The dashboard's own results queue (None while nothing follows the topic)."""
    state_dir: Path | None = None
    """Where `tools local up` recorded the local stack (its model), if it is that stack."""
    listing: Listing = field(init=False)
    """The files the pages listed: the only ones ``/files/{id}`` serves."""
    devices: Devices = field(init=False)
    _clients: dict[str, Any] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.listing = Listing(self.stack.names.bucket)
        self.devices = self.stack.devices

    def client(self, service: str) -> Any:
        """One boto3 client per service for every request (clients are thread-safe; making
        one from the shared session is not, hence the lock)."""
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.stack.target.client(service)
            return self._clients[service]


def environment() -> Environment:
    """The templates of this package; every value is HTML-escaped unless marked safe."""
    return Environment(
        loader=PackageLoader("rollcall_tools.dashboard", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def dashboard_of(request: Request) -> Dashboard:
    state: Dashboard = request.app.state.dashboard
    return state


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """``template`` with what the base template needs: the pages, the stack, the CSRF field."""
    templates: Jinja2Templates = request.app.state.templates
    dashboard = dashboard_of(request)
    names = dashboard.stack.names
    shared = {
        "pages": request.app.state.pages,
        "stack": {"name": names.prefix, "region": names.region},
        "csrf_field": CSRF_FIELD,
        "csrf_token": dashboard.access.csrf,
    }
    return templates.TemplateResponse(
        request, template, {**shared, **context}, status_code=status_code
    )
