"""Sightings: who was seen in which rollcall clip, as the attendance table stores them.

Per answered rollcall clip the handler writes (cloud-handler's ``sightings``), in one batch:

- one **person item** per recognized person: ``pk`` = ``@<person>``,
  ``sk`` = ``<start ms:13>#<device>#<session>#<seq:8>`` - a person's sightings in time order
  ("when was X last seen": the newest item; a purge deletes the partition);
- one **clip item** (the roll of the clip): ``pk`` = ``<device>#<UTC day of the clip start>``,
  ``sk`` = ``<start ms:13>#<session>#<seq:8>``, with every person seen (``people``: a JSON
  list of ``[name, similarity, frame ms]``) and the unrecognized faces counted
  (``unknown``). Reports read these: one item per clip, whoever was in it.

A person partition starts with ``@``, which no device id does, so the two never meet. The
clip items alone carry ``session`` and ``day``, so the indexes ``by-session`` (``session``,
``start_ms``) and ``by-day`` (``day``, ``start_ms``) hold only them (a person item names
its clip by key alone). ``expires`` (epoch seconds) is the table's TTL attribute (the
stack's retention). Keys are deterministic in the
clip key and the person: a replayed clip overwrites its own items and adds none.

Objects that are not rollcall clips (whole videos from other clients) have no device,
session or capture time: they yield no sightings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared_schema._time import to_epoch_ms
from shared_schema.clip import SafeId, parse_key
from shared_schema.result import RecognitionResult
from shared_schema.student import PersonName

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires"
BY_SESSION = "by-session"
BY_DAY = "by-day"
INDEXES = {BY_SESSION: "session", BY_DAY: "day"}
"""Each global secondary index and its partition key; both sort on ``start_ms``."""
INDEX_SORT_KEY = "start_ms"
PERSON_PREFIX = "@"


class Sighting(BaseModel):
    """One person (or a clip's unrecognized faces) seen in one rollcall clip."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    device_id: SafeId
    session_id: SafeId
    seq: int = Field(ge=0)
    start_ms: int = Field(ge=0, description="the clip's capture start (from its key), epoch ms")
    seen_ms: int = Field(ge=0, description="the frame the person was best seen in, epoch ms")
    key: str = Field(min_length=1, description="the clip's object key")
    person: PersonName | None = Field(description="null: the clip's unrecognized faces")
    similarity: float | None = Field(default=None, ge=-1, le=1)
    unknown: int = Field(default=0, ge=0, description="unrecognized faces (person null only)")

    @property
    def day(self) -> str:
        """The UTC day of the clip start (``YYYY-MM-DD``)."""
        return datetime.fromtimestamp(self.start_ms / 1000, tz=UTC).date().isoformat()


def clip_partition(device_id: str, day: str) -> str:
    """The partition of one device's clip items of a UTC day (``YYYY-MM-DD``)."""
    return f"{device_id}#{day}"


def person_partition(person: str) -> str:
    """The partition of one person's items."""
    return f"{PERSON_PREFIX}{person}"


def sort_key_floor(ms: int) -> str:
    """The lowest sort key of a clip starting at ``ms`` (range queries)."""
    return f"{ms:013d}"


def sightings_of(result: RecognitionResult) -> list[Sighting]:
    """The sightings a result records (named people by name, then the unrecognized faces
    as one); none for an object that is not a rollcall clip."""
    clip = result.clip.clip
    if clip is None:
        return []
    start = to_epoch_ms(clip.captured_at)
    base = {
        "device_id": clip.device_id,
        "session_id": clip.session_id,
        "seq": clip.seq,
        "start_ms": start,
        "key": result.clip.key,
    }
    best: dict[str, Sighting] = {}
    unknown, unknown_seen = 0, start
    for face in result.faces:
        seen = start + face.frame_time_ms
        if face.identity is None:
            unknown, unknown_seen = unknown + 1, max(unknown_seen, seen)
            continue
        kept = best.get(face.identity)
        if kept is None or face.similarity > (kept.similarity or -1):
            best[face.identity] = Sighting(
                **base, seen_ms=seen, person=face.identity, similarity=face.similarity
            )
    out = [best[name] for name in sorted(best)]
    if unknown:
        out.append(Sighting(**base, seen_ms=unknown_seen, person=None, unknown=unknown))
    return out


def clip_items(sightings: list[Sighting], expires_s: int) -> list[dict[str, Any]]:
    """The DynamoDB items (low-level attribute values) of one clip's sightings: its clip
    item, then one person item per named person. None for no sightings."""
    if not sightings:
        return []
    first = sightings[0]
    named = [s for s in sightings if s.person is not None]
    people = [[s.person, round(s.similarity or 0.0, 4), s.seen_ms - s.start_ms] for s in named]
    expires = {"N": str(expires_s)}
    clip: dict[str, Any] = {
        PARTITION_KEY: {"S": clip_partition(first.device_id, first.day)},
        SORT_KEY: {"S": f"{sort_key_floor(first.start_ms)}#{first.session_id}#{first.seq:08d}"},
        "session": {"S": first.session_id},
        "day": {"S": first.day},
        INDEX_SORT_KEY: {"N": str(first.start_ms)},
        "key": {"S": first.key},
        "people": {"S": json.dumps(people, separators=(",", ":"))},
        "unknown": {"N": "0"},
        TTL_ATTRIBUTE: expires,
    }
    for s in sightings:
        if s.person is None:
            clip["unknown"] = {"N": str(s.unknown)}
            clip["unknown_ms"] = {"N": str(s.seen_ms - s.start_ms)}
    return [clip] + [_person_item(s, expires) for s in named]


def _person_item(s: Sighting, expires: dict[str, str]) -> dict[str, Any]:
    return {
        PARTITION_KEY: {"S": person_partition(str(s.person))},
        SORT_KEY: {"S": f"{sort_key_floor(s.start_ms)}#{s.device_id}#{s.session_id}#{s.seq:08d}"},
        INDEX_SORT_KEY: {"N": str(s.start_ms)},
        "seen_ms": {"N": str(s.seen_ms)},
        "key": {"S": s.key},
        "similarity": {"N": f"{s.similarity or 0.0:.4f}"},
        TTL_ATTRIBUTE: expires,
    }


def from_clip_item(item: dict[str, Any]) -> list[Sighting]:
    """The sightings a clip item holds (named people, then the unrecognized faces)."""
    device = item[PARTITION_KEY]["S"].rsplit("#", 1)[0]
    session, seq = item[SORT_KEY]["S"].split("#")[1:3]
    start = int(item[INDEX_SORT_KEY]["N"])
    base = {
        "device_id": device,
        "session_id": session,
        "seq": int(seq),
        "start_ms": start,
        "key": item["key"]["S"],
    }
    out = [
        Sighting(**base, person=name, similarity=similarity, seen_ms=start + offset)
        for name, similarity, offset in json.loads(item["people"]["S"])
    ]
    unknown = int(item.get("unknown", {}).get("N", "0"))
    if unknown:
        offset = int(item.get("unknown_ms", {}).get("N", "0"))
        out.append(Sighting(**base, person=None, unknown=unknown, seen_ms=start + offset))
    return out


def from_person_item(item: dict[str, Any]) -> Sighting:
    """The sighting a person item holds (device, session and seq from its clip key)."""
    clip = parse_key(item["key"]["S"])
    return Sighting(
        device_id=clip.device_id,
        session_id=clip.session_id,
        seq=clip.seq,
        start_ms=int(item[INDEX_SORT_KEY]["N"]),
        seen_ms=int(item["seen_ms"]["N"]),
        key=item["key"]["S"],
        person=item[PARTITION_KEY]["S"][len(PERSON_PREFIX) :],
        similarity=float(item["similarity"]["N"]),
    )
