"""People, Unknowns and Live's "not this person" over HTTP (a real stack on moto, the face
library written by rollcall_tools.faces, photos embedded by the default backbone's real
networks): chips by listed IDs, names escaped, enroll from uploaded photos with `tools faces
enroll`'s checks, rename, merge, remove with a confirmation that names what goes, clusters
named or dismissed, and every action a clear message when refused."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape
from matplotlib import cbook
from PIL import Image
from starlette.testclient import TestClient
from typer.testing import CliRunner

from face_model.backbones import DEFAULT_BACKBONE, get_spec
from face_model.library import EMBEDDING, NEGATIVE, UNKNOWN, Face, Identity, UnknownFace
from rollcall_testkit.handler_stack import clip_key
from rollcall_testkit.results import publish, result
from rollcall_tools.cli import app
from rollcall_tools.dashboard.app import create_app
from rollcall_tools.dashboard.security import CSRF_FIELD
from rollcall_tools.dashboard.unknown_chips import FOUND_TTL_S, MISS_RETRY_S, UnknownChips
from rollcall_tools.dashboard.views import Dashboard
from rollcall_tools.faces.library import Library, item_key, new_id
from rollcall_tools.stack.deploy import Stack
from shared_schema import BoundingBox, FaceResult, RecordLookup, ResultStatus

from .conftest import ORIGIN, wait_for

XSS = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
SPEC = get_spec(DEFAULT_BACKBONE)
CHIP = b"\xff\xd8\xff chip bytes"


def _vector(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=SPEC.feature_dim).astype(np.float32)
    return vector / np.linalg.norm(vector) * 0.5


@pytest.fixture(scope="module")
def networks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default backbone's networks, nobody enrolled (what `tools local up` runs)."""
    from face_model.artifact import export_networks

    out = tmp_path_factory.mktemp("networks") / "networks"
    export_networks(DEFAULT_BACKBONE, out)
    return out


@pytest.fixture(scope="module")
def own(networks: Path) -> Identity:
    """The identity of those networks: every embedding the tests write claims it."""
    from face_model.library import identity_of
    from rollcall_tools.faces.networks import networks_at

    found = identity_of(networks_at(networks))
    assert found is not None
    return found


@pytest.fixture
def library(stack: Stack, own: Identity) -> Iterator[Library]:
    """The stack's library (its ``own`` identity for the helpers), emptied after each test."""
    lib = Library(stack.target, stack.names)
    lib.own = own  # type: ignore[attr-defined]
    yield lib
    faces, negatives, unknowns = lib.faces(), lib.faces(NEGATIVE), lib.unknowns()
    keys = [item_key(EMBEDDING, f.id) for f in faces]
    keys += [item_key(NEGATIVE, f.id) for f in negatives]
    keys += [item_key(UNKNOWN, u.id) for u in unknowns]
    lib.transact(deletes=keys)
    lib.delete_chips([f.chip for f in faces + negatives] + [u.chip for u in unknowns])


@pytest.fixture
def faces_client(following: Dashboard, networks: Path) -> Iterator[TestClient]:
    app = create_app(dataclasses.replace(following, model_dir=networks))
    with TestClient(app, base_url=ORIGIN, follow_redirects=False) as c:
        yield c


def _enrolled(library: Library, person: str, *seeds: int) -> None:
    identity = library.own  # type: ignore[attr-defined]
    faces = []
    for seed in seeds:
        face_id = new_id()
        chip = f"enrolled/{face_id}.jpg"
        faces.append(Face(face_id, person, _vector(seed), identity, f"{seed}.jpg", chip=chip))
    library.add(faces)
    for face in faces:
        library.put_chip(face.chip, CHIP)


def _unknown(library: Library, seen: str, seed: int, best: str | None = None) -> str:
    face_id = new_id()
    face = UnknownFace(
        face_id, clip_key(seed, device="cam1"), "cam1", seen, 0.2, best, _vector(seed), library.own,  # type: ignore[attr-defined]
        f"unknown/{face_id}.jpg", 2**31, "",
    )  # fmt: skip
    library.transact([face.item()])
    library.put_chip(face.chip, CHIP)
    return face_id[:8]


