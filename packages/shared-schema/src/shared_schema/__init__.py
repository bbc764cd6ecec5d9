"""rollcall's JSON contract: clip keys, student records, recognition results.

Every parser here raises exactly one kind of exception for bad input:
:class:`pydantic.ValidationError` for messages and records, and
:class:`InvalidKeyError` (a :class:`ValueError`) for S3 object keys.
"""

from importlib import metadata
from typing import TYPE_CHECKING

from shared_schema._time import utc_ms
from shared_schema.clip import (
    CLIP_KEY_PREFIX,
    MAX_SEQUENCE,
    ClipId,
    InvalidKeyError,
    format_key,
    parse_key,
)
from shared_schema.result import (
    MAX_ATTEMPT,
    MAX_FACES,
    MAX_FRAME_SIDE,
    MAX_FRAME_TIME_MS,
    MAX_MESSAGE_LENGTH,
    MAX_STAGE_MS,
    SQS_MAX_BYTES,
    BoundingBox,
    ClipRef,
    ErrorCode,
    ErrorDetail,
    FaceResult,
    ModelInfo,
    RecognitionResult,
    RecordLookup,
    ResultStatus,
    StageTimings,
)
from shared_schema.routing import (
    DEVICE_ATTRIBUTE,
    ROUTE_ATTRIBUTE,
    ResultRoute,
    device_filter_policy,
    foreign_filter_policy,
    route_attributes,
)
from shared_schema.student import (
    SeedEntryError,
    SeedLoadResult,
    StudentRecord,
    load_student_seed,
)

if TYPE_CHECKING:
    __version__: str

__all__ = [
    "CLIP_KEY_PREFIX",
    "DEVICE_ATTRIBUTE",
    "MAX_ATTEMPT",
    "MAX_FACES",
    "MAX_FRAME_SIDE",
    "MAX_FRAME_TIME_MS",
    "MAX_MESSAGE_LENGTH",
    "MAX_SEQUENCE",
    "MAX_STAGE_MS",
    "ROUTE_ATTRIBUTE",
    "SQS_MAX_BYTES",
    "BoundingBox",
    "ClipId",
    "ClipRef",
    "ErrorCode",
    "ErrorDetail",
    "FaceResult",
    "InvalidKeyError",
    "ModelInfo",
    "RecognitionResult",
    "RecordLookup",
    "ResultRoute",
    "ResultStatus",
    "SeedEntryError",
    "SeedLoadResult",
    "StageTimings",
    "StudentRecord",
    "__version__",
    "device_filter_policy",
    "foreign_filter_policy",
    "format_key",
    "load_student_seed",
    "parse_key",
    "route_attributes",
    "utc_ms",
]


def __getattr__(name: str) -> str:
    """``__version__``, read lazily from the installed distribution: pyproject.toml is its one
    source (as structlog does)."""
    if name == "__version__":
        return metadata.version("shared-schema")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
