"""The dashboard over HTTP (Starlette's TestClient, a real stack on moto): every page linked
from ``/``; results reach Live through its own queue, never a device's; names and keys are
escaped; the token off loopback; the Host check; POSTs need the same origin and the CSRF
token; the re-drive moves dead letters; a full Live page."""

from __future__ import annotations

import dataclasses
import json
import re
import statistics
import time

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from rollcall_testkit.handler_stack import clip_key
from rollcall_testkit.results import publish, result
from rollcall_tools.dashboard.app import create_app
from rollcall_tools.dashboard.feed import LiveFeed, Subscriber, dashboard_queue_name
from rollcall_tools.dashboard.live import _event
from rollcall_tools.dashboard.security import COOKIE, CSRF_FIELD, Access
from rollcall_tools.dashboard.views import Dashboard, environment
from rollcall_tools.follow import ResultLine
from rollcall_tools.stack.deploy import Stack
from shared_schema import RecognitionResult

from .conftest import ORIGIN, wait_for

XSS = "<img src=x onerror=alert(1)>"
QUOTED_KEY = f'uploads/it\'s a "quoted" {XSS}.mp4'


def _line(key: str = "clips/x.mp4", **changes: object) -> ResultLine:
    res = result("bucket-name", key, "grace_hopper")
    return dataclasses.replace(ResultLine.of(res, None, time.time()), **changes)


def _publish(stack: Stack, res: RecognitionResult) -> None:
    publish(stack.target.client("sns"), stack.names.results_topic_arn, res)


def test_every_page_is_linked_from_the_index_and_renders(client: TestClient) -> None:
    index = client.get("/")
    assert index.status_code == 200
    pages = client.app.state.pages  # type: ignore[attr-defined]
    assert {"/live", "/health"} <= {p.path for p in pages}
    for page in pages:
        assert f'href="{page.path}"' in index.text
        got = client.get(page.path)
        assert got.status_code == 200, page.path
        assert got.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in got.headers["content-security-policy"]
    assert client.get("/static/live.js").status_code == 200
    missing = client.get("/nothing-here")
    assert missing.status_code == 404
    assert 'href="/"' in missing.text


def test_autoescape_is_on() -> None:
    assert environment().autoescape is True


def test_live_shows_every_route_and_leaves_the_devices_queue_alone(
    client: TestClient, following: Dashboard, stack: Stack
) -> None:
    bucket = stack.names.bucket
    _publish(stack, result(bucket, clip_key(7, device="cam1"), "grace_hopper"))
    _publish(stack, result(bucket, QUOTED_KEY))
    keys = {clip_key(7, device="cam1"), QUOTED_KEY}
    wait_for(lambda: keys <= {r.line.key for _, rows in following.feed.snapshot() for r in rows})
    page = client.get("/live").text
    assert "cam1" in page and "foreign uploads" in page
    assert "grace_hopper" in page and "physics, senior" in page
    # the key, escaped: quotes and the tag never reach the page as markup
    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "it&#39;s a &#34;quoted&#34;" in page
    # the device's own queue still holds its result: the dashboard read its own copy
    assert stack.devices.depth(stack.names.device_queue("cam1")) == (1, 0)


def test_files_are_served_only_by_the_ids_the_pages_listed(
    client: TestClient, following: Dashboard, stack: Stack
) -> None:
    key = clip_key(8, device="cam1")
    stack.target.client("s3").put_object(Bucket=stack.names.bucket, Key=key, Body=b"clip bytes")
    _publish(stack, result(stack.names.bucket, key))
    wait_for(lambda: key in {r.line.key for _, rows in following.feed.snapshot() for r in rows})
    page = client.get("/live").text
    link = re.search(r'<a href="(/files/[A-Za-z0-9_-]+)" title="download">' + re.escape(key), page)
    assert link, "no download link for the clip"
    got = client.get(link.group(1))
    assert (got.status_code, got.content) == (200, b"clip bytes")
    assert got.headers["content-disposition"] == f'attachment; filename="{key.rsplit("/", 1)[1]}"'
    # anything else is unknown: a made-up id, a path, the bucket's other objects
    for path in ("/files/nope", "/files/..%2F..%2Fetc%2Fpasswd", f"/files/{key}", "/files/"):
        assert client.get(path).status_code == 404, path
    # another bucket's object is never listed
    assert following.listing.url("another-bucket", key) == ""


