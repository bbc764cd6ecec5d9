"""Load the recognizer once per process: from a directory, an S3 URI, or detection-only."""

from __future__ import annotations

import hashlib
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from cloud_handler.errors import ConfigError
from cloud_handler.settings import Settings
from shared_schema import ModelInfo
from shared_schema.student import PersonName

if TYPE_CHECKING:
    from face_model import Recognizer

_loaded: dict[tuple[Any, ...], tuple[Recognizer, ModelInfo]] = {}
_lock = threading.Lock()
_PEOPLE = TypeAdapter(list[PersonName])


def load_recognizer(settings: Settings, s3: Any | None) -> tuple[Recognizer, ModelInfo]:
    """The :class:`face_model.Recognizer` the settings name, warmed up, and the results'
    ``model`` field; loaded once per process (onnxruntime and numpy only: serving never
    imports torch). ``s3`` reads ``ROLLCALL_MODEL_S3_URI``.

    Raises:
        ConfigError: the artifact cannot be found or loaded, or its manifest does not fit
            a result; the message names where.
    """
    source = settings.model_dir or settings.model_s3_uri
    key = (source, settings.min_face_size, settings.threads)
    with _lock:
        if key not in _loaded:
            recognizer = _load(settings, s3)
            recognizer.min_face_size = settings.min_face_size
            info = _info(recognizer, str(source or "detection-only"))
            recognizer.warm_up()  # sessions made and run once now, not in the first clip
            _loaded[key] = recognizer, info
        return _loaded[key]


def _load(settings: Settings, s3: Any | None) -> Recognizer:
    from face_model import Recognizer
    from face_model.errors import FaceModelError

    if settings.detection_only:
        return Recognizer.detection_only(threads=settings.threads)
    try:
        if settings.model_dir is not None:
            directory = settings.model_dir
            if not directory.is_dir():
                raise ConfigError(f"ROLLCALL_MODEL_DIR={str(directory)!r} is not a directory")
        else:
            uri = str(settings.model_s3_uri)
            directory = download_artifact(s3, uri, settings.model_cache)
        return Recognizer.load(directory, threads=settings.threads)
    except FaceModelError as exc:
        source = settings.model_dir or settings.model_s3_uri
        raise ConfigError(f"model artifact {str(source)!r} cannot be loaded: {exc}") from exc


def _info(recognizer: Recognizer, source: str) -> ModelInfo:
    """The results' ``model`` field, once the names a result may carry (the artifact's own
    and its people's) are known to fit the schema."""
    try:
        _PEOPLE.validate_python(recognizer.people)
        return ModelInfo(
            name=recognizer.name,
            version=recognizer.version,
            backbone=recognizer.backbone,
            pretrained=recognizer.pretrained,
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        what = "person" if isinstance(problem["loc"][0], int) else problem["loc"][0]
        raise ConfigError(
            f"model artifact {source!r}: its {what} {problem['input']!r} does not fit a "
            f"result ({problem['msg']})"
        ) from None


def download_artifact(s3: Any, uri: str, cache: Path | None = None) -> Path:
    """Copy every object under ``uri`` (an ``s3://bucket/prefix``) into a directory under
    ``cache`` (``ROLLCALL_MODEL_CACHE``; default: the temp dir).

    The artifact's own manifest (sha256 of every file) is checked by ``Recognizer.load``.

    Raises:
        ConfigError: nothing under the prefix, or a key that would leave the directory.
    """
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    base = cache or Path(tempfile.gettempdir())
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
