"""The dashboard in a real browser (Debian's Chromium, driven by Playwright) against the real
app on the local stack, all real processes: `tools local up`, `tools dashboard`, the runner.

Live shows the result of a clip uploaded after the page opened (pushed by server-sent
events), a stranger, with the chip the handler stored of the face; on Unknowns the
stranger's cluster is named; the next upload shows the name on Live; Attendance reports the
session and its CSV downloads; on People the person is removed with purge; Health shows the
device and the queues. Screenshots of each page are saved under the test's tmp_path, and
copied to ``ROLLCALL_SCREENSHOTS`` when it is set (how docs/dashboard/ is made: see
tools/README.md).
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import rollcall_testkit as testkit
from rollcall_tools.attendance.report import CSV_COLUMNS
from rollcall_tools.aws import AwsTarget
from rollcall_tools.clips import make_clip
from rollcall_tools.local.processes import clean_environment

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
BIN = Path(sys.executable).parent
REGION = "eu-west-1"
DEVICE = "cam1"
SCREENSHOTS = "ROLLCALL_SCREENSHOTS"
SESSION = "browser"
PERSON = "eileen_collins"


@dataclass(frozen=True)
class Running:
    path: Path
    info: dict[str, object]
    url: str
    dashboard: subprocess.Popen[str]

    def aws(self) -> AwsTarget:
        return AwsTarget(region=REGION, endpoint_url=str(self.info["endpoint_url"]))


def _env(path: Path) -> dict[str, str]:
    return {
        **clean_environment(keep=["ROLLCALL_MODEL_CACHE"]),
        "ROLLCALL_STATE_DIR": str(path / "state"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "OMP_NUM_THREADS": "1",
    }


def _tools(path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "tools"), *args],
        env=_env(path),
        cwd=path,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    """`tools local up` with device cam1, then `tools dashboard` on it (a free port)."""
    if not CHROMIUM.is_file():
        testkit.unavailable(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    up = _tools(tmp_path, "local", "up", "--json", "--region", REGION, "--device", DEVICE)
    dashboard = None
    try:
        assert up.returncode == 0, up.stderr
        info = json.loads(up.stdout)
        dashboard = subprocess.Popen(
            [str(BIN / "tools"), "dashboard", "--port", "0", "--region", REGION,
             "--endpoint-url", str(info["endpoint_url"])],
            env=_env(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert dashboard.stdout is not None
        url = dashboard.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url or dashboard.stderr.read()
        yield Running(tmp_path, info, url, dashboard)
    finally:
        if dashboard is not None:
            if dashboard.poll() is None:
                dashboard.kill()
            dashboard.communicate(timeout=30)  # and close its pipes
        _tools(tmp_path, "local", "down")
        assert not testkit.reap(tmp_path), "processes left running"


def _save(page: object, name: str, folder: Path) -> Path:
    """A full-page screenshot in ``folder``, and a copy reduced to a 256-colour palette (a
    few tens of KB) in ``ROLLCALL_SCREENSHOTS`` when set: the README's docs/dashboard/."""
    path = folder / f"dashboard-{name}.png"
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => [...document.images].every(img => img.complete && img.naturalWidth > 0)"
    )  # every image (chips, the timeline) loaded, and none broken
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    copy_to = os.environ.get(SCREENSHOTS)
    if copy_to:
        from PIL import Image

        Path(copy_to).mkdir(parents=True, exist_ok=True)
        with Image.open(path) as shot:
            small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            small.save(Path(copy_to) / path.name, optimize=True)
    return path