def test_a_hostile_person_name_is_escaped_on_the_page_and_in_the_event(
    client: TestClient, following: Dashboard, stack: Stack
) -> None:
    # the schema lets such a name through: it comes over the real topic
    key = clip_key(9, device="cam1")
    _publish(stack, result(stack.names.bucket, key, XSS))
    wait_for(lambda: key in {r.line.key for _, rows in following.feed.snapshot() for r in rows})
    # and a record's fields, and a device id, straight into the feed
    person = {"name": "ada", "major": '"><script>x</script>', "year": "senior", "similarity": 0.5}
    following.feed.add(_line(people=[person], device=f"cam'{XSS}"))
    page = client.get("/live").text
    assert XSS not in page and "<script>x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&#34;&gt;&lt;script&gt;" in page
    templates = client.app.state.templates  # type: ignore[attr-defined]
    for _, rows in following.feed.snapshot():
        for row in rows:
            event = json.loads(_event(templates, row).split("data: ", 1)[1])
            assert re.fullmatch(r"device-[0-9a-f]{12}", event["section"])
            assert XSS not in event["row_html"] + event["section_html"]
            assert "<script>" not in event["row_html"]


def test_the_event_stream_sends_the_rows_after_the_pages_and_ends_when_the_feed_closes(
    following: Dashboard,
) -> None:
    feed = LiveFeed()
    for seq in range(3):
        feed.add(_line(clip_key(seq, device="cam1"), device="cam1"))
    feed.add(_line(QUOTED_KEY))
    feed.close()  # the server stops: the stream ends after what it has to send
    app = create_app(dataclasses.replace(following, feed=feed))
    with TestClient(app, base_url=ORIGIN) as c:
        page = c.get("/live").text
        assert 'data-after="4"' in page
        got = c.get("/live/events?after=1")
        assert got.headers["content-type"].startswith("text/event-stream")
        events = [b for b in got.text.split("\n\n") if b.startswith("id: ")]
        assert [e.split("\n")[0] for e in events] == ["id: 2", "id: 3", "id: 4"]
        last = json.loads(events[-1].split("data: ", 1)[1])
        assert XSS not in last["row_html"] and "&lt;img" in last["row_html"]
        # a reconnect's Last-Event-ID wins over the page's ?after=
        again = c.get("/live/events?after=1", headers={"last-event-id": "3"}).text
        assert [b.split("\n")[0] for b in again.split("\n\n") if b.startswith("id: ")] == ["id: 4"]


def test_off_loopback_every_request_needs_the_token(following: Dashboard) -> None:
    access = Access.for_host("0.0.0.0")
    assert access.generated and access.token and access.hosts is None
    app = create_app(dataclasses.replace(following, access=access))
    with TestClient(app, base_url="http://10.1.2.3:8765", follow_redirects=False) as c:
        for path in ("/", "/live", "/health", "/static/live.js", "/live/events"):
            assert c.get(path).status_code == 401, path
        assert c.get("/", headers={"Authorization": "Bearer nope"}).status_code == 403
        assert c.get("/?token=nope").status_code == 403
        bearer = {"Authorization": f"Bearer {access.token}"}
        assert c.get("/health", headers=bearer).status_code == 200
        # ?token= logs a browser in: a cookie, and the same page without the token
        login = c.get(f"/live?token={access.token}")
        assert login.status_code == 303
        assert login.headers["location"] == "/live"
        assert "httponly" in login.headers["set-cookie"].lower()
        assert "samesite=strict" in login.headers["set-cookie"].lower()
        assert c.get("/live").status_code == 200  # the cookie is sent from now on
        c.cookies.clear()
        c.cookies.set(COOKIE, "forged")
        assert c.get("/live").status_code == 403


def test_the_token_comes_from_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLCALL_DASHBOARD_TOKEN", "s3cret-token")
    access = Access.for_host("192.168.1.5")
    assert (access.token, access.generated) == ("s3cret-token", False)
    assert Access.for_host("127.0.0.1").token == "s3cret-token"  # set: asked on loopback too
    monkeypatch.delenv("ROLLCALL_DASHBOARD_TOKEN")
    assert Access.for_host("127.0.0.1").token is None


