"""A course-like workload (CSE 546's workload generator, done as its client does it).

Whole videos are uploaded to the upload bucket with boto3's ``upload_file``, one every
``stagger_s`` seconds: first under their own names (``test_0.mp4``), then, for each further
round, the same videos under new names (``r2-test_0.mp4``: a new name never starts with an
earlier one's stem, so a listing by stem finds only its own output). The time is taken just
before each upload. Each video's answer is its output object ``<stem>.txt`` (or ``.json``)
in the output bucket; its latency is that object's ``LastModified`` minus the upload time,
exactly as the course's client computes it. S3 (and moto) give ``LastModified`` to the
second, so a latency can be up to 1 s short, and even negative.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud_handler.output import course_text, output_key
from rollcall_tools.errors import ConfigError
from rollcall_tools.stats import latency_stats
from shared_schema import RecognitionResult

VIDEO_SUFFIXES = (".mp4", ".MP4")
"""What the course's client uploads from its folder."""
POLL_S = 0.5
COURSE_WINDOW_S = 200
"""The course's client averages only the latencies from 0 to 200 s."""
Say = Callable[[str], None]


@dataclass(frozen=True)
class Upload:
    """One video uploaded under one name."""

    video: Path
    key: str
    uploaded_at: float
    """``time.time()`` just before ``upload_file``, as the course's client takes it."""

    @property
    def outputs(self) -> tuple[str, str]:
        """The keys its answer may have: course format, JSON format."""
        return output_key(self.key, "course"), output_key(self.key, "json")


@dataclass(frozen=True)
class Answer:
    """One upload's answer: its output object (None: none appeared in time)."""

    upload: Upload
    output_key: str | None = None
    last_modified: float | None = None
    text: str | None = None
    """The answer as ``name,major,year`` lines (a JSON output is rendered so too)."""
    expected: str | None = None
    """``name,major,year`` from ``expected.csv`` (None: not listed there)."""

    @property
    def answered(self) -> bool:
        return self.output_key is not None

    @property
    def latency_s(self) -> float | None:
        if self.last_modified is None:
            return None
        return self.last_modified - self.upload.uploaded_at

    @property
    def right(self) -> bool | None:
        """The answer is exactly the expected line (None: nothing expected)."""
        if self.expected is None:
            return None
        return self.text == self.expected

    def to_json(self) -> dict[str, Any]:
        latency = self.latency_s
        return {
            "key": self.upload.key,
            "video": self.upload.video.name,
            "output_key": self.output_key,
            "answer": self.text,
            "expected": self.expected,
            "right": self.right,
            "latency_ms": None if latency is None else round(latency * 1000, 1),
        }


def find_videos(folder: Path) -> list[Path]:
    """The folder's videos, by name (a ConfigError when it has none)."""
    if not folder.is_dir():
        raise ConfigError(f"--videos {folder}: no such folder")
    videos = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(VIDEO_SUFFIXES))
    if not videos:
        raise ConfigError(f"--videos {folder}: no .mp4 video there")
    return videos


def load_expected(path: Path | None) -> dict[str, str]:
    """``expected.csv`` (``video,name,major,year``) as video name -> ``name,major,year``."""
    if path is None:
        return {}
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        return {r["video"]: f"{r['name']},{r['major']},{r['year']}" for r in rows}
    except (OSError, KeyError, csv.Error) as exc:
        raise ConfigError(
            f"--expected {path}: not a readable video,name,major,year CSV ({exc})"
        ) from None


def round_key(video: Path, round_no: int) -> str:
    """The video's name in round ``round_no`` (1: its own name; then ``r<n>-<name>``)."""
    return video.name if round_no == 1 else f"r{round_no}-{video.name}"


