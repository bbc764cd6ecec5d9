"""The bench's whole-video parts: peak RSS of a fresh process, and the 2022 class handler
it is compared with (dlib HOG + ResNet on the first frame), on the moto server."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from rollcall_testkit.handler_stack import make_stack
from rollcall_tools.bench.baseline_2022 import Baseline2022
from rollcall_tools.bench.memory import failures, run_measured
from rollcall_tools.clips import astronaut, make_clip


def test_peak_rss_of_a_fresh_process() -> None:
    answer = '{"batchItemFailures": [{"itemIdentifier": "m1"}]}'
    small = run_measured("json.tool", [], env={}, stdin=answer)  # prints it back
    assert small.returncode == 0
    assert failures(small) == [{"itemIdentifier": "m1"}]
    touch = "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"  # 200 MiB resident
    big = run_measured("timeit", ["-n", "1", "-r", "1", touch], env={})
    assert big.returncode == 0, big.stderr
    # VmHWM counts the child alone: not this (larger) test process's pages
    assert 0 < small.peak_rss_mb < 100 and big.peak_rss_mb > small.peak_rss_mb + 150
    assert failures(big) == [f"no answer on stdout: {big.stdout[-300:]!r}"]


def test_the_2022_baseline_names_the_first_frame(moto_endpoint: str, tmp_path: Path) -> None:
    photo = tmp_path / "astronaut.png"
    Image.fromarray(astronaut()).save(photo)
    baseline = Baseline2022({"eileen_collins": [photo]})
    assert baseline.names == ["eileen_collins"]
    stack = make_stack(moto_endpoint)
    stack.seed([{"name": "eileen_collins", "major": "astronautics", "year": "senior"}])
    stack.s3.create_bucket(Bucket=f"{stack.bucket}-output")
    stack.put("test_0.mp4", make_clip(854, 480, faces=1, duration_s=0.5, fps=24))
    ms, name = baseline.invocation(
        s3=stack.s3, dynamodb=stack.dynamodb, bucket=stack.bucket, key="test_0.mp4",
        table=stack.table, output_bucket=f"{stack.bucket}-output",
    )  # fmt: skip
    assert name == "eileen_collins" and ms > 0
    body = stack.s3.get_object(Bucket=f"{stack.bucket}-output", Key="test_0.txt")["Body"]
    assert body.read() == b"eileen_collins, astronautics, senior"