def test_on_loopback_the_host_header_must_name_this_machine(client: TestClient) -> None:
    assert client.get("/", headers={"host": "evil.example:8765"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


def _post_routes(client: TestClient) -> list[str]:
    routes = client.app.routes  # type: ignore[attr-defined]
    return [r.path for r in routes if isinstance(r, Route) and "POST" in (r.methods or ())]


def test_posts_need_the_same_origin_and_the_csrf_token(client: TestClient) -> None:
    """Every POST route of the app (the pages added later too) refuses a cross-site request
    or a missing or wrong CSRF token, before doing anything."""
    posts = _post_routes(client)
    assert "/health/redrive" in posts
    csrf = {CSRF_FIELD: client.app.state.access.csrf}  # type: ignore[attr-defined]
    same = {"origin": ORIGIN}
    for path in posts:
        assert client.post(path, data=csrf).status_code == 403, path  # no Origin, no Referer
        cross = {"origin": "https://evil.example"}
        assert client.post(path, data=csrf, headers=cross).status_code == 403, path
        assert client.post(path, data=csrf, headers={"origin": "null"}).status_code == 403
        refused = client.post(path, data={CSRF_FIELD: "guess"}, headers=same)
        assert refused.status_code == 403, path
        assert "CSRF" in refused.text
        assert client.post(path, headers=same).status_code == 403, path
    referer = {"referer": f"{ORIGIN}/health"}
    assert client.post("/health/redrive", data=csrf, headers=referer).status_code == 303
    # the form carries the token
    assert f'name="{CSRF_FIELD}" value="{csrf[CSRF_FIELD]}"' in client.get("/health").text


def test_health_shows_devices_queues_dead_letters_and_redrives_them(
    client: TestClient, following: Dashboard, stack: Stack
) -> None:
    sqs, names = stack.target.client("sqs"), stack.names
    dlq_url = sqs.get_queue_url(QueueName=names.events_dlq)["QueueUrl"]
    dead = '{"Records": [], "note": "dead-lettered for the dashboard"}'
    sqs.send_message(QueueUrl=dlq_url, MessageBody=dead)
    page = client.get("/health").text
    assert "cam1" in page and names.device_queue("cam1") in page
    assert names.events_queue in page and following.queue and following.queue in page
    assert '<span class="badge bad">1</span> event failed' in page
    assert "not recorded" in page  # no `tools local up` state for this stack
    done = client.post(
        "/health/redrive", data={CSRF_FIELD: following.access.csrf}, headers={"origin": ORIGIN}
    )
    assert (done.status_code, done.headers["location"]) == (303, "/health?moved=1&failed=0")
    assert "Re-drove 1 event to the events queue" in client.get(done.headers["location"]).text
    events_url = sqs.get_queue_url(QueueName=names.events_queue)["QueueUrl"]
    got = sqs.receive_message(QueueUrl=events_url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
    assert dead in [m["Body"] for m in got["Messages"]]  # beside the bucket's S3 test event


def test_the_subscription_is_removed_on_stop(stack: Stack) -> None:
    subscriber = Subscriber(stack, LiveFeed(), dashboard_queue_name(stack, "gone"), poll_s=1)
    subscriber.start()
    sqs, sns = stack.target.client("sqs"), stack.target.client("sns")

    def endpoints() -> list[str]:
        subs = sns.list_subscriptions_by_topic(TopicArn=stack.names.results_topic_arn)
        return [s["Endpoint"] for s in subs["Subscriptions"]]

    arn = stack.names.queue_arn(subscriber.queue)
    assert arn in endpoints()
    subscriber.stop()
    assert arn not in endpoints()
    assert not sqs.list_queues(QueueNamePrefix=subscriber.queue).get("QueueUrls")


def test_a_full_live_page_renders_every_row_and_says_how_long_it_took(
    client: TestClient, following: Dashboard
) -> None:
    """Live full (20 devices x 20 results): every row on the page; each response carries
    ``Server-Timing`` (time to its first byte inside the app), printed here, not asserted
    (the README's Measured section has the figures)."""
    for number in range(20):
        device = f"cam{number:02d}"
        for seq in range(following.feed.per_device):
            following.feed.add(_line(clip_key(seq, device=device), device=device))

    def median_ms(path: str) -> float:
        timings = []
        for _ in range(5):
            got = client.get(path)
            assert got.status_code == 200
            assert re.fullmatch(r"app;dur=\d+\.\d", got.headers["server-timing"])
            timings.append(float(got.headers["server-timing"].split("dur=")[1]))
        return statistics.median(timings)

    page = client.get("/live").text
    assert page.count("<tr data-seq=") >= 20 * following.feed.per_device
    live, health = median_ms("/live"), median_ms("/health")
    print(f"render median: /live {live:.1f} ms (400+ rows), /health {health:.1f} ms")