@dataclass
class Workload:
    """The workload against one upload bucket and one output bucket."""

    s3: Any
    input_bucket: str
    output_bucket: str
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    def run(
        self,
        videos: list[Path],
        *,
        rounds: int,
        stagger_s: float,
        timeout_s: float,
        expected: dict[str, str],
        say: Say,
    ) -> list[Answer]:
        """Upload every video ``rounds`` times, staggered; wait (at most ``timeout_s``
        after the last upload) until each has its output object; read the answers."""
        keys = [round_key(v, r) for r in range(1, rounds + 1) for v in videos]
        self._forget_outputs(keys)  # a stale answer must not count
        uploads: list[Upload] = []
        for round_no in range(1, rounds + 1):
            for video in videos:
                key = round_key(video, round_no)
                say(f"uploading {key}")
                started = self.clock()
                self.s3.upload_file(str(video), self.input_bucket, key)
                uploads.append(Upload(video, key, started))
                self.sleep(stagger_s)
        found = self._wait(uploads, timeout_s)
        return [self._answer(u, found.get(u.key), expected.get(u.video.name)) for u in uploads]

    def _forget_outputs(self, keys: list[str]) -> None:
        for key in keys:
            for output in (output_key(key, "course"), output_key(key, "json")):
                self.s3.delete_object(Bucket=self.output_bucket, Key=output)

    def _wait(self, uploads: list[Upload], timeout_s: float) -> dict[str, dict[str, Any]]:
        """upload key -> its output object's listing entry, for those that appeared."""
        deadline = self.clock() + timeout_s
        found: dict[str, dict[str, Any]] = {}
        while True:
            listed = self._listing()
            for upload in uploads:
                entry = next((listed[k] for k in upload.outputs if k in listed), None)
                if entry is not None:
                    found[upload.key] = entry
            if len(found) == len(uploads) or self.clock() >= deadline:
                return found
            self.sleep(POLL_S)

    def _listing(self) -> dict[str, dict[str, Any]]:
        pages = self.s3.get_paginator("list_objects").paginate(Bucket=self.output_bucket)
        return {o["Key"]: o for page in pages for o in page.get("Contents", [])}

    def _answer(self, upload: Upload, entry: dict[str, Any] | None, expected: str | None) -> Answer:
        if entry is None:
            return Answer(upload, expected=expected)
        key = str(entry["Key"])
        body = self.s3.get_object(Bucket=self.output_bucket, Key=key)["Body"].read()
        return Answer(
            upload,
            output_key=key,
            last_modified=entry["LastModified"].timestamp(),
            text=answer_text(key, body),
            expected=expected,
        )


def answer_text(key: str, body: bytes) -> str:
    """An output object as ``name,major,year`` lines (a JSON result rendered as the course
    format would hold it; one that does not parse as ``<unreadable>``)."""
    if not key.endswith(".json"):
        return body.decode(errors="replace").strip()
    try:
        return course_text(RecognitionResult.from_message(body))
    except ValueError:
        return "<unreadable>"


def summary(answers: list[Answer], *, rounds: int, stagger_s: float) -> dict[str, Any]:
    """The report: answered, right (of those expected), latency median/p95/max in ms."""
    latencies = [a.latency_s * 1000 for a in answers if a.latency_s is not None]
    checked = [a for a in answers if a.right is not None]
    window = [ms / 1000 for ms in latencies if 0 <= ms <= COURSE_WINDOW_S * 1000]
    return {
        "uploaded": len(answers),
        "answered": sum(a.answered for a in answers),
        "checked": len(checked),
        "right": sum(bool(a.right) for a in checked) if checked else None,
        "latency_ms": latency_stats(latencies),
        "course_client": {  # what its own printout says: min, max, average of 0..200 s
            "min_s": round(min(window), 3) if window else None,
            "max_s": round(max(window), 3) if window else None,
            "average_s": round(sum(window) / len(window), 3) if window else None,
        },
        "rounds": rounds,
        "stagger_s": stagger_s,
        "objects": [a.to_json() for a in answers],
    }
