"""People: the face library - each person with enrolled chips, count, roster record; enroll
by uploading photos, rename, merge, remove (and purge, after a confirmation that names what
goes). Every action is ``tools faces``' own (:mod:`rollcall_tools.faces`)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rollcall_tools.aws import aws_errors
from rollcall_tools.dashboard.pages import Page
from rollcall_tools.dashboard.security import checked_form
from rollcall_tools.dashboard.views import Dashboard, act, dashboard_of, render
from rollcall_tools.errors import ConfigError, ToolsError
from rollcall_tools.faces.actions import check_name, enroll_photos
from rollcall_tools.faces.library import Deleted, Removal
from rollcall_tools.seed import stored_records
from shared_schema.student import StudentRecord

CHIPS_SHOWN = 6
"""Chips shown per person (the count says how many there are)."""
MAX_PHOTOS = 50
"""Photos one upload may enroll."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Row:
    """One person as the page shows them."""

    name: str
    embeddings: int
    negatives: int
    last_change: str
    chips: list[str]
    """``/files/<id>`` links of their first :data:`CHIPS_SHOWN` chips."""
    record: StudentRecord | None


def _rows(dashboard: Dashboard) -> list[Row]:
    library = dashboard.library
    faces = library.faces()
    people = library.people(faces)
    chips: dict[str, list[str]] = {}
    for face in faces:
        shown = chips.setdefault(face.person, [])
        if face.chip and len(shown) < CHIPS_SHOWN:
            shown.append(dashboard.listing.url(library.store, face.chip, "image/jpeg"))
    with aws_errors(f"reading the roster {library.students_table}"):
        records = stored_records(dashboard.resource("dynamodb"), library.students_table)
    return [
        Row(p.name, p.embeddings, p.negatives, p.last_change, chips.get(p.name, []),
            (records or {}).get(p.name))
        for p in people
    ]  # fmt: skip


def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    """The page, with a notice (``done``) or a problem above it."""
    dashboard = dashboard_of(request)
    shown: dict[str, Any] = {"done": None, "problem": None, "enrollment": None, **context}
    try:
        shown["people"] = _rows(dashboard)
    except ToolsError as exc:
        shown["people"], shown["problem"] = [], exc.message
        status_code = 503 if status_code == 200 else status_code
    shown["can_embed"] = dashboard.model_dir is not None
    return render(request, "people.html", status_code=status_code, **shown)


def people_page(request: Request) -> Response:
    return _page(request)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name}: required")
    return value.strip()


async def _saved_photos(form: FormData, folder: Path) -> list[Path]:
    """The uploaded photos, written to ``folder`` under safe names (their own, numbered)."""
    uploads = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        raise ConfigError("photos: choose one or more photos, each showing the person alone")
    if len(uploads) > MAX_PHOTOS:
        raise ConfigError(f"photos: at most {MAX_PHOTOS} at once, got {len(uploads)}")
    paths = []
    for number, upload in enumerate(uploads):
        name = _UNSAFE.sub("_", Path(upload.filename or "photo").name)[-80:] or "photo"
        path = folder / f"{number:02d}-{name}"
        path.write_bytes(await upload.read())
        paths.append(path)
    return paths


async def enroll(request: Request) -> Response:
    """POST (multipart, CSRF-checked): enroll NAME from the uploaded photos, as ``tools faces
    enroll NAME PHOTO...`` does (one face per photo; the others skipped and said)."""
    form = await checked_form(request)
    try:
        return await _enroll(request, form)
    finally:
        await form.close()  # the uploads' spooled files


async def _enroll(request: Request, form: FormData) -> Response:
    dashboard = dashboard_of(request)
    with tempfile.TemporaryDirectory(prefix="rollcall-enroll-") as tmp:
        try:
            name = check_name(_field(form, "name"))
            paths = await _saved_photos(form, Path(tmp))
            done = await run_in_threadpool(
                lambda: enroll_photos(dashboard.library, dashboard.recognizer(), name, paths)
            )
        except ConfigError as exc:
            return await run_in_threadpool(_page, request, 400, problem=exc.message)
        except ToolsError as exc:
            return await run_in_threadpool(_page, request, 503, problem=exc.message)
    status = 200 if done.enrolled else 400
    return await run_in_threadpool(_page, request, status, enrollment=done)


def _rename(dashboard: Dashboard, form: FormData) -> str:
    old, new = _field(form, "name"), check_name(_field(form, "new"))
    moved = dashboard.library.rename(old, new)
    return f"Renamed {old} to {new} ({moved} embedding{'s' if moved != 1 else ''})."


def _merge(dashboard: Dashboard, form: FormData) -> str:
    source, into = _field(form, "name"), _field(form, "into")
    moved = dashboard.library.merge(source, into)
    return f"Merged {source} into {into} ({moved} embedding{'s' if moved != 1 else ''} moved)."


def _remove(dashboard: Dashboard, form: FormData) -> str:
    name = _field(form, "name")
    deleted: Deleted = dashboard.library.remove(name, purge=form.get("purge") == "1")
    parts = ", ".join(f"{v} {k}" for k, v in deleted.to_json().items())
    return f"Removed {name}: deleted {parts}."


async def rename(request: Request) -> Response:
    """POST (CSRF-checked): rename a person (``tools faces rename``)."""
    return await act(request, _rename, _page)


async def merge(request: Request) -> Response:
    """POST (CSRF-checked): merge a person into another (``tools faces merge``)."""
    return await act(request, _merge, _page)


async def remove(request: Request) -> Response:
    """POST (CSRF-checked): remove a person, ``purge=1`` with everything of theirs
    (``tools faces remove [--purge]``); the confirmation page sends it."""
    return await act(request, _remove, _page)


def confirm_removal(request: Request) -> Response:
    """GET: what removing ``name`` (``purge=1``: and purging) would delete, and the button
    that does it."""
    dashboard = dashboard_of(request)
    name = request.query_params.get("name", "")
    purge = request.query_params.get("purge") == "1"
    try:
        found: Removal = dashboard.library.removal(name, purge=purge)
    except ConfigError as exc:
        return _page(request, 400, problem=exc.message)
    except ToolsError as exc:
        return _page(request, 503, problem=exc.message)
    return render(request, "people_remove.html", removal=found, purge=purge)


def page() -> Page:
    return Page(
        path="/people",
        title="People",
        summary="The face library: enroll from photos, rename, merge, remove (and purge).",
        routes=[
            Route("/people", people_page, name="people"),
            Route("/people/enroll", enroll, methods=["POST"], name="people-enroll"),
            Route("/people/rename", rename, methods=["POST"], name="people-rename"),
            Route("/people/merge", merge, methods=["POST"], name="people-merge"),
            Route("/people/remove", confirm_removal, name="people-remove-confirm"),
            Route("/people/remove", remove, methods=["POST"], name="people-remove"),
        ],
    )
