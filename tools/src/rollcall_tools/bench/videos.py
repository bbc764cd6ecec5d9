"""Whole videos in ``tools bench`` (the course's workload): the handler's time per video
against the 2022 class handler measured in the same run, on the CSE 546 course videos
(``../shared``, when present) and on generated 2 s 1080p60 and 480p24 videos (always);
local-runner videos per second; peak RSS of a fresh ``cloud-handler invoke``."""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollcall_tools.bench.stack import Stack, body, s3_event, sqs_event
from rollcall_tools.settings import load_settings
from rollcall_tools.stats import latency_stats

GENERATED = {"1080p60": (1920, 1080, 60), "480p24": (854, 480, 24)}
"""Generated whole videos: 2 s, one face (skimage's astronaut)."""
VIDEO_TARGETS = {"course_video_median_ms": 100.0, "course_video_p95_ms": 200.0}
RUNNER_TARGET_VIDEOS_PER_S = 15.0
BATCH = 5
"""Videos in the batch whose peak RSS is reported (the deploy's default batch size)."""

Say = Callable[[str], None]


@dataclass
class VideoSet:
    """Videos to time, who they show, and what recognizes them."""

    label: str
    videos: dict[str, bytes]
    """File name -> bytes."""
    people: dict[str, list[Path]]
    """Enrolled people's photos (the baseline's known faces; rollcall's artifact)."""
    artifact: Path
    records: list[dict[str, Any]]
    expected: dict[str, str] = field(default_factory=dict)
    """File name -> the person it shows."""


def course_set(workdir: Path, say: Say) -> VideoSet | None:
    """The 8 CSE 546 videos with their gallery enrolled, or None without ../shared."""
    shared = load_settings().shared_data
    root = (shared or Path()) / "cse546-videos"
    if shared is None or not (root / "expected.csv").is_file():
        return None
    from face_model import build_model, export_model
    from shared_schema import load_student_seed

    say("enrolling the CSE 546 gallery (course videos from ../shared)")
    gallery = root / "gallery"
    people = {d.name: sorted(d.glob("*.jpg")) for d in sorted(gallery.iterdir()) if d.is_dir()}
    build_model(people, out=workdir / "cse546-model")
    export_model(workdir / "cse546-model", workdir / "cse546-artifact")
    with (root / "expected.csv").open() as handle:
        expected = {row["video"]: row["name"] for row in csv.DictReader(handle)}
    seed = load_student_seed(root / "student_data.json")
    return VideoSet(
        label=f"CSE 546 course videos ({len(expected)}, ../shared)",
        videos={name: (root / "videos" / name).read_bytes() for name in expected},
        people=people,
        artifact=workdir / "cse546-artifact",
        records=[record.to_item() for record in seed.records],
        expected=expected,
    )


def generated_set(artifact: Path, photo: Path, person: str, record: dict[str, Any]) -> VideoSet:
    """2 s videos at 1080p60 and 480p24 showing ``person`` (enrolled in ``artifact``)."""
    from rollcall_tools.clips import make_clip

    videos = {
        f"generated_{label}.mp4": make_clip(w, h, faces=1, duration_s=2.0, fps=fps)
        for label, (w, h, fps) in GENERATED.items()
    }
    return VideoSet(
        label="generated 2 s videos (1080p60, 480p24), one face",
        videos=videos,
        people={person: [photo]},
        artifact=artifact,
        records=[record],
        expected=dict.fromkeys(videos, person),
    )


def _serve(artifact: Path) -> None:
    """Point the in-process handler (and workers started from now on) at ``artifact``."""
    from cloud_handler.runtime import get_runtime

    os.environ["ROLLCALL_MODEL_DIR"] = str(artifact)
    get_runtime.cache_clear()
    get_runtime()