def _post(client: TestClient, path: str, **fields: str) -> str:
    csrf = client.app.state.access.csrf  # type: ignore[attr-defined]
    got = client.post(path, data={CSRF_FIELD: csrf, **fields}, headers={"origin": ORIGIN})
    return f"{got.status_code} {got.text}"


def test_people_shows_chips_counts_and_records_with_names_escaped(
    client: TestClient, library: Library, stack: Stack
) -> None:
    _enrolled(library, "ada", 1, 2)
    _enrolled(library, XSS, 3)
    ddb = stack.target.client("dynamodb")
    record = {"name": {"S": "ada"}, "major": {"S": "math"}, "year": {"S": "senior"}}
    ddb.put_item(TableName=stack.names.students_table, Item=record)
    page = client.get("/people").text
    assert XSS not in page and ESCAPED in page
    assert "2 people enrolled" in page and "math, senior" in page
    chips = re.findall(r'<img src="(/files/[A-Za-z0-9_-]+)" alt="a face of ada"', page)
    assert len(chips) == 2
    got = client.get(chips[0])
    assert (got.status_code, got.content, got.headers["content-type"]) == (200, CHIP, "image/jpeg")
    # no networks given: enrolling photos says how to get them
    assert "--model-dir" in page and 'action="/people/enroll"' not in page
    assert "--model-dir" in _post(client, "/people/enroll", name="bob")


def test_rename_merge_and_their_refusals(client: TestClient, library: Library) -> None:
    _enrolled(library, "ada", 1)
    _enrolled(library, "ada2", 2)
    _enrolled(library, "bob", 3)
    assert _post(client, "/people/merge", name="ada2", into="ada").startswith("200")
    done = _post(client, "/people/rename", name="bob", new="robert")
    assert done.startswith("200") and "Renamed bob to robert (1 embedding)." in done
    assert {p.name: p.embeddings for p in library.people()} == {"ada": 2, "robert": 1}
    refused = _post(client, "/people/rename", name="ada", new="robert")
    assert refused.startswith("400") and "already enrolled" in refused
    refused = _post(client, "/people/merge", name=XSS, into="ada")
    assert refused.startswith("400") and "is not in the face library" in refused
    assert XSS not in refused and ESCAPED in refused


def test_remove_with_purge_names_what_goes_then_deletes_it(
    client: TestClient, library: Library, stack: Stack
) -> None:
    _enrolled(library, XSS, 1, 2)
    _unknown(library, "2026-12-05T10:00:00", 7, best=XSS)
    _unknown(library, "2026-12-05T10:00:01", 8, best="someone else")
    page = client.get("/people").text
    link = re.search(r'href="(/people/remove\?name=[^"]+&amp;purge=1)"', page)
    assert link
    confirm = client.get(link.group(1).replace("&amp;", "&"))
    assert confirm.status_code == 200 and XSS not in confirm.text
    text = re.sub(r"\s+", " ", confirm.text)
    assert f"2 enrolled faces of <strong>{ESCAPED}</strong>" in text
    assert "1 unknown face whose closest person was" in text and "3 chips" in text
    assert f'name="name" value="{ESCAPED}"' in text
    done = _post(client, "/people/remove", name=XSS, purge="1")
    assert "deleted 2 embeddings, 0 negatives, 1 unknowns, 3 chips, 0 sightings" in done
    assert "every sighting of" in text
    assert library.people() == [] and len(library.unknowns()) == 1
    listed = stack.target.client("s3").list_objects_v2(Bucket=stack.names.face_store)
    assert len(listed.get("Contents", [])) == 1  # the other unknown face's chip
    gone = client.get("/people/remove", params={"name": XSS})
    assert gone.status_code == 400 and "is not in the face library" in gone.text


