"""The handler's memory is bounded: a batch of the largest frames it accepts, run as Lambda
runs it (a fresh process, ``cloud-handler invoke``), peaks under the deployed memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_handler.settings import Settings
from rollcall_testkit.handler_stack import Stack
from rollcall_tools.bench.memory import failures, invoke_batch_peak
from rollcall_tools.clips import make_clip
from rollcall_tools.stack.settings import DEFAULT_BATCH_SIZE, DEFAULT_MEMORY_MB
from shared_schema import ResultStatus

pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 4096, 2304
"""The largest frames accepted (ROLLCALL_MAX_FRAME_PIXELS' default)."""


def test_a_batch_of_the_largest_videos_fits_the_deployed_memory(
    stack: Stack, astronaut_artifact: Path
) -> None:
    # whole videos (not rollcall keys), two faces of one person: named twice in a frame, so
    # the vote is never decided early and all 8 frames of each are decoded and searched
    video = make_clip(WIDTH, HEIGHT, faces=2, duration_s=1.0, fps=10)
    objects = {f"lecture/{i}.mp4": video for i in range(DEFAULT_BATCH_SIZE)}
    env = {**stack.env, "ROLLCALL_MODEL_DIR": str(astronaut_artifact), "ROLLCALL_THREADS": "1"}
    run = invoke_batch_peak(stack, objects, env=env, timeout_s=300)
    assert failures(run) == [], run.stderr[-2000:]
    results = stack.results()
    assert len(results) == DEFAULT_BATCH_SIZE
    assert all(r.status is ResultStatus.RECOGNIZED for r in results), results
    # the bytes of one object are held at a time: room for the largest accepted object too
    largest_object_mb = Settings.model_fields["max_object_bytes"].default / 2**20
    assert 0 < run.peak_rss_mb + largest_object_mb < DEFAULT_MEMORY_MB, run.peak_rss_mb
