"""What a warm container keeps: settings, AWS clients, the recognizer, caches, idempotency."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cloud_handler.answer import Answer, InvocationConfig, build_answer, idempotency_config
from cloud_handler.aws import Clients
from cloud_handler.lookup import RecordCache
from cloud_handler.model import load_recognizer, model_info
from cloud_handler.pipeline import Deps
from cloud_handler.settings import Settings, load_settings
from shared_schema import ModelInfo


@dataclass
class Runtime:
    """Per-container state, built once (see :func:`get_runtime`)."""

    settings: Settings
    clients: Clients
    recognizer: Any
    model: ModelInfo
    cache: RecordCache
    idempotency: InvocationConfig
    answer: Answer
    init_s: float
    load_model_s: float

    @property
    def deps(self) -> Deps:
        """What :func:`~cloud_handler.pipeline.process_clip` needs."""
        return Deps(self.settings, self.clients, self.recognizer, self.model, self.cache)


_lock = threading.Lock()
_runtime: Runtime | None = None
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rollcall-init")


def _timed(load: Any, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    return load(*args), time.perf_counter() - start


def build_runtime(settings: Settings | None = None) -> Runtime:
    """Validate the environment, create clients and load the model.

    Raises:
        ConfigError: the environment or the model artifact is unusable.
    """
    start = time.perf_counter()
    settings = settings or load_settings()
    clients = Clients.create(
        endpoint_url=settings.endpoint_url,
        region=settings.region,
        max_attempts=settings.aws_max_attempts,
        retry_mode=settings.aws_retry_mode,
    )
    # the model loads (hashing, onnxruntime sessions: C code that releases the GIL) while
    # this thread sets up the rest
    loading = _pool.submit(_timed, load_recognizer, settings, clients.s3)
    cache = RecordCache(settings.record_cache_ttl_s)
    config = idempotency_config(settings.idempotency_ttl_s)
    recognizer, load_model_s = loading.result()
    model = model_info(recognizer)
    deps = Deps(settings, clients, recognizer, model, cache)
    return Runtime(
        settings=settings,
        clients=clients,
        recognizer=recognizer,
        model=model,
        cache=cache,
        idempotency=config,
        answer=build_answer(deps, config),
        init_s=time.perf_counter() - start,
        load_model_s=load_model_s,
    )


def get_runtime() -> Runtime:
    """The container's :class:`Runtime`, built on first use (thread-safe)."""
    global _runtime  # noqa: PLW0603 - one per container by design
    if _runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = build_runtime()
    return _runtime


def reset_runtime() -> None:
    """Forget the container state (tests, or after the environment changed)."""
    global _runtime  # noqa: PLW0603
    with _lock:
        _runtime = None


def is_built() -> bool:
    """True once the runtime exists (the next invocation is warm)."""
    return _runtime is not None
