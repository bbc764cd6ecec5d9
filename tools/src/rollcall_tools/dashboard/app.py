"""The dashboard's ASGI app: ``/``, every page of :data:`PAGES`, the static files."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from rollcall_tools.dashboard import attendance, files, health, live, people, unknowns
from rollcall_tools.dashboard.pages import Page
from rollcall_tools.dashboard.security import CSRF_FIELD, Guard
from rollcall_tools.dashboard.views import Dashboard, environment, render

PAGES: tuple[Callable[[], Page], ...] = (
    live.page,
    people.page,
    unknowns.page,
    attendance.page,
    health.page,
)
"""The pages, in navigation order; a new page is one module with a ``page()`` and its
templates, added here."""


async def index(request: Request) -> Response:
    return render(request, "index.html")


async def error_page(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    return render(request, "error.html", status_code=status, status=status, detail=detail)


def create_app(dashboard: Dashboard, pages: Sequence[Callable[[], Page]] = PAGES) -> Starlette:
    """The app for ``dashboard``: following the results topic is the caller's (``feed``)."""
    made = [make() for make in pages]
    static = StaticFiles(packages=[("rollcall_tools.dashboard", "static")])
    app = Starlette(
        routes=[
            Route("/", index, name="index"),
            *(route for page in made for route in page.routes),
            *files.ROUTES,
            Mount("/static", static, name="static"),
        ],
        middleware=[Middleware(Guard, access=dashboard.access)],
        exception_handlers={HTTPException: error_page},
    )
    app.state.dashboard = dashboard
    app.state.access = dashboard.access
    templates = Jinja2Templates(env=environment())
    templates.env.globals["file_url"] = dashboard.listing.url
    # the Live rows' forms are rendered outside a request too (the event stream)
    templates.env.globals["csrf_field"] = CSRF_FIELD
    templates.env.globals["csrf_token"] = dashboard.access.csrf
    app.state.templates = templates
    app.state.pages = made
    return app