def test_unknowns_newest_first_named_or_dismissed(client: TestClient, library: Library) -> None:
    old = _unknown(library, "2026-12-05T09:00:00", 11)
    new = _unknown(library, "2026-12-05T11:00:00", 12)
    page = client.get("/unknowns").text
    assert page.index(f"Cluster {new}") < page.index(f"Cluster {old}")
    assert len(re.findall(r'<img src="/files/[A-Za-z0-9_-]+" alt="unknown face', page)) == 2
    refused = _post(client, "/unknowns/enroll", cluster="nope", name="cy")
    assert refused.startswith("400") and "no unknown-face cluster &#39;nope&#39;" in refused
    done = _post(client, "/unknowns/enroll", cluster=new, name=XSS)  # the schema allows it
    assert done.startswith("200") and XSS not in done
    assert f"Enrolled 1 face of cluster {new} as {ESCAPED}." in done
    assert [p.name for p in library.people()] == [XSS]
    done = _post(client, "/unknowns/dismiss", cluster=old)
    assert f"Dismissed cluster {old} (1 face)." in done and "No unknown faces kept" in done


def _png(image: np.ndarray | Image.Image) -> bytes:
    data = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(data, "PNG")
    return data.getvalue()


def test_enroll_from_uploaded_photos_one_face_each(
    faces_client: TestClient, library: Library
) -> None:
    from skimage import data

    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        hopper = handle.read()
    blank = _png(Image.new("RGB", (200, 200), "gray"))
    csrf = faces_client.app.state.access.csrf  # type: ignore[attr-defined]
    files = [
        ("photos", ("grace_hopper.jpg", hopper, "image/jpeg")),
        ("photos", ("astronaut.png", _png(data.astronaut()), "image/png")),
        ("photos", ("../../etc/blank.png", blank, "image/png")),
    ]
    got = faces_client.post(
        "/people/enroll",
        data={CSRF_FIELD: csrf, "name": "grace_hopper"},
        files=files,
        headers={"origin": ORIGIN},
    )
    assert got.status_code == 200, got.text
    text = re.sub(r"\s+", " ", got.text)
    assert "Enrolled 2 faces as <strong>grace_hopper</strong>" in text
    assert "Skipped 02-blank.png: no face found" in text  # its name only, made safe
    assert "The roster has no record of grace_hopper" in text
    assert [(p.name, p.embeddings) for p in library.people()] == [("grace_hopper", 2)]
    too_long = faces_client.post(
        "/people/enroll", data={CSRF_FIELD: csrf, "name": "x" * 200},
        files=[("photos", ("g.jpg", hopper, "image/jpeg"))], headers={"origin": ORIGIN},
    )  # fmt: skip
    assert too_long.status_code == 400 and "name &#39;xxx" in too_long.text
    hostile = faces_client.post(
        "/people/enroll",
        data={CSRF_FIELD: csrf, "name": XSS},
        files=[("photos", (f"{XSS}.jpg", hopper, "image/jpeg"))],
        headers={"origin": ORIGIN},
    )
    assert hostile.status_code == 200 and XSS not in hostile.text and ESCAPED in hostile.text
    none = faces_client.post(
        "/people/enroll", data={CSRF_FIELD: csrf, "name": "x"}, headers={"origin": ORIGIN}
    )
    assert none.status_code == 400 and "choose one or more photos" in none.text


def test_not_this_person_from_a_live_row(
    faces_client: TestClient, following: Dashboard, library: Library, stack: Stack
) -> None:
    _enrolled(library, "grace_hopper", 1)
    key = clip_key(21, device="cam1")
    publish(
        stack.target.client("sns"),
        stack.names.results_topic_arn,
        result(stack.names.bucket, key, "grace_hopper"),
    )
    wait_for(lambda: key in {r.line.key for _, rows in following.feed.snapshot() for r in rows})
    page = faces_client.get("/live").text
    form = re.search(r'<form method="post" action="/live/reject".*?</form>', page, re.S)
    assert form and f'value="{key}"' in form.group(0) and "not this person" in form.group(0)
    # the clip is gone (never uploaded here, or deleted): S3's NoSuchKey is a clear 400
    refused = _post(faces_client, "/live/reject", key=key, name="grace_hopper")
    assert refused.startswith("400") and 'class="notice bad"' in refused
    assert (
        f"no object &#39;{key}&#39; in the bucket {stack.names.bucket} (deleted or expired)"
        in refused
    )
    refused = _post(faces_client, "/live/reject", key=key, name="nobody")
    assert refused.startswith("400") and "is not in the face library" in refused


