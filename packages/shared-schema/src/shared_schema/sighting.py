"""Sightings: who was seen in which rollcall clip, as the attendance table stores them.

One item per recognized person per clip, plus one item per clip that showed faces nobody
recognized (``person`` absent, ``unknown`` = how many). The handler writes them
(cloud-handler's ``sightings``); ``tools attendance`` reads them. Keys are deterministic in
the clip key and the person, so a replayed clip overwrites its own items and adds none.

Table layout (the stack's ``<stack>-sightings``):

- ``pk`` = ``<device>#<UTC day of the clip start>``,
  ``sk`` = ``<start ms:13>#<session>#<seq:8>#<who>``: one device's day, in time order;
- index ``by-person`` (``person``, ``start_ms``): "when was X last seen" (sparse: only named
  people's items carry ``person``);
- index ``by-session`` (``session``, ``start_ms``): one edge-capture session;
- index ``by-day`` (``day``, ``start_ms``): every device's sightings of a day;
- ``expires`` (epoch seconds): the table's TTL attribute (the stack's retention).

Objects that are not rollcall clips (whole videos from other clients) have no device,
session or capture time: they yield no sightings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared_schema._time import to_epoch_ms
from shared_schema.clip import SafeId
from shared_schema.result import RecognitionResult
from shared_schema.student import PersonName

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires"
BY_PERSON = "by-person"
BY_SESSION = "by-session"
BY_DAY = "by-day"
INDEXES = {BY_PERSON: "person", BY_SESSION: "session", BY_DAY: "day"}
"""Each global secondary index and its partition key; every index sorts on ``start_ms``."""
INDEX_SORT_KEY = "start_ms"
UNKNOWN_WHO = "?"
"""The sort key's last part on the item that counts a clip's unrecognized faces."""


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


def partition_key(device_id: str, day: str) -> str:
    """The table's partition key of one device's UTC day (``YYYY-MM-DD``)."""
    return f"{device_id}#{day}"


def sort_key_floor(ms: int) -> str:
    """The lowest sort key of a clip starting at ``ms`` (range queries on the table)."""
    return f"{ms:013d}"


def sightings_of(result: RecognitionResult) -> list[Sighting]:
    """The sightings a result records: none for an object that is not a rollcall clip."""
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


def to_item(sighting: Sighting, expires_s: int) -> dict[str, Any]:
    """The DynamoDB item (low-level attribute values) of ``sighting``."""
    who = sighting.person if sighting.person is not None else UNKNOWN_WHO
    item: dict[str, Any] = {
        PARTITION_KEY: {"S": partition_key(sighting.device_id, sighting.day)},
        SORT_KEY: {
            "S": f"{sort_key_floor(sighting.start_ms)}#{sighting.session_id}#"
            f"{sighting.seq:08d}#{who}"
        },
        "device": {"S": sighting.device_id},
        "session": {"S": sighting.session_id},
        "day": {"S": sighting.day},
        "seq": {"N": str(sighting.seq)},
        INDEX_SORT_KEY: {"N": str(sighting.start_ms)},
        "seen_ms": {"N": str(sighting.seen_ms)},
        "key": {"S": sighting.key},
        TTL_ATTRIBUTE: {"N": str(expires_s)},
    }
    if sighting.person is not None:
        item["person"] = {"S": sighting.person}
        item["similarity"] = {"N": f"{sighting.similarity or 0.0:.4f}"}
    else:
        item["unknown"] = {"N": str(sighting.unknown)}
    return item


def from_item(item: dict[str, Any]) -> Sighting:
    """The sighting a DynamoDB item (low-level attribute values) holds."""
    person = item.get("person", {}).get("S")
    return Sighting(
        device_id=item["device"]["S"],
        session_id=item["session"]["S"],
        seq=int(item["seq"]["N"]),
        start_ms=int(item[INDEX_SORT_KEY]["N"]),
        seen_ms=int(item["seen_ms"]["N"]),
        key=item["key"]["S"],
        person=person,
        similarity=float(item["similarity"]["N"]) if "similarity" in item else None,
        unknown=int(item.get("unknown", {}).get("N", "0")),
    )
