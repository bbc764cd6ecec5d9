"""`tools course` against a moto server with no handler behind it: stale answers are removed
first, what never gets an output object is reported (exit 1), and the course's latency is
``LastModified`` minus the time taken just before the upload."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rollcall_testkit.results import result
from rollcall_tools.aws import AwsTarget
from rollcall_tools.course import Answer, Upload, answer_text, load_expected, round_key, summary


def test_unanswered_uploads_fail_the_run_and_stale_answers_never_count(
    target: AwsTarget, prefix: str, tmp_path: Path, tools: Callable[..., tuple[int, str, str]]
) -> None:
    s3 = target.client("s3")
    for bucket in (f"{prefix}-in", f"{prefix}-out"):
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    s3.put_object(Bucket=f"{prefix}-out", Key="test_0.txt", Body=b"an earlier run's answer")
    (tmp_path / "test_0.mp4").write_bytes(b"not really a video")
    code, out, err = tools(
        "course", "--videos", str(tmp_path), "--input-bucket", f"{prefix}-in",
        "--output-bucket", f"{prefix}-out", "--stagger", "0", "--timeout", "1", "--json",
    )  # fmt: skip
    assert code == 1
    assert "2 of 2 upload(s) got no output object" in err
    report = json.loads(out)
    assert (report["uploaded"], report["answered"], report["right"]) == (2, 0, None)
    assert s3.list_objects_v2(Bucket=f"{prefix}-out")["KeyCount"] == 0
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=f"{prefix}-in")["Contents"]}
    assert keys == {"test_0.mp4", "r2-test_0.mp4"}


def test_latency_right_and_the_course_clients_window(tmp_path: Path) -> None:
    csv = tmp_path / "expected.csv"
    csv.write_text("video,name,major,year\ntest_0.mp4,mr_bean,lawyer,freshmen\n")
    expected = load_expected(csv)
    video = tmp_path / "test_0.mp4"
    assert round_key(video, 1) == "test_0.mp4"
    assert round_key(video, 3) == "r3-test_0.mp4"
    answers = [
        Answer(Upload(video, "test_0.mp4", 100.0), "test_0.txt", 101.0, "mr_bean,lawyer,freshmen",
               expected["test_0.mp4"]),
        Answer(Upload(video, "r2-test_0.mp4", 102.4), "r2-test_0.txt", 102.0, "unknown,,",
               expected["test_0.mp4"]),  # LastModified is to the second: can be negative
        Answer(Upload(video, "r3-test_0.mp4", 103.0), expected=expected["test_0.mp4"]),
    ]  # fmt: skip
    report = summary(answers, rounds=3, stagger_s=1)
    assert (report["uploaded"], report["answered"], report["checked"], report["right"]) == (
        3,
        2,
        3,
        1,
    )
    assert report["latency_ms"]["max"] == 1000.0
    assert report["course_client"] == {"min_s": 1.0, "max_s": 1.0, "average_s": 1.0}
    assert [o["right"] for o in report["objects"]] == [True, False, False]


def test_a_json_output_reads_as_the_course_format() -> None:
    made = result("in-bucket", "test_0.mp4", "mr_bean")
    assert answer_text("test_0.json", made.to_message().encode()) == "mr_bean,physics,senior"
    assert answer_text("test_0.json", b"{") == "<unreadable>"
    assert answer_text("test_0.txt", b"mr_bean,lawyer,freshmen\n") == "mr_bean,lawyer,freshmen"
