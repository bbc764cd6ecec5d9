"""The recognition result: the message the handler publishes, exactly one per object."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared_schema._time import UtcMs
from shared_schema.clip import ClipId, format_key
from shared_schema.routing import route_attributes
from shared_schema.student import PersonName, StudentRecord

SQS_MAX_BYTES = 262_144
"""SQS's (and SNS's) hard limit on a message body (256 KiB)."""
MAX_FACES = 32
"""At most this many faces are reported per clip; ``faces_truncated`` says when more were seen."""
MAX_MESSAGE_LENGTH = 2048
"""The longest error message a result holds (``ErrorDetail.message``, in characters)."""
MAX_STAGE_MS = 3_600_000
"""The longest stage duration a result holds (``StageTimings``, an hour)."""
MAX_FRAME_TIME_MS = 3_600_000
"""The latest frame time a result holds (``FaceResult.frame_time_ms``, an hour in)."""
MAX_FRAME_SIDE = 16384
"""The largest box coordinate a result holds (``BoundingBox``, pixels of the original frame):
the widest or tallest frame a result can describe."""
MAX_ATTEMPT = 1000
"""The highest delivery ``attempt`` a result holds: SQS's largest ``maxReceiveCount``."""

Text = Annotated[str, StringConstraints(max_length=MAX_MESSAGE_LENGTH)]
Ms = Annotated[float, Field(ge=0, le=MAX_STAGE_MS)]


class ResultStatus(StrEnum):
    """What happened to a clip."""

    RECOGNIZED = "recognized"
    """At least one face matched an enrolled person."""
    UNKNOWN = "unknown"
    """Faces were found, but none matched anyone enrolled."""
    NO_FACE = "no_face"
    """The clip decoded, and no face was found in the sampled frames."""
    ERROR = "error"
    """The clip could not be processed; ``error`` says why."""


class ErrorCode(StrEnum):
    """Why a clip could not be processed."""

    OBJECT_MISSING = "object_missing"
    OBJECT_EMPTY = "object_empty"
    OBJECT_TOO_LARGE = "object_too_large"
    NOT_A_VIDEO = "not_a_video"
    CORRUPT_VIDEO = "corrupt_video"
    UNSUPPORTED_CODEC = "unsupported_codec"
    FRAME_TOO_LARGE = "frame_too_large"
    NO_DECODABLE_FRAME = "no_decodable_frame"
    INVALID_KEY = "invalid_key"
    """No longer produced (handlers since cloud-handler 0.2.0 answer any key as a video);
    kept so that older messages still parse."""
    MALFORMED_EVENT = "malformed_event"
    ACCESS_DENIED = "access_denied"
    """An AWS call the handler needs was refused (IAM): the clip cannot be read or looked up."""
    INTERNAL = "internal"


class ErrorDetail(BaseModel):
    """A processing error: a stable code for programs and a message for people."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: ErrorCode
    message: Text
    stage: Literal["event", "download", "decode", "detect", "embed", "lookup", "send"]


class BoundingBox(BaseModel):
    """A face box in pixels of the original (not downscaled) frame."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    x1: float = Field(ge=0, le=MAX_FRAME_SIDE)
    y1: float = Field(ge=0, le=MAX_FRAME_SIDE)
    x2: float = Field(ge=0, le=MAX_FRAME_SIDE)
    y2: float = Field(ge=0, le=MAX_FRAME_SIDE)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.x2 < self.x1 or self.y2 < self.y1:
            raise ValueError("box corners must satisfy x1 <= x2 and y1 <= y2")
        return self


class RecordLookup(StrEnum):
    """What the DynamoDB lookup said for a face."""

    FOUND = "found"
    MISSING = "missing"
    """Recognized, but the students table holds no record of that name."""
    NOT_APPLICABLE = "not_applicable"
    """Unknown face: nothing to look up."""


