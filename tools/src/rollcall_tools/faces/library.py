"""Write the stack's face library: every change is one or more TransactWriteItems, each with
the version increment, so readers see it and concurrent writers lose nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from face_model.library import (
    EMBEDDING,
    NEGATIVE,
    TRANSACTION_ITEMS,
    UNKNOWN,
    VERSION_KEY,
    Face,
    Identity,
    LibraryError,
    UnknownFace,
    bump_version,
    check_identity,
    version_of,
)
from rollcall_tools.aws import AwsTarget, aws_errors, if_present
from rollcall_tools.errors import ConfigError
from rollcall_tools.stack.names import StackNames


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Person:
    """One person of the library, as `tools faces list` shows it."""

    name: str
    embeddings: int
    negatives: int
    last_change: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Deleted:
    """What a removal deleted."""

    embeddings: int = 0
    negatives: int = 0
    unknowns: int = 0
    chips: int = 0
    sightings: int = 0

    def to_json(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Removal:
    """What removing a person deletes: items, and the chips of those that have one."""

    name: str
    faces: list[Face]
    negatives: list[Face]
    unknowns: list[UnknownFace]

    @property
    def chips(self) -> list[str]:
        return [f.chip for f in self.faces + self.negatives] + [u.chip for u in self.unknowns]


class Library:
    """One stack's face library table and face store."""

    def __init__(self, target: AwsTarget, names: StackNames) -> None:
        self.table, self.store = names.library_table, names.face_store
        self.students_table = names.students_table
        self.sightings_table = names.sightings_table
        self.ddb, self.s3 = target.client("dynamodb"), target.client("s3")

    # --- reading ---------------------------------------------------------------------
    def _query(self, partition: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        with aws_errors(f"reading the face library {self.table}"):
            for page in self.ddb.get_paginator("query").paginate(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": partition}},
                ConsistentRead=True,
            ):
                items += page.get("Items", [])
        return items

    def faces(self, partition: str = EMBEDDING) -> list[Face]:
        return [Face.from_item(i) for i in self._query(partition)]

    def unknowns(self) -> list[UnknownFace]:
        return [UnknownFace.from_item(i) for i in self._query(UNKNOWN)]

    def unknown_chips(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """The chips (face store keys) of the unknown faces kept for each of ``keys`` (object
        keys), one per face group (one person), in group order: a Query of the unknown
        partition reading three attributes, filtered here."""
        wanted, groups = set(keys), dict[tuple[str, str], str]()
        with aws_errors(f"reading the face library {self.table}"):
            for page in self.ddb.get_paginator("query").paginate(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": UNKNOWN}},
                ProjectionExpression="#k, chip, #g",
                ExpressionAttributeNames={"#k": "key", "#g": "group"},
            ):
                for item in page.get("Items", []):
                    key, chip = item["key"]["S"], item.get("chip", {}).get("S", "")
                    if key in wanted and chip:
                        group = item.get("group", {}).get("S", chip)
                        groups[key, group] = min(chip, groups.get((key, group), chip))
        found: dict[str, list[str]] = {}
        for (key, _), chip in sorted(groups.items()):
            found.setdefault(key, []).append(chip)
        return found

    def meta(self) -> dict[str, Any]:
        with aws_errors(f"reading the face library {self.table}"):
            found = if_present(
                self.ddb.get_item, TableName=self.table, Key=VERSION_KEY, ConsistentRead=True
            )
        if found is None:
            raise ConfigError(
                f"face library table {self.table} does not exist here: run `tools deploy` "
                "(or `tools local up`)"
            )
        return dict(found.get("Item") or {})

    def version(self) -> int:
        return version_of(self.meta())

    def identity(self) -> Identity | None:
        """The networks the library's embeddings were made with (None: nothing enrolled)."""
        item = self.meta()
        if "backbone" not in item:
            return None
        return Identity(item["backbone"]["S"], item["embedder"]["S"])

    def people(self, faces: Sequence[Face] | None = None) -> list[Person]:
        """Everyone enrolled, by name (``faces``: the embeddings, when already read)."""
        found: dict[str, list[Face]] = {}
        for face in self.faces() if faces is None else faces:
            found.setdefault(face.person, []).append(face)
        negatives: dict[str, int] = {}
        for face in self.faces(NEGATIVE):
            negatives[face.person] = negatives.get(face.person, 0) + 1
        return [
            Person(name, len(faces), negatives.get(name, 0), max(f.created for f in faces))
            for name, faces in sorted(found.items())
        ]

    def person(self, name: str) -> list[Face]:
        """``name``'s embeddings; a name nobody enrolled is a usage error (exit 2)."""
        faces = [f for f in self.faces() if f.person == name]
        if not faces:
            enrolled = ", ".join(p.name for p in self.people()) or "nobody"
            raise ConfigError(f"{name!r} is not in the face library (enrolled: {enrolled})")
        return faces

    def has_record(self, name: str) -> bool:
        """Does the students table (the roster) hold ``name``?"""
        with aws_errors(f"reading {self.students_table}"):
            found = self.ddb.get_item(TableName=self.students_table, Key={"name": {"S": name}})
        return "Item" in found

    # --- writing ---------------------------------------------------------------------
    def transact(
        self,
        puts: Sequence[dict[str, Any]] = (),
        deletes: Sequence[dict[str, Any]] = (),
        identity: Identity | None = None,
    ) -> None:
        """Apply ``puts`` and ``deletes`` (keys), each chunk in one transaction with the
        version increment (which also records the networks of what was put)."""
        actions = [{"Put": {"TableName": self.table, "Item": item}} for item in puts]
        actions += [{"Delete": {"TableName": self.table, "Key": key}} for key in deletes]
        step = TRANSACTION_ITEMS - 1
        for start in range(0, len(actions), step):
            bump = bump_version(self.table)
            if identity is not None:
                update = bump["Update"]
                update["UpdateExpression"] += ", backbone = :b, embedder = :e"
                update["ExpressionAttributeValues"].update(
                    {":b": {"S": identity.backbone}, ":e": {"S": identity.embedder}}
                )
            with aws_errors(f"writing the face library {self.table}"):
                self.ddb.transact_write_items(TransactItems=[*actions[start : start + step], bump])

    def add(
        self,
        faces: Sequence[Face],
        partition: str = EMBEDDING,
        deletes: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Enroll ``faces`` (or add them as negative examples), deleting ``deletes`` in the
        same change; refuses other networks' embeddings."""
        if not faces:
            return
        identity = faces[0].identity
        try:
            check_identity(self.identity(), identity)
        except LibraryError as exc:
            raise ConfigError(str(exc)) from None
        self.transact([f.item(partition) for f in faces], deletes, identity=identity)

    def put_chip(self, key: str, jpeg: bytes) -> None:
        with aws_errors(f"writing {key} to the face store {self.store}"):
            self.s3.put_object(Bucket=self.store, Key=key, Body=jpeg, ContentType="image/jpeg")

    def delete_chips(self, keys: Iterable[str]) -> int:
        keys = [k for k in keys if k]
        for start in range(0, len(keys), 1000):
            with aws_errors(f"deleting chips from the face store {self.store}"):
                self.s3.delete_objects(
                    Bucket=self.store,
                    Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]},
                )
        return len(keys)

    def removal(self, name: str, *, purge: bool = False) -> Removal:
        """What :meth:`remove` would delete apart from sightings (the dashboard's
        confirmation names it)."""
        faces = self.person(name)
        negatives = [f for f in self.faces(NEGATIVE) if f.person == name] if purge else []
        unknowns = [u for u in self.unknowns() if u.best == name] if purge else []
        return Removal(name, faces, negatives, unknowns)

    def remove(self, name: str, *, purge: bool = False) -> Deleted:
        """Forget ``name``: its embeddings and their chips; with ``purge`` also its negative
        examples, every unknown face whose best match it was and every sighting of it
        (attendance)."""
        from rollcall_tools.attendance.store import delete_person

        found = self.removal(name, purge=purge)
        faces, negatives, unknowns = found.faces, found.negatives, found.unknowns
        keys = [item_key(EMBEDDING, f.id) for f in faces] + [
            item_key(NEGATIVE, f.id) for f in negatives
        ]
        keys += [item_key(UNKNOWN, u.id) for u in unknowns]
        self.transact(deletes=keys)
        sightings = delete_person(self.ddb, self.sightings_table, name) if purge else 0
        return Deleted(
            len(faces), len(negatives), len(unknowns), self.delete_chips(found.chips), sightings
        )

    def rename(self, old: str, new: str) -> int:
        """``old``'s embeddings and negatives become ``new``'s (``new`` must not exist)."""
        faces = self.person(old)
        if any(p.name == new for p in self.people()):
            raise ConfigError(f"{new!r} is already enrolled: use `tools faces merge {old} {new}`")
        return self._move(old, new, faces)

    def merge(self, source: str, into: str) -> int:
        """``source``'s embeddings and negatives become ``into``'s; ``source`` is gone."""
        faces = self.person(source)
        self.person(into)
        if source == into:
            raise ConfigError("merge needs two different names")
        return self._move(source, into, faces)

    def _move(self, old: str, new: str, faces: list[Face]) -> int:
        negatives = [f for f in self.faces(NEGATIVE) if f.person == old]
        puts = [_renamed(f, new).item(EMBEDDING) for f in faces]
        puts += [_renamed(f, new).item(NEGATIVE) for f in negatives]
        # the same keys are overwritten in place: one action per item
        self.transact(puts)
        return len(faces)


def item_key(partition: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": partition}, "sk": {"S": sk}}


def _renamed(face: Face, person: str) -> Face:
    return Face(face.id, person, face.vector, face.identity, face.source, face.created, face.chip)
