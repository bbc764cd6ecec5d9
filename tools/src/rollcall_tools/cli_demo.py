"""``tools demo``: the one-command local demo (registered on the main app)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table as RichTable

from rollcall_tools.cli_attendance import print_report
from rollcall_tools.cli_common import Region, StackName
from rollcall_tools.errors import ConfigError
from rollcall_tools.output import err, handles_errors, out, print_json
from rollcall_tools.settings import load_settings
from rollcall_tools.stack.names import check_prefix

if TYPE_CHECKING:
    from edge_capture.gate import GateMode


def _print_summary(console: Console, data: dict[str, Any]) -> None:
    latency = data["latency_ms"]
    console.print(
        f"\n[bold]summary[/]: {data['upload_line']}; {data['answered']} answered, "
        f"{data['missing']} missing; latency capture->result median {latency['median']} ms, "
        f"p95 {latency['p95']} ms; recognizer: {data['recognizer']} ({data['backbone']})"
    )
    videos = RichTable("video", "answered clips", "people (clips)")
    for name, clips in data["outcomes"].items():
        counts: dict[str, int] = {}
        for clip in clips:
            for person in clip["people"]:
                counts[person["name"]] = counts.get(person["name"], 0) + 1
        named = ", ".join(f"{n} ({c})" for n, c in counts.items()) or "[dim]nobody[/]"
        answered = sum(1 for clip in clips if clip["status"] != "missing")
        videos.add_row(name, str(answered), named)
    console.print(videos)
    if data["people_seen"]:
        people = RichTable("person", "major", "year", "clips", "best similarity")
        for person in data["people_seen"]:
            people.add_row(
                person["name"],
                person["major"] or "[dim]no record[/]",
                person["year"] or "[dim]-[/]",
                str(person["clips"]),
                f"{person['best']:.2f}",
            )
        console.print(people)
    if data["interrupted"]:
        console.print("[yellow]interrupted[/]: capture stopped early (exit 130)")
    for key in data["missing_keys"]:
        console.print(f"[red]no result for[/] {key}")


VideosOpt = Annotated[
    Path | None,
    typer.Option(
        help="Folder of videos to stream (default: a generated video of two people from "
        "public-domain photos that ship with scikit-image and matplotlib).",
        show_default=False,
    ),
]
RosterOpt = Annotated[
    Path | None,
    typer.Option(help="Student seed JSON for --videos.", show_default=False),
]
GalleryOpt = Annotated[
    Path | None,
    typer.Option(
        help="Folder with one folder of photos per person, to enroll (with --videos).",
        show_default=False,
    ),
]
BackboneOpt = Annotated[
    str | None,
    typer.Option(
        help="Embedding network: dlib-resnet-v1 (built in), or mobilefacenet / "
        "inception-resnet-v1 with --weights (needs torch: `uv sync --group train`) "
        "(default: ROLLCALL_BACKBONE, else dlib-resnet-v1).",
        show_default=False,
    ),
]
WeightsOpt = Annotated[
    Path | None,
    typer.Option(
        help="Local weights file of a torch --backbone (default: ROLLCALL_WEIGHTS).",
        show_default=False,
    ),
]
PersonSecondsOpt = Annotated[
    float,
    typer.Option(min=1, max=60, help="Seconds each person is on screen in the bundled demo video."),
]
GateOpt = Annotated[
    str,
    typer.Option(
        help="edge-capture's motion gate: 'motion' uploads clips that show motion (and a "
        "keep-alive every 10 s), 'off' uploads every clip.",
    ),
]
ClipSecondsOpt = Annotated[
    float, typer.Option(min=0.1, max=10, help="Length of each clip the edge records.")
]
FastOpt = Annotated[
    bool,
    typer.Option("--fast", help="Read videos as fast as possible instead of in real time."),
]
AttendancePngOpt = Annotated[
    Path,
    typer.Option(help="Where the attendance timeline of the demo's sessions is drawn (PNG)."),
]


@handles_errors
def demo(
    videos: VideosOpt = None,
    roster: RosterOpt = None,
    gallery: GalleryOpt = None,
    backbone: BackboneOpt = None,
    weights: WeightsOpt = None,
    person_seconds: PersonSecondsOpt = 3.0,
    gate: GateOpt = "motion",
    clip_seconds: ClipSecondsOpt = 0.5,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Local runner workers.")] = 1,
    fast: FastOpt = False,
    attendance_png: AttendancePngOpt = Path("rollcall-attendance.png"),
    region: Region = None,
    stack: StackName = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object only.")] = False,
) -> None:
    """Run the whole system locally: local AWS, recognizer, edge streaming, live results."""
    from edge_capture.gate import GATE_MODES
    from rollcall_tools.demo.run import DemoOptions, run_demo

    settings = load_settings()
    if gate not in GATE_MODES:
        raise ConfigError(f"--gate must be 'motion' or 'off', not {gate!r}")
    live = err if as_json else out
    options = DemoOptions(
        videos=videos,
        roster=roster,
        gallery=gallery,
        backbone=backbone or settings.backbone,
        weights=weights or settings.weights,
        person_seconds=person_seconds,
        gate=cast("GateMode", gate),
        workers=workers,
        region=region or settings.region,
        stack=check_prefix(stack or settings.stack),
        fast=fast,
        clip_seconds=clip_seconds,
        attendance_png=attendance_png,
    )
    report = run_demo(options, say=lambda line: live.print(line, markup=False))
    data = report.to_json()
    if as_json:
        print_json(data)
    else:
        _print_summary(out, data)
        if report.attendance is not None:
            print_report(report.attendance)
            out.print(f"attendance timeline: {report.attendance_png}")
    if report.interrupted:
        raise typer.Exit(130)
    if not report.ok:
        raise typer.Exit(1)