def test_live_shows_the_stored_chip_of_an_unknown_face(
    client: TestClient, following: Dashboard, library: Library, stack: Stack
) -> None:
    quoted = f'uploads/it\'s a "quoted" {XSS}.mp4'
    for key in (clip_key(23, device="cam1"), quoted):
        face_id = new_id()
        face = UnknownFace(
            face_id, key, None, "2026-12-05T10:00:00+00:00", 0.2, None, _vector(23), library.own,  # type: ignore[attr-defined]
            f"unknown/{face_id}.jpg", 2**31, "",
        )  # fmt: skip
        library.transact([face.item()])
        library.put_chip(face.chip, CHIP)
        unknown = FaceResult(
            identity=None, similarity=0.2, box=BoundingBox(x1=1, y1=1, x2=50, y2=50),
            frame_time_ms=0, lookup=RecordLookup.NOT_APPLICABLE,
        )  # fmt: skip
        res = result(stack.names.bucket, key)
        res = res.model_copy(update={"status": ResultStatus.UNKNOWN, "faces": [unknown]})
        publish(stack.target.client("sns"), stack.names.results_topic_arn, res)
    wait_for(lambda: quoted in {r.line.key for _, rows in following.feed.snapshot() for r in rows})
    page = client.get("/live").text
    assert XSS not in page and "it&#39;s a &#34;quoted&#34;" in page
    imgs = re.findall(r'<img src="([^"]+)" alt="unknown face 1 of ([^"]+)"', page)
    assert {alt for _, alt in imgs} >= {clip_key(23, device="cam1"), str(escape(quoted))}
    for src, _ in imgs:
        assert re.fullmatch(r"/files/[A-Za-z0-9_-]+", src)
        got = client.get(src)
        assert (got.status_code, got.content) == (200, CHIP)
    library.delete_chips([u.chip for u in library.unknowns()])  # expired by the store's rule
    gone = client.get(imgs[0][0])
    assert gone.status_code == 404 and "the object is gone" in gone.text


def test_unknown_chips_are_asked_again_when_missed_stale_or_forgotten(library: Library) -> None:
    now = [0.0]
    chips = UnknownChips(lambda: library, clock=lambda: now[0])
    key = clip_key(24, device="cam1")
    assert chips.of([key]) == {}  # not stored yet (the handler writes it a moment later)
    face_id = _unknown(library, "2026-12-05T10:00:00+00:00", 24)
    assert chips.of([key]) == {}  # a miss is not asked again at once
    now[0] += MISS_RETRY_S
    [chip] = chips.of([key])[key]
    assert chip.startswith(f"unknown/{face_id}")
    library.transact(deletes=[item_key(UNKNOWN, u.id) for u in library.unknowns()])
    assert chips.of([key]) == {key: [chip]}  # kept ...
    now[0] += FOUND_TTL_S
    assert chips.of([key]) == {}  # ... for a while: the cluster was named or dismissed
    _unknown(library, "2026-12-05T10:00:00+00:00", 24)
    chips.forget()  # the dashboard changed the library itself
    assert list(chips.of([key])) == [key]


def test_tools_faces_reject_on_a_deleted_clip_is_a_usage_error(
    library: Library, stack: Stack, networks: Path, moto_endpoint: str
) -> None:
    _enrolled(library, "grace_hopper", 1)
    key = clip_key(22, device="cam1")
    s3 = stack.target.client("s3")
    s3.put_object(Bucket=stack.names.bucket, Key=key, Body=b"clip bytes")
    s3.delete_object(Bucket=stack.names.bucket, Key=key)
    where = ["--endpoint-url", moto_endpoint, "--region", stack.names.region]
    args = [key, "--not", "grace_hopper", "--stack", stack.names.prefix]
    done = CliRunner().invoke(
        app, ["faces", "reject", *where, *args, "--model-dir", str(networks)],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert done.exit_code == 2, done.output
    assert f"no object '{key}' in the bucket {stack.names.bucket} (deleted or expired)" in (
        done.output
    )
    assert "Traceback" not in done.output


def test_health_shows_the_library_version(client: TestClient, library: Library) -> None:
    _enrolled(library, "ada", 1)
    page = client.get("/health").text
    version = library.version()
    assert f"version {version} ({library.table})" in page
