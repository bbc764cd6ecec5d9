"""``tools course``: the CSE 546 course's workload against a stack's upload and output
buckets, measured as the course's own client measures it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from rollcall_tools.cli_common import Json, StateDir, Where, located
from rollcall_tools.course import Workload, find_videos, load_expected, summary
from rollcall_tools.errors import ConfigError, JobFailedError
from rollcall_tools.local.state import LocalState
from rollcall_tools.output import err, handles_errors, out, print_json

COURSE_VIDEOS = ("cse546-videos", "videos")
"""Where the course's videos are under ``ROLLCALL_SHARED_DATA``."""


VideosOpt = Annotated[
    Path | None,
    typer.Option(
        help="Folder of .mp4 videos (default: $ROLLCALL_SHARED_DATA/cse546-videos/videos).",
        show_default=False,
    ),
]
ExpectedOpt = Annotated[
    Path | None,
    typer.Option(
        help="video,name,major,year CSV to check the answers against (default: "
        "expected.csv beside the videos folder, when there).",
        show_default=False,
    ),
]
InputBucketOpt = Annotated[
    str | None,
    typer.Option(
        help="Upload bucket (default: the one the local stack in --state-dir records).",
        show_default=False,
    ),
]
OutputBucketOpt = Annotated[
    str | None,
    typer.Option(
        help="Output bucket (default: the one the local stack in --state-dir records).",
        show_default=False,
    ),
]
StaggerOpt = Annotated[
    float, typer.Option(min=0, help="Seconds between two uploads (the course's: 1).")
]
RoundsOpt = Annotated[
    int,
    typer.Option(
        min=1,
        help="Rounds of uploads: the first under the videos' own names, each further one "
        "under new names (r2-test_0.mp4, ...).",
    ),
]
TimeoutOpt = Annotated[
    float,
    typer.Option(min=1, help="Seconds to wait after the last upload for every answer."),
]


@handles_errors
@located
def course(
    where: Where,
    videos: VideosOpt = None,
    expected: ExpectedOpt = None,
    input_bucket: InputBucketOpt = None,
    output_bucket: OutputBucketOpt = None,
    stagger: StaggerOpt = 1.0,
    rounds: RoundsOpt = 2,
    timeout: TimeoutOpt = 120.0,
    state_dir: StateDir = None,
    as_json: Json = False,
) -> None:
    """Upload whole videos as the course's workload generator does (staggered, under their
    own names, then again under new names) and report answered, right and the latency from
    the output objects' LastModified, as the course's client computes it (S3 gives it to
    the second: a figure can be up to 1 s short). Deletes the output objects of the names it
    uploads first, so that no stale answer counts."""
    folder = videos or _default_videos(where)
    found = find_videos(folder)
    csv_path = expected or (folder.parent / "expected.csv")
    answers_expected = load_expected(csv_path if expected or csv_path.is_file() else None)
    state = LocalState.load(state_dir or where.settings.state_dir)
    recorded = state.outputs if state and state.server.alive else {}
    if where.endpoint_url is None and recorded and state:
        where = Where(state.region, where.profile, state.endpoint_url, where.stack, where.settings)
    upload_to = input_bucket or recorded.get("bucket")
    answer_in = output_bucket or recorded.get("output_bucket")
    if not upload_to or not answer_in:
        raise ConfigError(
            "tools course needs --input-bucket and --output-bucket (or a local stack started "
            "with `tools local up --input-bucket NAME --output-bucket NAME`)"
        )
    workload = Workload(where.target().client("s3"), str(upload_to), str(answer_in))
    answers = workload.run(
        found,
        rounds=rounds,
        stagger_s=stagger,
        timeout_s=timeout,
        expected=answers_expected,
        say=lambda line: None if as_json else err.print(f"[dim]{line}[/]"),
    )
    measured = summary(answers, rounds=rounds, stagger_s=stagger)
    report = {"input_bucket": upload_to, "output_bucket": answer_in, **measured}
    if as_json:
        print_json(report)
    else:
        _print(report)
    if report["answered"] < report["uploaded"]:
        raise JobFailedError(
            f"{report['uploaded'] - report['answered']} of {report['uploaded']} upload(s) got "
            f"no output object in {answer_in} within {timeout:g} s"
        )


def _default_videos(where: Where) -> Path:
    root = where.settings.shared_data
    if root is None:
        raise ConfigError(
            "tools course needs --videos DIR (or ROLLCALL_SHARED_DATA naming ../shared/data)"
        )
    return root.joinpath(*COURSE_VIDEOS)


def _print(report: dict[str, object]) -> None:
    table = RichTable(header_style="bold", box=None)
    for name in ("uploaded", "output", "answer", "right", "latency ms"):
        table.add_column(name, justify="right" if name == "latency ms" else "left", overflow="fold")
    objects = report["objects"]
    assert isinstance(objects, list)
    for row in objects:
        right = {True: "[green]yes[/]", False: "[red]no[/]", None: "[dim]-[/]"}[row["right"]]
        latency = "-" if row["latency_ms"] is None else f"{row['latency_ms']:.0f}"
        answer = (row["answer"] or "[red]none[/]").replace("\n", "; ")
        table.add_row(row["key"], row["output_key"] or "-", answer, right, latency)
    out.print(table)
    stats = report["latency_ms"]
    assert isinstance(stats, dict)
    checked = "no expected answers to check"
    if report["checked"]:
        checked = f"{report['right']} of {report['checked']} right"
    out.print(
        f"answered {report['answered']} of {report['uploaded']}; {checked}; latency median "
        f"{stats['median']} ms, p95 {stats['p95']} ms, max {stats['max']} ms"
    )