def time_videos(stack: Stack, videos: VideoSet, *, rounds: int, say: Say) -> dict[str, Any]:
    """Handler and 2022-baseline milliseconds per video (a warm-up round, then ``rounds``),
    each video uploaded under its own name (a new prefix per round)."""
    from cloud_handler.context import LocalContext
    from cloud_handler.handler import lambda_handler
    from rollcall_tools.bench.baseline_2022 import Baseline2022

    _serve(videos.artifact)
    stack.seed(videos.records)
    output = f"{stack.bucket}-output"
    stack.s3.create_bucket(Bucket=output)
    say(f"{videos.label}: the 2022 baseline's known faces")
    baseline = Baseline2022(videos.people)
    ours: dict[str, list[float]] = {name: [] for name in videos.videos}
    theirs: dict[str, list[float]] = {name: [] for name in videos.videos}
    right = baseline_right = total = 0
    stack.results()  # drain what earlier sections left
    for round_ in range(rounds + 1):
        for name, data in videos.videos.items():
            key = f"bench-r{round_}-{time.monotonic_ns()}/{name}"
            record = stack.put(key, data)
            start = time.perf_counter()
            lambda_handler(sqs_event(body(s3_event(record))), LocalContext(timeout_s=60))
            wall = (time.perf_counter() - start) * 1000
            answers = [r for r in stack.results() if r.clip.key == key]
            named = [f.identity for r in answers[:1] for f in r.faces if f.identity]
            ms, their_name = baseline.invocation(
                s3=stack.s3, dynamodb=stack.dynamodb, bucket=stack.bucket, key=key,
                table=stack.table, output_bucket=output,
            )  # fmt: skip
            if round_ == 0:
                continue  # warm-up
            ours[name].append(wall)
            theirs[name].append(ms)
            total += 1
            right += named == [videos.expected.get(name)]
            baseline_right += their_name == videos.expected.get(name)
        say(f"{videos.label}: round {round_} done")
    mine = latency_stats([v for values in ours.values() for v in values])
    base = latency_stats([v for values in theirs.values() for v in values])
    return {
        "videos": videos.label,
        "rollcall_ms": mine,
        "baseline_2022_ms": base,
        "ratio_median": _ratio(base["median"], mine["median"]),
        "ratio_p95": _ratio(base["p95"], mine["p95"]),
        "right": f"{right}/{total}",
        "baseline_right": f"{baseline_right}/{total}",
        "per_video_median_ms": {
            name: {
                "rollcall": latency_stats(ours[name])["median"],
                "baseline_2022": latency_stats(theirs[name])["median"],
            }
            for name in videos.videos
        },
    }


def _ratio(baseline: float | None, ours: float | None) -> float | None:
    return round(baseline / ours, 1) if baseline and ours else None


def peak_rss(
    stack: Stack, clip_1080p: bytes, video_1080p: bytes, *, env: dict[str, str], say: Say
) -> dict[str, float]:
    """Peak RSS (MiB) of a fresh ``cloud-handler invoke``: one 0.5 s 1080p clip, and one
    batch of five 2 s 1080p60 whole videos."""
    from rollcall_tools.bench.memory import failures, invoke_batch_peak
    from rollcall_tools.bench.stack import clip_key

    say("peak RSS of a fresh `cloud-handler invoke` (one 1080p clip; five 1080p60 videos)")
    stamp = time.monotonic_ns()
    clip = invoke_batch_peak(
        stack, {clip_key(stamp % 10**6, device="bench", session="rss"): clip_1080p}, env=env
    )
    batch = invoke_batch_peak(
        stack, {f"rss-{stamp}/video_{i}.mp4": video_1080p for i in range(BATCH)}, env=env
    )
    stack.results()
    for run in (clip, batch):
        if problems := failures(run):
            from rollcall_tools.bench.handler import BenchError

            raise BenchError(f"cloud-handler invoke failed: {problems}")
    return {"clip_1080p": clip.peak_rss_mb, f"batch_{BATCH}_videos_1080p60": batch.peak_rss_mb}