class FaceResult(BaseModel):
    """One person seen in a clip, after voting across the sampled frames."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    identity: PersonName | None = Field(description="enrolled name, or null for an unknown face")
    similarity: float = Field(ge=-1, le=1, description="cosine similarity to the best match")
    box: BoundingBox
    frame_time_ms: int = Field(
        ge=0, le=MAX_FRAME_TIME_MS, description="time of the frame in the clip"
    )
    votes: int = Field(default=1, ge=1, le=1000, description="sampled frames that agreed")
    lookup: RecordLookup
    record: StudentRecord | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.identity is None and self.lookup is not RecordLookup.NOT_APPLICABLE:
            raise ValueError("an unknown face has lookup 'not_applicable'")
        if (self.record is not None) != (self.lookup is RecordLookup.FOUND):
            raise ValueError("record must be present exactly when lookup is 'found'")
        if self.record is not None and self.record.name != self.identity:
            raise ValueError("record name must equal identity")
        return self


class ClipRef(BaseModel):
    """Which object the result is about."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bucket: Annotated[str, StringConstraints(min_length=3, max_length=63)]
    key: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    clip: ClipId | None = Field(description="parsed from the key; null when the key is not ours")
    etag: Annotated[str, StringConstraints(max_length=128)] | None = None
    version_id: Annotated[str, StringConstraints(max_length=1024)] | None = None

    @model_validator(mode="after")
    def _key_matches(self) -> Self:
        if self.clip is not None and format_key(self.clip) != self.key:
            raise ValueError("clip does not match key")
        return self


class ModelInfo(BaseModel):
    """The recognizer that produced the result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    backbone: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    pretrained: bool = Field(description="false: detection only, identities are never reported")


class StageTimings(BaseModel):
    """Milliseconds spent in each stage of the handler for this clip."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    download_ms: Ms = 0
    decode_ms: Ms = 0
    detect_ms: Ms = 0
    embed_ms: Ms = 0
    lookup_ms: Ms = 0
    total_ms: Ms = 0


class RecognitionResult(BaseModel):
    """One object's result, the body of one message published to the results topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    clip: ClipRef
    status: ResultStatus
    faces: list[FaceResult] = Field(default_factory=list, max_length=MAX_FACES)
    faces_truncated: bool = False
    frames_sampled: int = Field(default=0, ge=0, le=1000)
    error: ErrorDetail | None = None
    model: ModelInfo | None = None
    timings: StageTimings = Field(default_factory=StageTimings)
    processed_at: UtcMs
    attempt: int = Field(
        default=1, ge=1, le=MAX_ATTEMPT, description="delivery attempt that produced it"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.status is ResultStatus.ERROR) != (self.error is not None):
            raise ValueError("error must be present exactly when status is 'error'")
        known = any(face.identity is not None for face in self.faces)
        if self.status is ResultStatus.RECOGNIZED and not known:
            raise ValueError("status 'recognized' needs at least one identified face")
        if self.status is ResultStatus.UNKNOWN and (known or not self.faces):
            raise ValueError("status 'unknown' needs faces, none identified")
        if self.status is ResultStatus.NO_FACE and self.faces:
            raise ValueError("status 'no_face' cannot list faces")
        return self

    def to_message(self) -> str:
        """The message body (compact JSON, always under :data:`SQS_MAX_BYTES`)."""
        body = self.model_dump_json(exclude_none=False)
        if len(body.encode()) > SQS_MAX_BYTES:  # pragma: no cover - bounded by construction
            raise ValueError(f"result message is {len(body.encode())} bytes, over SQS's limit")
        return body

    @classmethod
    def from_message(cls, body: str | bytes) -> RecognitionResult:
        """Parse a message body.

        Raises:
            pydantic.ValidationError: not JSON, an unknown ``schema_version``, or a bad field.
        """
        return cls.model_validate_json(body)

    @property
    def route_attributes(self) -> dict[str, str]:
        """The message attributes this result is published with (see ``routing``)."""
        return route_attributes(self.clip.clip)

    @property
    def people(self) -> list[str]:
        """Names of the identified people, in order of first appearance."""
        return list(dict.fromkeys(f.identity for f in self.faces if f.identity is not None))