def test_live_shows_an_uploaded_clip_and_health_the_stack(running: Running) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = running.path / "screenshots"
    shots.mkdir()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # a CSP violation or a failed load is a console error
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(running.url)
            _save(page, "index", shots)
            page.get_by_role("link", name="Live", exact=True).first.click()
            expect(page.locator("#live-state.on")).to_be_visible(timeout=10_000)  # stream open

            bucket = str(running.info["bucket"])
            s3 = running.aws().client("s3")

            def upload() -> str:
                key = f"clips/{DEVICE}/{SESSION}/00000000-{int(time.time() * 1000):013d}.mp4"
                s3.put_object(Bucket=bucket, Key=key, Body=make_clip(duration_s=0.5))
                return key

            key = upload()
            row = page.locator("tr", has_text=key)
            expect(row).to_be_visible(timeout=120_000)
            expect(page.locator("section.device h2", has_text=DEVICE)).to_be_visible()
            expect(row.locator(".badge")).to_have_text("unknown")  # nobody enrolled: a stranger
            chip = row.locator(".chips img").first  # the stranger's stored chip, by a listed id
            expect(chip).to_have_attribute("src", re.compile(r"^/files/[A-Za-z0-9_-]+$"))
            expect(chip).to_have_js_property("complete", True)
            assert chip.evaluate("img => img.naturalWidth") > 0
            _save(page, "live-unknown", shots)

            # Unknowns: the stranger's cluster, named (the astronaut is Eileen Collins, whom
            # the demo's roster holds)
            page.get_by_role("link", name="Unknowns", exact=True).first.click()
            cluster = page.locator("section.cluster").first
            expect(cluster.locator(".sheet img").first).to_be_visible(timeout=30_000)
            _save(page, "unknowns", shots)
            cluster.get_by_placeholder("name").fill(PERSON)
            cluster.get_by_role("button", name="Enroll").click()
            expect(page.get_by_role("status")).to_contain_text(f"as {PERSON}.")

            # the next upload is named on Live (the handler reads the library every few s)
            page.get_by_role("link", name="Live", exact=True).first.click()
            expect(page.locator("#live-state.on")).to_be_visible(timeout=10_000)
            deadline = time.monotonic() + 120
            while True:
                row = page.locator("tr", has_text=upload())
                expect(row).to_be_visible(timeout=120_000)
                if "recognized" in row.locator(".badge").inner_text():
                    break
                assert time.monotonic() < deadline, "the enrolled name never came"
            expect(row).to_contain_text(PERSON)
            expect(row.get_by_role("button", name="not this person")).to_be_visible()
            _save(page, "live", shots)

            page.get_by_role("link", name="Attendance", exact=True).first.click()
            page.get_by_label("Device").select_option(DEVICE)
            page.get_by_label("Session id").fill(SESSION)
            page.get_by_label("Time zone").fill("UTC")
            page.get_by_role("button", name="Report").click()
            title = f"session {SESSION}, device {DEVICE}"
            expect(page.get_by_role("heading", name=title)).to_be_visible()
            expect(page.get_by_text("1 present,")).to_be_visible()
            expect(page.locator("img.timeline")).to_have_js_property("complete", True)
            assert page.locator("img.timeline").evaluate("img => img.naturalWidth") > 0
            with page.expect_download() as download:
                page.get_by_role("link", name="Download CSV").click()
            assert download.value.suggested_filename == "attendance.csv"
            with Path(download.value.path()).open(newline="", encoding="utf-8") as handle:
                rows = list(csv.reader(handle))
            assert tuple(rows[0]) == CSV_COLUMNS
            status = {row[0]: row[-1] for row in rows[1:]}
            assert status.pop(PERSON) == "present" and set(status.values()) == {"absent"}
            _save(page, "attendance", shots)

            # People: the new person, removed with purge after a confirmation
            page.get_by_role("link", name="People", exact=True).first.click()
            person = page.locator("tr", has_text=PERSON)
            expect(person.locator("td.chips img").first).to_be_visible()
            _save(page, "people", shots)
            person.get_by_role("link", name="with purge").click()
            expect(page.get_by_role("heading", name=f"Remove {PERSON} and purge?")).to_be_visible()
            page.get_by_role("button", name=f"Delete {PERSON} and purge").click()
            expect(page.get_by_role("status")).to_contain_text(f"Removed {PERSON}: deleted")
            expect(page.get_by_text("Nobody enrolled yet")).to_be_visible()

            page.get_by_role("link", name="Health", exact=True).first.click()
            expect(page.get_by_role("heading", name="Health")).to_be_visible()
            expect(page.locator("td", has_text=DEVICE).first).to_be_visible()
            expect(page.get_by_role("button", name="Re-drive to the events queue")).to_be_disabled()
            _save(page, "health", shots)
            assert not errors, errors
        finally:
            browser.close()

    # Ctrl-C: the dashboard stops cleanly and its queue is gone
    running.dashboard.send_signal(signal.SIGINT)
    _, stderr = running.dashboard.communicate(timeout=60)
    assert running.dashboard.returncode == 0, stderr
    assert "its queue is deleted" in stderr and "Traceback" not in stderr
    queues = running.aws().client("sqs").list_queues(QueueNamePrefix="rollcall-dashboard")
    assert not queues.get("QueueUrls")
