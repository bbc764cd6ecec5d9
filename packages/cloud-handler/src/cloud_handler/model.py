"""Load the recognizer once per container: from a directory, an S3 URI, or detection-only."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from cloud_handler.settings import ConfigError, Settings
from shared_schema import ModelInfo

_loaded: dict[tuple[str, int | None], Any] = {}
_lock = threading.Lock()


def load_recognizer(settings: Settings, s3: Any) -> Any:
    """The :class:`face_model.Recognizer` the settings name, loaded once per process
    (onnxruntime and numpy only: serving never imports torch).

    Raises:
        ConfigError: the artifact cannot be found or loaded; the message names where.
    """
    source = settings.model_dir or settings.model_s3_uri or "detection-only"
    with _lock:
        if (source, settings.min_face_size) not in _loaded:
            recognizer = _load(settings, s3)
            recognizer.min_face_size = settings.min_face_size
            warm_up(recognizer)
            _loaded[(source, settings.min_face_size)] = recognizer
        return _loaded[(source, settings.min_face_size)]


def warm_up(recognizer: Any) -> None:
    """Create the onnxruntime sessions and run each network once at init, not in the first
    clip."""
    recognizer.warm_up()


def _load(settings: Settings, s3: Any) -> Any:
    from face_model import Recognizer
    from face_model.errors import FaceModelError

    if settings.detection_only:
        return Recognizer.detection_only(threads=settings.threads)
    source = settings.model_dir or settings.model_s3_uri or ""
    try:
        directory = (
            Path(settings.model_dir) if settings.model_dir else download_artifact(s3, source)
        )
        if not directory.is_dir():
            raise ConfigError(f"ROLLCALL_MODEL_DIR={source!r} is not a directory")
        return Recognizer.load(directory, threads=settings.threads)
    except FaceModelError as exc:
        raise ConfigError(f"model artifact {source!r} cannot be loaded: {exc}") from exc


def download_artifact(s3: Any, uri: str) -> Path:
    """Copy every object under ``uri`` (an ``s3://bucket/prefix``) into a local directory.

    The artifact's own manifest (sha256 of every file) is checked by ``Recognizer.load``.
    """
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    base = Path(os.environ.get("ROLLCALL_MODEL_CACHE", tempfile.gettempdir()))
    target = base / "rollcall-model" / hashlib.sha256(uri.encode()).hexdigest()[:16]
    paginator = s3.get_paginator("list_objects_v2")
    keys = [
        obj["Key"]
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
        if not obj["Key"].endswith("/")
    ]
    if not keys:
        raise ConfigError(f"ROLLCALL_MODEL_S3_URI={uri!r}: no objects under that prefix")
    for key in keys:
        relative = Path(key[len(prefix) :])
        if relative.is_absolute() or ".." in relative.parts:
            raise ConfigError(f"ROLLCALL_MODEL_S3_URI={uri!r}: unsafe key {key!r}")
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(path))  # botocore retries throttling
    return target


def model_info(recognizer: Any) -> ModelInfo:
    """The result's ``model`` field for ``recognizer``."""
    return ModelInfo(
        name=str(recognizer.name)[:128] or "unnamed",
        version=str(recognizer.version)[:64] or "0",
        backbone=str(recognizer.backbone)[:64] or "none",
        pretrained=bool(recognizer.pretrained),
    )
