"""The face library against a moto server: the writer's transactions, the handler's reader
(version polled at most every few seconds with an injected clock, a Query only on change),
negative examples, and embeddings of other networks refused."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from cloud_handler.library import LibraryReader
from cloud_handler.sightings import record_sightings
from face_model import Recognizer
from face_model.backbones import get_spec
from face_model.gallery import Gallery
from face_model.library import NEGATIVE, Face, Identity
from rollcall_tools.attendance.bench import clip_result, face
from rollcall_tools.attendance.store import last_seen
from rollcall_tools.errors import ConfigError
from rollcall_tools.faces.library import Library, new_id
from rollcall_tools.stack.deploy import Stack
from shared_schema import ClipId

pytestmark = pytest.mark.slow

SPEC = get_spec("dlib-resnet-v1")
OWN = Identity(SPEC.name, "a" * 64)


def _recognizer(identity: Identity = OWN) -> Recognizer:
    """The matching half of a recognizer (no networks: the reader needs none)."""
    return Recognizer(
        name="t",
        version="1",
        spec=SPEC,
        pretrained=True,
        threshold=0.5,
        gallery=Gallery.empty(SPEC.feature_dim, SPEC.metric),
        manifest={"files": {"embedding.onnx": identity.embedder}},
    )


def _vector(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vector = rng.normal(size=SPEC.feature_dim).astype(np.float32)
    return vector / np.linalg.norm(vector) * 0.5


def _faces(person: str, *seeds: int, identity: Identity = OWN) -> list[Face]:
    return [Face(new_id(), person, _vector(s), identity, f"{person}/{s}.jpg") for s in seeds]


class Counting:
    """A DynamoDB client that counts the calls the reader makes."""

    def __init__(self, client: Any) -> None:
        self.client, self.calls = client, []  # type: ignore[var-annotated]

    def __getattr__(self, name: str) -> Any:
        if name in ("get_item", "query", "scan"):
            self.calls.append(name)
        if name == "get_paginator":
            self.calls.append("query")
        return getattr(self.client, name)


def test_a_change_reaches_the_reader_at_its_next_poll_and_only_then_is_queried(
    deploy: Callable[..., Stack],
) -> None:
    stack = deploy()
    library = Library(stack.target, stack.names)
    now = [0.0]
    ddb = Counting(stack.target.client("dynamodb"))
    recognizer = _recognizer()
    reader = LibraryReader(
        ddb, stack.names.library_table, recognizer, OWN, poll_s=2.0, clock=lambda: now[0]
    )
    assert reader.refresh()  # version 0: an empty library, nobody is named
    assert recognizer.people == [] and not recognizer.can_identify

    library.add(_faces("ada", 1, 2))
    ddb.calls.clear()
    now[0] = 1.0
    assert not reader.refresh() and ddb.calls == []  # within the poll: no request at all
    now[0] = 2.5
    assert reader.refresh()
    assert recognizer.people == ["ada"]
    assert ddb.calls == ["get_item", "query", "query"]  # version, then embeddings + negatives

    ddb.calls.clear()
    now[0] = 5.0
    assert not reader.refresh()
    assert ddb.calls == ["get_item"]  # unchanged: one cheap read, never a scan
    match = recognizer.gallery.match(_vector(1)[None], 0.5)[0]  # type: ignore[union-attr]
    assert match.identity == "ada"


def test_concurrent_enrollments_lose_nothing(deploy: Callable[..., Stack]) -> None:
    stack = deploy()
    library = Library(stack.target, stack.names)
    library.add(_faces("first", 0))
    errors: list[BaseException] = []

    def enroll(person: str) -> None:
        try:
            Library(stack.target, stack.names).add(_faces(person, 1, 2, 3))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=enroll, args=(f"p{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counts = {p.name: p.embeddings for p in library.people()}
    assert counts == {"first": 1, **{f"p{i}": 3 for i in range(6)}}
    assert library.version() == 7  # one increment per change, none lost


def test_other_networks_are_refused_at_load_and_at_write(deploy: Callable[..., Stack]) -> None:
    stack = deploy()
    library = Library(stack.target, stack.names)
    library.add(_faces("ada", 1))
    other = Identity(SPEC.name, "b" * 64)
    with pytest.raises(ConfigError, match="holds embeddings of dlib-resnet-v1"):
        library.add(_faces("bob", 2, identity=other))
    # written behind the writer's back (an old table, another tool): not mixed in
    ddb = stack.target.client("dynamodb")
    ddb.put_item(
        TableName=stack.names.library_table, Item=_faces("bob", 2, identity=other)[0].item()
    )
    recognizer = _recognizer()
    reader = LibraryReader(ddb, stack.names.library_table, recognizer, OWN, clock=lambda: 0.0)
    reader.refresh()
    assert recognizer.people == ["ada"]
    assert reader.refused == 1


def test_a_probe_closer_to_a_negative_example_is_not_that_person(
    deploy: Callable[..., Stack],
) -> None:
    stack = deploy()
    library = Library(stack.target, stack.names)
    library.add(_faces("ada", 1, 2))
    probe = (_vector(1) * 0.6 + _vector(9) * 0.4)[None]
    recognizer = _recognizer()
    now = [0.0]
    reader = LibraryReader(
        stack.target.client("dynamodb"),
        stack.names.library_table,
        recognizer,
        OWN,
        clock=lambda: now[0],
    )
    reader.refresh()
    gallery = recognizer.gallery
    assert gallery is not None
    assert gallery.match(probe, -1.0, 0.0)[0].identity == "ada"
    negative = Face(new_id(), "ada", probe[0], OWN, "clips/cam1/x.mp4")
    library.add([negative], NEGATIVE)
    now[0] = 10.0
    assert reader.refresh()
    gallery = recognizer.gallery
    assert gallery is not None
    assert gallery.match(probe, -1.0, 0.0)[0].identity is None
    assert gallery.match(_vector(2)[None], 0.5)[0].identity == "ada"  # her own faces still


def test_remove_rename_merge_and_a_name_that_does_not_exist(
    deploy: Callable[..., Stack],
) -> None:
    stack = deploy()
    library = Library(stack.target, stack.names)
    library.add(_faces("ada", 1, 2))
    library.add(_faces("ada2", 3))
    library.add(_faces("bob", 4))
    assert library.merge("ada2", "ada") == 1
    assert library.rename("bob", "robert") == 1
    assert {p.name: p.embeddings for p in library.people()} == {"ada": 3, "robert": 1}
    with pytest.raises(ConfigError, match="'nobody' is not in the face library"):
        library.remove("nobody")
    with pytest.raises(ConfigError, match="already enrolled"):
        library.rename("ada", "robert")
    seen = ClipId(device_id="lab", session_id="s1", seq=0, captured_at=datetime.now(UTC))
    result = clip_result([face("ada", 0.8)], seen.key, seen, stack.names.bucket)
    ddb = stack.target.client("dynamodb")
    record_sightings(ddb, stack.names.sightings_table, result, 1)
    assert last_seen(ddb, stack.names.sightings_table, "ada") is not None
    deleted = library.remove("ada", purge=True)
    assert (deleted.embeddings, deleted.sightings) == (3, 1)  # attendance forgets her too
    assert last_seen(ddb, stack.names.sightings_table, "ada") is None
    assert [p.name for p in library.people()] == ["robert"]


def _unknown(face_id: str, seen: str, seed: int, group: str = "") -> Any:
    from face_model.library import UnknownFace

    return UnknownFace(
        face_id, f"{face_id}.mp4", "cam1", seen, 0.1, None, _vector(seed), OWN, "", 0, group
    )


def test_unknown_faces_cluster_by_distance_with_stable_ids_newest_first() -> None:
    from rollcall_tools.faces.unknowns import cluster

    near = _vector(1) + 0.01 * _vector(2)
    faces = [
        _unknown("a1", "2026-01-01T00:00:00", 1),
        _unknown("b1", "2026-01-01T00:01:00", 5),
        _unknown("a2", "2026-01-02T00:00:00", 1, group="a2"),
    ]
    faces[2] = faces[2].__class__(**{**faces[2].__dict__, "vector": near})
    first = cluster(faces)
    assert [c.id for c in first] == ["a1", "b1"]  # a1's cluster was seen last
    assert [len(c.faces) for c in first] == [2, 1]
    later = cluster([*faces, _unknown("c1", "2026-01-03T00:00:00", 9)])
    assert {c.id for c in later} == {"a1", "b1", "c1"}  # ids stay as faces come
    row = first[0].to_json()
    assert (row["first_seen"], row["last_seen"]) == ("2026-01-01T00:00:00", "2026-01-02T00:00:00")
    assert row["keys"] == ["a1.mp4", "a2.mp4"] and row["devices"] == ["cam1"]
