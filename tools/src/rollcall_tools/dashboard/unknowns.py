"""Unknowns: the unknown faces the handler kept, clustered by person, as contact sheets newest
first; name a cluster to enroll it, or dismiss it (``tools faces unknown``'s clusters and
actions, :mod:`rollcall_tools.faces.unknowns`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rollcall_tools.dashboard.pages import Page
from rollcall_tools.dashboard.views import Dashboard, act, dashboard_of, render
from rollcall_tools.errors import ConfigError, ToolsError
from rollcall_tools.faces.actions import check_name
from rollcall_tools.faces.unknowns import (
    SHEET_PER_ROW,
    Cluster,
    cluster,
    dismiss,
    enroll_cluster,
    find_cluster,
)

CLUSTERS_SHOWN = 100
"""The newest clusters shown (the page says how many more there are)."""


@dataclass(frozen=True)
class Sheet:
    """One cluster as the page shows it: its facts and its first chips."""

    facts: dict[str, Any]
    chips: list[str]


def _sheets(dashboard: Dashboard, clusters: list[Cluster]) -> list[Sheet]:
    store, listing = dashboard.library.store, dashboard.listing
    return [
        Sheet(
            found.to_json(),
            [
                listing.url(store, f.chip, "image/jpeg")
                for f in found.faces[:SHEET_PER_ROW]
                if f.chip
            ],
        )
        for found in clusters[:CLUSTERS_SHOWN]
    ]


def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    dashboard = dashboard_of(request)
    shown: dict[str, Any] = {"done": None, "problem": None, **context}
    try:
        clusters = cluster(dashboard.library.unknowns())
    except ToolsError as exc:
        clusters, shown["problem"] = [], exc.message
        status_code = 503 if status_code == 200 else status_code
    return render(
        request,
        "unknowns.html",
        status_code=status_code,
        sheets=_sheets(dashboard, clusters),
        total=len(clusters),
        faces=sum(len(c.faces) for c in clusters),
        **shown,
    )


def unknowns_page(request: Request) -> Response:
    return _page(request)


def _cluster_of(dashboard: Dashboard, form: FormData) -> Cluster:
    cluster_id = form.get("cluster")
    if not isinstance(cluster_id, str) or not cluster_id:
        raise ConfigError("cluster: required")
    return find_cluster(dashboard.library, cluster_id)


def _enroll(dashboard: Dashboard, form: FormData) -> str:
    name = form.get("name")
    name = check_name(name.strip() if isinstance(name, str) else "")
    found = _cluster_of(dashboard, form)
    moved = enroll_cluster(dashboard.library, name, found)
    return f"Enrolled {moved} face{'s' if moved != 1 else ''} of cluster {found.id} as {name}."


def _dismiss(dashboard: Dashboard, form: FormData) -> str:
    found = _cluster_of(dashboard, form)
    forgot = dismiss(dashboard.library, found)
    return f"Dismissed cluster {found.id} ({forgot} face{'s' if forgot != 1 else ''})."


async def enroll(request: Request) -> Response:
    """POST (CSRF-checked): the cluster's faces become NAME's (``tools faces enroll NAME
    --from-unknown CLUSTER``)."""
    return await act(request, _enroll, _page)


async def dismiss_cluster(request: Request) -> Response:
    """POST (CSRF-checked): forget the cluster (``tools faces unknown --dismiss``)."""
    return await act(request, _dismiss, _page)


def page() -> Page:
    return Page(
        path="/unknowns",
        title="Unknowns",
        summary="Faces nobody was named for, by person, newest first: name one, or dismiss it.",
        routes=[
            Route("/unknowns", unknowns_page, name="unknowns"),
            Route("/unknowns/enroll", enroll, methods=["POST"], name="unknowns-enroll"),
            Route("/unknowns/dismiss", dismiss_cluster, methods=["POST"], name="unknowns-dismiss"),
        ],
    )
