"""Clip identity and the S3 object-key layout.

Key layout: ``clips/<device_id>/<session_id>/<seq:08d>-<capture_start_epoch_ms:13d>.mp4``.
The key alone identifies the clip; :func:`parse_key` accepts exactly the keys that
:func:`format_key` produces and nothing else.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from shared_schema._time import UtcMs, from_epoch_ms, to_epoch_ms

CLIP_KEY_PREFIX = "clips/"
MAX_SEQUENCE = 99_999_999
"""Eight digits: at two clips a second, one session may run for 578 days."""

_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
_KEY_RE = re.compile(
    rf"clips/(?P<device>{_ID_PATTERN})/(?P<session>{_ID_PATTERN})/(?P<seq>\d{{8}})-(?P<ms>\d{{13}})\.mp4"
)

SafeId = Annotated[str, StringConstraints(pattern=rf"^{_ID_PATTERN}$")]
"""1-64 characters of ``A-Z a-z 0-9 _ -``, starting with a letter or digit: safe in any S3 key."""


class InvalidKeyError(ValueError):
    """An S3 object key that this format did not produce."""

    def __init__(self, key: object, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"not a rollcall clip key: {key!r}: {reason}")


class ClipId(BaseModel):
    """What identifies a clip: its camera, its recording session, its place in it, its start."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    device_id: SafeId
    session_id: SafeId
    seq: int = Field(ge=0, le=MAX_SEQUENCE, description="0-based clip number within the session")
    captured_at: UtcMs = Field(description="capture start of the clip's first frame (UTC, ms)")

    @property
    def key(self) -> str:
        """The S3 object key of this clip."""
        return format_key(self)


def format_key(clip: ClipId) -> str:
    """The S3 object key for ``clip``."""
    return (
        f"{CLIP_KEY_PREFIX}{clip.device_id}/{clip.session_id}/"
        f"{clip.seq:08d}-{to_epoch_ms(clip.captured_at):013d}.mp4"
    )


def parse_key(key: str) -> ClipId:
    """The :class:`ClipId` encoded in an S3 object key (already URL-decoded).

    Raises:
        InvalidKeyError: ``key`` is not exactly a key that :func:`format_key` produces.
    """
    if not isinstance(key, str):
        raise InvalidKeyError(key, f"expected a string, got {type(key).__name__}")
    match = _KEY_RE.fullmatch(key)
    if match is None:
        raise InvalidKeyError(
            key, "expected clips/<device>/<session>/<8-digit seq>-<13-digit epoch ms>.mp4"
        )
    try:
        return ClipId(
            device_id=match["device"],
            session_id=match["session"],
            seq=int(match["seq"]),
            captured_at=from_epoch_ms(int(match["ms"])),
        )
    except (ValidationError, ValueError, OverflowError) as exc:
        raise InvalidKeyError(key, str(exc).splitlines()[0]) from None
