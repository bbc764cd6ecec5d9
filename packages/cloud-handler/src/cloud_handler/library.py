"""The face library, read by a warm container: the gallery follows the stack's library table.

Each clip first calls :meth:`LibraryReader.refresh`: at most once per ``poll_s`` it reads the
library's version item (one consistent GetItem) and, only when the version changed, Queries
the embeddings and negative examples and swaps the recognizer's gallery. A change therefore
reaches every warm container within ``poll_s`` plus one load, without a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from cloud_handler.observability import logger

if TYPE_CHECKING:
    from face_model import Recognizer
    from face_model.library import Face, Identity

POLL_S = 2.0
"""Seconds between two reads of the version item (a change is seen within this long)."""
Clock = Callable[[], float]


def query_partition(dynamodb: Any, table: str, partition: str) -> Iterator[dict[str, Any]]:
    """Every item of one library partition (a paginated Query; the table is never scanned)."""
    paginator = dynamodb.get_paginator("query")
    for page in paginator.paginate(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": partition}},
        ConsistentRead=True,
    ):
        yield from page.get("Items", [])


class LibraryReader:
    """Keeps ``recognizer``'s gallery at the library's latest version (thread-safe)."""

    def __init__(
        self,
        dynamodb: Any,
        table: str,
        recognizer: Recognizer,
        identity: Identity,
        *,
        poll_s: float = POLL_S,
        clock: Clock = time.monotonic,
    ) -> None:
        self.dynamodb, self.table, self.recognizer = dynamodb, table, recognizer
        self.identity, self.poll_s, self.clock = identity, poll_s, clock
        self.version = -1
        """The version loaded (-1: none yet)."""
        self.refused = 0
        """Embeddings of the loaded version left out (made by other networks)."""
        self.loads = 0
        self._checked: float | None = None
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Load the library when its version changed since the last look (looked at most
        once per ``poll_s``); True when the gallery was replaced."""
        now = self.clock()
        if self._checked is not None and now - self._checked < self.poll_s:
            return False
        with self._lock:
            if self._checked is not None and now - self._checked < self.poll_s:
                return False
            self._checked = now
            return self._load_if_changed()

    def _load_if_changed(self) -> bool:
        from face_model.library import VERSION_KEY, version_of

        found = self.dynamodb.get_item(
            TableName=self.table, Key=VERSION_KEY, ConsistentRead=True
        ).get("Item")
        version = version_of(found)
        if version == self.version:
            return False
        self._load(version)
        return True

    def _load(self, version: int) -> None:
        from face_model.library import EMBEDDING, NEGATIVE, Face, build_gallery

        def faces(partition: str) -> list[Face]:
            return [
                Face.from_item(i) for i in query_partition(self.dynamodb, self.table, partition)
            ]

        spec = self.recognizer.spec
        assert spec is not None  # the runtime builds a reader only for an embedding recognizer
        gallery, refused = build_gallery(
            faces(EMBEDDING),
            faces(NEGATIVE),
            self.identity,
            dim=spec.feature_dim,
            metric=spec.metric,
        )
        if refused.count:
            logger.error(refused.message(self.identity), extra={"library_version": version})
        self.recognizer.use_gallery(gallery)
        self.version, self.refused, self.loads = version, refused.count, self.loads + 1
        logger.info(
            "face library loaded",
            extra={
                "library_version": version,
                "people": len(gallery.people),
                "embeddings": len(gallery.labels),
                "refused": refused.count,
            },
        )


def library_reader(
    dynamodb: Any, table: str | None, recognizer: Recognizer
) -> LibraryReader | None:
    """The reader for ``table`` (None when no library is configured); loads it once now.

    A detection-only recognizer embeds nothing, so it cannot use a library: said once.
    """
    from face_model.library import identity_of

    if table is None:
        return None
    identity = identity_of(recognizer)
    if identity is None:
        logger.warning(
            "face library ignored: the recognizer is detection-only (no embedding network); "
            "set ROLLCALL_MODEL_DIR to an artifact with networks",
            extra={"library_table": table},
        )
        return None
    reader = LibraryReader(dynamodb, table, recognizer, identity)
    reader.refresh()
    return reader
