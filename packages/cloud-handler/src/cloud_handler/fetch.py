"""Read an uploaded object into memory, refusing empty and oversized ones.

The bytes read are the ones the event named: a GET by the event's ``versionId`` (versioned
buckets) and ``If-Match`` on the event's ETag. When a later upload has replaced the object
since (a delayed or redelivered event for A, processed after B took the key), S3 answers
``412 PreconditionFailed`` and the event is answered ``object_missing``: the bytes it named
are gone from the bucket (an unversioned bucket keeps only the latest), and answering it with
B's bytes under A's ETag would be a wrong answer. B's own event answers B. The error code is
one that readers already know (a new code would not parse in older readers); the message
says the object was replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cloud_handler.aws import error_code
from cloud_handler.errors import ClipError
from cloud_handler.events import ClipTask
from shared_schema import ErrorCode

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Blob:
    """An object's bytes and what S3 said about it."""

    data: bytes
    etag: str | None
    version_id: str | None


def fetch_clip(s3: Any, task: ClipTask, *, max_bytes: int) -> Blob:
    """GET ``task``'s object into memory (never to disk): its version, if the event named
    one, and only while it still holds the event's ETag.

    Raises:
        ClipError: empty, or larger than ``max_bytes`` (checked from the event's size,
            then ``ContentLength``, then while reading); ``object_missing`` when a later
            upload replaced the object the event named.
        botocore.exceptions.ClientError: S3 refused (see :func:`cloud_handler.aws.result_code`:
            a missing object is ``object_missing``, a refusal ``access_denied``).
    """
    where = f"s3://{task.bucket}/{task.key}"
    if task.size is not None and task.size > max_bytes:
        raise _too_large(where, task.size, max_bytes)
    kwargs: dict[str, Any] = {"Bucket": task.bucket, "Key": task.key}
    if task.version_id:
        kwargs["VersionId"] = task.version_id
    if task.etag:
        kwargs["IfMatch"] = f'"{task.etag}"'
    try:
        response = s3.get_object(**kwargs)
    except ClientError as exc:
        if error_code(exc) != "PreconditionFailed":
            raise
        raise ClipError(
            ErrorCode.OBJECT_MISSING,
            f"{where} was replaced by a later upload: it no longer holds ETag {task.etag}, the "
            "object this event named (the later upload is answered on its own event)",
            "download",
        ) from exc
    body = response["Body"]
    try:
        length = response.get("ContentLength")
        if length is not None and length > max_bytes:
            raise _too_large(where, length, max_bytes)
        data = _read_capped(body, max_bytes, where)
    finally:
        body.close()
    if not data:
        raise ClipError(ErrorCode.OBJECT_EMPTY, f"{where} is empty (0 bytes)", "download")
    etag = response.get("ETag")
    return Blob(data, etag.strip('"') if etag else None, response.get("VersionId"))


def _read_capped(body: Any, max_bytes: int, where: str) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = body.read(min(_CHUNK, max_bytes + 1 - total))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(where, total, max_bytes, at_least=True)


def _too_large(where: str, size: int, limit: int, *, at_least: bool = False) -> ClipError:
    more = "more than " if at_least else ""
    return ClipError(
        ErrorCode.OBJECT_TOO_LARGE,
        f"{where} is {more}{size} bytes, over the {limit}-byte limit (ROLLCALL_MAX_OBJECT_BYTES)",
        "download",
    )
