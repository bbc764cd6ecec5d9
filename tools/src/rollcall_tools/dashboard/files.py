"""Files the dashboard serves: only objects a page listed, by an ID it made up.

A page that shows an object (a clip today; chips of faces later) asks :meth:`Listing.url`
for a link; ``/files/{id}`` then serves that object and nothing else: the request names an
ID, never a bucket, key or path. IDs are random, kept for the last :data:`CAPACITY` objects
listed, and die with the process.

A page may also list a file it makes from what it showed (Attendance's timeline and CSV, of
the report on the page): :meth:`Listing.made` keeps the function that makes it, called when
``/files/{id}`` is requested; the last :data:`MADE_CAPACITY` are kept.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rollcall_tools.aws import aws_errors, if_present
from rollcall_tools.errors import ToolsError

CAPACITY = 10_000
MADE_CAPACITY = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ListedFile:
    bucket: str
    key: str
    media_type: str = "application/octet-stream"

    @property
    def filename(self) -> str:
        """The key's last part, reduced to safe characters (for Content-Disposition)."""
        return _safe_name(self.key.rsplit("/", 1)[-1])


@dataclass(frozen=True)
class MadeFile:
    """A file made when requested, from what a page showed (never from the request)."""

    make: Callable[[], bytes]
    media_type: str
    filename: str


def _safe_name(name: str) -> str:
    return _UNSAFE.sub("_", name)[:100] or "file"


@dataclass
class Listing:
    """ID -> object, for the objects the pages listed (the oldest forgotten first)."""

    bucket: str
    """The stack's bucket (clips): its objects may be listed."""
    others: frozenset[str] = frozenset()
    """Other buckets whose objects may be listed (the face store's chips)."""
    capacity: int = CAPACITY
    _by_id: OrderedDict[str, ListedFile] = field(default_factory=OrderedDict)
    _by_file: dict[ListedFile, str] = field(default_factory=dict)
    made_capacity: int = MADE_CAPACITY
    _made: OrderedDict[str, MadeFile] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, bucket: str, key: str, media_type: str = "application/octet-stream") -> str:
        """``/files/<id>`` for this object ('' for another bucket's: not served)."""
        if bucket != self.bucket and bucket not in self.others:
            return ""
        listed = ListedFile(bucket, key, media_type)
        with self._lock:
            file_id = self._by_file.get(listed)
            if file_id is None:
                file_id = secrets.token_urlsafe(12)
                self._by_id[file_id] = listed
                self._by_file[listed] = file_id
                while len(self._by_id) > self.capacity:
                    _, old = self._by_id.popitem(last=False)
                    self._by_file.pop(old, None)
            else:
                self._by_id.move_to_end(file_id)
        return f"/files/{file_id}"

    def made(self, make: Callable[[], bytes], media_type: str, filename: str) -> str:
        """``/files/<id>`` for a file ``make()`` returns when it is requested."""
        file_id = secrets.token_urlsafe(12)
        with self._lock:
            self._made[file_id] = MadeFile(make, media_type, _safe_name(filename))
            while len(self._made) > self.made_capacity:
                self._made.popitem(last=False)
        return f"/files/{file_id}"

    def get(self, file_id: str) -> ListedFile | MadeFile | None:
        with self._lock:
            return self._by_id.get(file_id) or self._made.get(file_id)


def serve_file(request: Request) -> Response:
    """The listed object, as a download (blocking S3 call: run in the thread pool)."""
    dashboard = request.app.state.dashboard
    listed = dashboard.listing.get(request.path_params["file_id"])
    if listed is None:
        raise HTTPException(404, "no such file (IDs come from the pages, and expire)")
    if isinstance(listed, MadeFile):
        return _download(listed.make(), listed.media_type, listed.filename)
    s3 = dashboard.stack.target.client("s3")
    try:
        with aws_errors(f"reading s3://{listed.bucket}/{listed.key}"):
            found = if_present(s3.get_object, Bucket=listed.bucket, Key=listed.key)
            body = None if found is None else found["Body"].read()
    except ToolsError as exc:
        raise HTTPException(503, exc.message) from None
    if body is None:
        raise HTTPException(404, "the object is gone (expired or deleted)")
    return _download(body, listed.media_type, listed.filename)


def _download(body: bytes, media_type: str, filename: str) -> Response:
    disposition = f'attachment; filename="{filename}"'
    return Response(body, media_type=media_type, headers={"content-disposition": disposition})


ROUTES = [Route("/files/{file_id}", serve_file, name="file")]
