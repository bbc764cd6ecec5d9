"""Keep the faces nobody was named for, for a while, so that a person can name them later
(`tools faces unknown`): the aligned chip (a small JPEG) in the face store under
``unknown/``, the embedding with the object key, device, time and best similarity in the
library table, expiring by its DynamoDB TTL (and the store's S3 lifecycle rule).

Best effort: a failure here is logged and counted, never fails the clip's answer. The face
ids derive from the delivery's identity, so a retried delivery overwrites, never duplicates.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from cloud_handler.observability import count, logger

if TYPE_CHECKING:
    from cloud_handler.events import ClipTask
    from cloud_handler.runtime import Runtime
    from face_model.results import FaceMatch, PersonVote

DAY_S = 86_400


MAX_KEPT = 32
"""Unknown faces kept per object at most."""
SAME_PLACE_IOU = 0.3


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def keep_unknowns(
    runtime: Runtime,
    task: ClipTask,
    device: str | None,
    votes: Sequence[PersonVote],
    faces: Sequence[FaceMatch],
) -> int:
    """Store the object's unknown faces: for each unknown person of the votes, that face in
    every frame (the faces at the same place, as one group); how many were stored."""
    from face_model.library import UNKNOWN_PREFIX, UnknownFace, chip_jpeg, now_iso

    settings, library = runtime.settings, runtime.library
    days = settings.unknown_retention_days
    if library is None or not settings.face_store or not settings.library_table or not days:
        return 0
    unnamed = [f for f in faces if f.identity is None and f.chip is not None]
    seen, expires = now_iso(), int(time.time()) + days * DAY_S
    taken: set[int] = set()
    kept = 0
    for n, vote in enumerate(v for v in votes if v.identity is None):
        group = hashlib.sha256(f"{task.idempotency_id}#{n}".encode()).hexdigest()[:32]
        members = [
            (i, f)
            for i, f in enumerate(unnamed)
            if i not in taken and (f is vote.best or _iou(f.box, vote.best.box) >= SAME_PLACE_IOU)
        ]
        for i, face in members:
            if kept >= MAX_KEPT:
                return kept
            taken.add(i)
            face_id = hashlib.sha256(f"{group}#{i}".encode()).hexdigest()[:32]
            chip = f"{UNKNOWN_PREFIX}{face_id}.jpg"
            item = UnknownFace(
                id=face_id,
                key=task.key,
                device=device,
                seen=seen,
                similarity=float(face.similarity),
                best=face.best,
                vector=face.embedding,
                identity=library.identity,
                chip=chip,
                expires=expires,
                group=group,
            ).item()
            try:
                runtime.s3.put_object(
                    Bucket=settings.face_store,
                    Key=chip,
                    Body=chip_jpeg(face.chip),
                    ContentType="image/jpeg",
                )
                runtime.dynamodb.put_item(TableName=settings.library_table, Item=item)
                kept += 1
            except (BotoCoreError, ClientError) as exc:
                logger.warning("unknown face not kept", extra={"key": task.key, "error": str(exc)})
                count("UnknownFacesNotKept")
    return kept
