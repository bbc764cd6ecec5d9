"""A page of the dashboard: its routes and its entry in the navigation and on ``/``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute


@dataclass(frozen=True)
class Page:
    """One page: ``path`` is linked from every page's navigation and from ``/``."""

    path: str
    title: str
    summary: str
    routes: Sequence[BaseRoute]
