"""``tools bench`` (the handler) and ``tools bench-gate`` (edge-capture's motion gate):
benchmarks, registered on the main app."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from rollcall_tools.errors import JobFailedError
from rollcall_tools.output import err, handles_errors, out, print_json

AsJsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object, not tables.")]
ClipsOpt = Annotated[
    int, typer.Option("--clips", min=3, max=500, help="Warm clips timed per resolution.")
]
NaiveClipsOpt = Annotated[
    int, typer.Option("--naive-clips", min=1, max=50, help="Clips through the naive baseline.")
]
RunnerClipsOpt = Annotated[
    int,
    typer.Option(
        "--runner-clips", min=4, max=2000, help="Clips through the local runner (clips/s)."
    ),
]
VideoRoundsOpt = Annotated[
    int,
    typer.Option(
        "--video-rounds",
        min=0,
        max=50,
        help="Timed rounds over the whole videos (course videos from ../shared when "
        "present, generated 2 s 1080p60 and 480p24 always), each against the 2022 "
        "baseline; 0 leaves the video section out.",
    ),
]
RunnerVideosOpt = Annotated[
    int,
    typer.Option("--runner-videos", min=4, max=2000, help="Whole videos through the local runner."),
]
WorkersOpt = Annotated[
    int, typer.Option("--workers", min=1, max=16, help="Local-runner worker processes.")
]
ThreadsOpt = Annotated[
    int,
    typer.Option("--threads", min=1, max=64, help="onnxruntime threads per process (per worker)."),
]
ModelDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--model-dir",
        help="Artifact to serve (default: dlib's ResNet with the astronaut enrolled).",
    ),
]
PayloadOpt = Annotated[
    bool,
    typer.Option(
        "--payload/--no-payload",
        help="Assemble the x86_64 image's task root (Python 3.12 wheels from PyPI) and "
        "report its size.",
    ),
]


@handles_errors
def bench(
    *,
    as_json: AsJsonOpt = False,
    clips: ClipsOpt = 12,
    naive_clips: NaiveClipsOpt = 3,
    runner_clips: RunnerClipsOpt = 40,
    video_rounds: VideoRoundsOpt = 2,
    runner_videos: RunnerVideosOpt = 32,
    workers: WorkersOpt = 2,
    threads: ThreadsOpt = 1,
    model_dir: ModelDirOpt = None,
    payload: PayloadOpt = True,
) -> None:
    """Benchmark the handler on a local moto server: warm time per 0.5 s clip (480p, 720p,
    1080p, with recognition) and its stages, cold start from the image's task root alone,
    local-runner throughput, image size; against MTCNN on torch and a naive handler. Whole
    videos (the course's workload) against the 2022 class handler, videos/s, peak RSS."""
    from rollcall_tools.bench.handler import BenchConfig, BenchError, print_tables, run_bench

    config = BenchConfig(
        clips=clips,
        naive_clips=naive_clips,
        runner_clips=runner_clips,
        workers=workers,
        threads=threads,
        model_dir=model_dir,
        payload=payload,
        progress=err,
        video_rounds=video_rounds,
        runner_videos=runner_videos,
    )
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the report
            report = run_bench(config)
    except BenchError as exc:
        raise JobFailedError(str(exc)) from None
    if as_json:
        print_json(report)
    else:
        print_tables(report, out)


@handles_errors
def bench_gate(
    *,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object, not a table.")
    ] = False,
    scene_minutes: Annotated[
        float,
        typer.Option(
            "--scene-minutes", min=0.1, max=240, help="Minutes of video generated per scene."
        ),
    ] = 10.0,
    clip_seconds: Annotated[
        float, typer.Option("--clip-seconds", min=0.1, max=10, help="Clip length in seconds.")
    ] = 0.5,
    encode_clips: Annotated[
        int,
        typer.Option(
            "--encode-clips",
            min=0,
            max=200,
            help="Clips encoded at 640x480@15 (edge-capture's encoder benchmark) for the gate "
            "+ encoder share of a core; 0 leaves that figure out.",
        ),
    ] = 8,
) -> None:
    """Benchmark edge-capture's motion gate: CPU per frame (640x480, 1280x720) and the share of
    clips uploaded in three generated scenes (empty room, a person walking through, a person
    sitting still), with the gate + encoder share of a core at 640x480@15."""
    from edge_capture.bench import run_bench
    from rollcall_tools.bench.gate import gate_table, run_gate_bench

    encode_fraction = None
    if encode_clips:
        figures = run_bench(
            clips=encode_clips, clip_seconds=clip_seconds, modes=((640, 480, 15.0),)
        )
        encode_fraction = figures["640x480@15"]["encode_fraction"]
    report = run_gate_bench(
        clip_seconds=clip_seconds, minutes=scene_minutes, encode_fraction=encode_fraction
    )
    if as_json:
        print_json(report)
    else:
        out.print(gate_table(report))
