"""What a warm container keeps, built once: settings, AWS clients, the recognizer, the record
cache and the idempotent answering step."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

from cloud_handler.answer import Answer, build_answer, idempotency_config
from cloud_handler.aws import client, session
from cloud_handler.library import LibraryReader, library_reader
from cloud_handler.lookup import RecordCache
from cloud_handler.model import load_recognizer
from cloud_handler.settings import Settings, load_settings
from shared_schema import ModelInfo

if TYPE_CHECKING:
    from face_model import Recognizer


@dataclass
class Runtime:
    """The container's state (see :func:`get_runtime`)."""

    settings: Settings
    s3: Any
    dynamodb: Any
    """The students table's client, and the idempotency records'."""
    sns: Any
    recognizer: Recognizer
    model: ModelInfo
    """The results' ``model`` field."""
    cache: RecordCache = field(default_factory=RecordCache)
    library: LibraryReader | None = None
    """Keeps the recognizer's gallery at the face library's version (None: no library)."""
    idempotency: IdempotencyConfig = field(default_factory=idempotency_config)
    answer: Answer = field(init=False, repr=False)
    """``answer(payload, attempt)``: the object's result computed and published, once."""

    def __post_init__(self) -> None:
        self.answer = build_answer(self)


_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rollcall-init")


def build_runtime() -> Runtime:
    """Validate the environment, create the clients and load the model.

    The model loads in a background thread (file hashing and onnxruntime's sessions are C
    code that releases the GIL) while this one makes the clients.

    Raises:
        ConfigError: the environment or the model artifact is unusable.
    """
    settings = load_settings()
    aws = session(settings.region)

    def make(service: str) -> Any:
        return client(aws, service, endpoint_url=settings.endpoint_url)

    s3 = make("s3") if settings.model_s3_uri else None  # the artifact is read through it
    loading = _pool.submit(load_recognizer, settings, s3)
    s3 = s3 or make("s3")
    dynamodb, sns = make("dynamodb"), make("sns")
    recognizer, model = loading.result()
    library = library_reader(dynamodb, settings.library_table, recognizer)
    return Runtime(settings, s3, dynamodb, sns, recognizer, model, library=library)


@functools.cache
def get_runtime() -> Runtime:
    """The container's :class:`Runtime`, built on first use and kept for the process (one
    invocation at a time, as Lambda runs them). ``get_runtime.cache_clear()`` forgets it:
    the next call builds it from the environment again (tests, benchmarks)."""
    return build_runtime()
