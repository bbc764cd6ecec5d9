"""What every page shares: the dashboard's state, the templates, rendering one page."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from rollcall_tools.dashboard.feed import LiveFeed
from rollcall_tools.dashboard.files import Listing
from rollcall_tools.dashboard.security import CSRF_FIELD, Access, checked_form
from rollcall_tools.dashboard.unknown_chips import UnknownChips
from rollcall_tools.errors import ConfigError, ToolsError
from rollcall_tools.faces.library import Library
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.devices import Devices

if TYPE_CHECKING:
    from face_model import Recognizer


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
    model_dir: Path | None = None
    """The handler's artifact: what enrolling photos and "not this person" embed with
    (None: those actions say they need ``--model-dir``)."""
    listing: Listing = field(init=False)
    """The files the pages listed: the only ones ``/files/{id}`` serves."""
    devices: Devices = field(init=False)
    unknown_chips: UnknownChips = field(init=False)
    """The stored chips of the unknown faces of Live's results, by clip key."""
    _clients: dict[str, Any] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _recognizer: Recognizer | None = field(init=False, default=None)
    _recognizer_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        names = self.stack.names
        self.listing = Listing(names.bucket, frozenset({names.face_store}))
        self.devices = self.stack.devices
        self.unknown_chips = UnknownChips(lambda: self.library)

    @property
    def library(self) -> Library:
        """The stack's face library (one, made on first use)."""
        with self._lock:
            if "library" not in self._clients:
                self._clients["library"] = Library(self.stack.target, self.stack.names)
            library: Library = self._clients["library"]
            return library

    def recognizer(self) -> Recognizer:
        """The networks of :attr:`model_dir`, loaded once (a usage error without one)."""
        from rollcall_tools.faces.networks import networks_at

        with self._recognizer_lock:
            if self._recognizer is None:
                if self.model_dir is None:
                    raise ConfigError(
                        "embedding faces needs the handler's artifact: start `tools dashboard` "
                        "with --model-dir (ROLLCALL_MODEL_DIR), or on the local stack that "
                        "`tools local up --model-dir` started"
                    )
                self._recognizer = networks_at(self.model_dir)
            return self._recognizer

    def resource(self, service: str) -> Any:
        """One boto3 resource per service, as :meth:`client`."""
        return self.client(f"resource:{service}")

    def client(self, service: str) -> Any:
        """One boto3 client per service for every request (clients are thread-safe; making
        one from the shared session is not, hence the lock)."""
        with self._lock:
            if service not in self._clients:
                kind, _, name = service.rpartition(":")
                make = self.stack.target.resource if kind else self.stack.target.client
                self._clients[service] = make(name)
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


async def act(
    request: Request,
    action: Callable[[Dashboard, FormData], str],
    page: Callable[..., Response],
) -> Response:
    """Run ``action(dashboard, form)`` (blocking: in the thread pool) after the CSRF check and
    answer with ``page``: its sentence as the notice, a usage error as the problem (400), an
    unreachable service as 503. The unknown faces' chips may have moved: forget them."""
    form = await checked_form(request)
    dashboard = dashboard_of(request)
    try:
        done = await run_in_threadpool(action, dashboard, form)
        dashboard.unknown_chips.forget()  # enrolled, dismissed or purged: chips moved or gone
    except ConfigError as exc:
        return await run_in_threadpool(page, request, 400, problem=exc.message)
    except ToolsError as exc:
        return await run_in_threadpool(page, request, 503, problem=exc.message)
    return await run_in_threadpool(page, request, 200, done=done)
