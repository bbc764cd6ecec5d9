"""`tools faces reject KEY --not NAME`: the face in an uploaded object that was taken for NAME
becomes a negative example of NAME (a probe at least as close to NAME's negative examples as
to NAME is not NAME)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from face_model.library import NEGATIVE, Face, build_gallery, identity_of
from rollcall_tools.aws import aws_errors, if_present
from rollcall_tools.errors import ConfigError
from rollcall_tools.faces.library import Library, new_id

if TYPE_CHECKING:
    from face_model import Recognizer

FRAMES = 8
MAX_FRAME_PIXELS = 4096 * 2304


def reject(library: Library, recognizer: Recognizer, bucket: str, key: str, name: str) -> float:
    """Add the face of ``key`` closest to ``name`` as a negative example of ``name``;
    returns its similarity to ``name``."""
    from cloud_handler.decode import sample_frames
    from cloud_handler.errors import ClipError

    library.person(name)  # exit 2 when nobody of that name is enrolled
    identity = identity_of(recognizer)
    spec = recognizer.spec
    assert identity is not None and spec is not None
    gallery, _ = build_gallery(
        library.faces(), library.faces(NEGATIVE), identity, dim=spec.feature_dim, metric=spec.metric
    )
    recognizer.use_gallery(gallery)
    with aws_errors(f"reading s3://{bucket}/{key}"):
        found = if_present(library.s3.get_object, Bucket=bucket, Key=key)
        if found is None:
            raise ConfigError(f"no object {key!r} in the bucket {bucket} (deleted or expired)")
        data = found["Body"].read()
    try:
        frames = sample_frames(data, count=FRAMES, max_frame_pixels=MAX_FRAME_PIXELS, where=key)
    except ClipError as exc:
        raise ConfigError(f"{key}: {exc}") from None
    faces = [f for f in recognizer.recognize(frames.frames).faces if f.embedding is not None]
    if not faces:
        raise ConfigError(f"{key}: no face found in it")
    people, sims = gallery.similarities(np.stack([f.embedding for f in faces]))
    column = sims[:, people.index(name)]
    chosen = int(np.argmax(column))
    negative = Face(new_id(), name, faces[chosen].embedding, identity, key)
    library.add([negative], NEGATIVE)
    return float(column[chosen])
