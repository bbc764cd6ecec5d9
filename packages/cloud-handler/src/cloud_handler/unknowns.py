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
    from face_model.results import PersonVote

DAY_S = 86_400


def keep_unknowns(
    runtime: Runtime, task: ClipTask, device: str | None, votes: Sequence[PersonVote]
) -> int:
    """Store the clip's unknown faces; how many were stored."""
    from face_model.library import UNKNOWN_PREFIX, UnknownFace, chip_jpeg, now_iso

    settings, library = runtime.settings, runtime.library
    days = settings.unknown_retention_days
    if library is None or not settings.face_store or not settings.library_table or not days:
        return 0
    unknown = [v.best for v in votes if v.identity is None]
    kept = 0
    for n, face in enumerate(unknown):
        if face.embedding is None or face.chip is None:
            continue
        face_id = hashlib.sha256(f"{task.idempotency_id}#{n}".encode()).hexdigest()[:32]
        chip = f"{UNKNOWN_PREFIX}{face_id}.jpg"
        item = UnknownFace(
            id=face_id,
            key=task.key,
            device=device,
            seen=now_iso(),
            similarity=float(face.similarity),
            best=face.best,
            vector=face.embedding,
            identity=library.identity,
            chip=chip,
            expires=int(time.time()) + days * DAY_S,
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
