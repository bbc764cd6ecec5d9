"""``tools bench``: the handler's warm time per clip, cold start, local-runner throughput,
image payload, and the baselines it replaces (MTCNN on torch, a naive handler), all in one
run on one machine, against a moto server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rollcall_tools.bench.stack import body, clip_key, make_stack, s3_event, sqs_event
from rollcall_tools.bench.videos import RUNNER_TARGET_VIDEOS_PER_S, VIDEO_TARGETS
from rollcall_tools.stack.settings import StackSettings
from rollcall_tools.stats import latency_stats

RESOLUTIONS = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}
TARGETS = {
    "warm_median_720p_ms": 60.0,
    "cold_start_s": 1.0,
    "clips_per_s": 20.0,
    "payload_mb": 300.0,
}
STAGES = ("download", "decode", "detect", "embed", "lookup")
PERSON = "eileen_collins"


class BenchError(RuntimeError):
    """The benchmark cannot run (a dependency or the local endpoint is missing)."""


@dataclass
class BenchConfig:
    """What to measure and how much."""

    clips: int = 12
    naive_clips: int = 3
    runner_clips: int = 40
    workers: int = 2
    threads: int = 1
    model_dir: Path | None = None
    payload: bool = True
    progress: Console | None = None
    video_rounds: int = 2
    """Timed rounds over the whole videos (after a warm-up round); 0: no video section."""
    runner_videos: int = 32


def _say(config: BenchConfig, message: str) -> None:
    if config.progress is not None:
        config.progress.print(f"[dim]bench:[/dim] {message}", highlight=False)


def _artifact(config: BenchConfig, workdir: Path) -> tuple[Path, str]:
    """The artifact to serve and a description: the given one, or the default recognizer
    (dlib's ResNet) with the astronaut enrolled from skimage's photo."""
    if config.model_dir:
        return config.model_dir, f"artifact {config.model_dir}"
    from PIL import Image

    from face_model import build_model, export_model
    from rollcall_tools.clips import astronaut

    photo = workdir / "astronaut.png"
    Image.fromarray(astronaut()).save(photo)
    build_model({PERSON: [photo]}, out=workdir / "model")
    export_model(workdir / "model", workdir / "artifact")
    return workdir / "artifact", "dlib-resnet-v1 (built in), 1 person enrolled"


def run_bench(config: BenchConfig) -> dict[str, Any]:
    """Measure everything; returns the JSON-able report."""
    from rollcall_tools.local.moto import local_aws

    with local_aws() as endpoint, tempfile.TemporaryDirectory(prefix="rollcall-bench-") as tmp:
        return _run(config, endpoint, Path(tmp))


def _run(config: BenchConfig, endpoint: str, workdir: Path) -> dict[str, Any]:
    from rollcall_tools.clips import make_clip

    # the handler's JSON logs and EMF metrics would drown the report (here and in workers)
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    _say(config, "enrolling the recognizer and encoding clips")
    artifact, model_note = _artifact(config, workdir)
    # the deployed stack's: 6x the runner's function timeout
    stack = make_stack(endpoint, events_visibility_s=StackSettings().events_visibility_s)
    stack.seed([{"name": PERSON, "major": "astronautics", "year": "senior"}])
    env = {
        **stack.env,
        "ROLLCALL_THREADS": str(config.threads),
        "ROLLCALL_MODEL_DIR": str(artifact),
    }
    env.pop("AWS_MAX_ATTEMPTS", None)  # the test kit's; the bench runs the handler's default
    os.environ.update(env)
    os.environ.pop("ROLLCALL_MODEL_S3_URI", None)
    clips = {
        res: make_clip(w, h, faces=1, duration_s=0.5, fps=30) for res, (w, h) in RESOLUTIONS.items()
    }

    report: dict[str, Any] = {
        "model": model_note,
        "threads": config.threads,
        "cpus": os.cpu_count(),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        "clip": "0.5 s, 30 fps, H.264, one face (skimage astronaut), with recognition",
    }
    _say(config, "warm service time")
    report["warm_ms"] = _warm(config, stack, clips)
    ours = report["warm_ms"]["720p"]["median"]
    _say(config, "warm 720p with the gallery read from a face library in the stack")
    report.update(_library(config, stack, endpoint, artifact, clip=clips["720p"]))
    torch_ms = _torch_path(config, stack, clips["720p"])
    report["torch_warm_ms_720p"] = torch_ms
    report["torch_ratio_720p"] = round(torch_ms["median"] / ours, 1) if torch_ms else None
    _say(config, "cold start (new isolated interpreter, task root only, to first result)")
    report["cold_start_s"], report["cold_start_split_s"] = _cold_start(
        stack, clips["720p"], env, artifact=artifact, workdir=workdir
    )
    _say(config, f"local runner throughput ({config.workers} process workers)")
    report["clips_per_s"] = _throughput(
        config,
        stack,
        lambda i: (clip_key(i, device="bench", session="runner"), clips["720p"]),
        config.runner_clips,
    )
    report["runner"] = {"workers": config.workers, "mode": "process", "clips": config.runner_clips}
    if config.video_rounds:
        report |= _videos(config, stack, clips["1080p"], env=env, workdir=workdir)
    _say(config, "naive baseline")
    from rollcall_tools.bench.naive import extractor_name

    naive = _naive(config, stack, clips["720p"], artifact)
    report["naive_ms_720p"] = naive
    report["naive_extractor"] = extractor_name()
    report["naive_ratio_720p"] = round(naive["median"] / ours, 1) if ours else None
    report["payload_mb"] = _payload(config, artifact, workdir) if config.payload else None
    report["targets"] = TARGETS
    report["met"] = {
        "warm_median_720p_ms": ours <= TARGETS["warm_median_720p_ms"],
        "cold_start_s": report["cold_start_s"] <= TARGETS["cold_start_s"],
        "clips_per_s": report["clips_per_s"] >= TARGETS["clips_per_s"],
        "payload_mb": report["payload_mb"] is not None
        and report["payload_mb"] <= TARGETS["payload_mb"],
    }
    if config.video_rounds:
        report["targets"] = {
            **TARGETS,
            **VIDEO_TARGETS,
            "videos_per_s": RUNNER_TARGET_VIDEOS_PER_S,
        }
        report["met"] |= {
            "course_video_median_ms": _at_most(report["course_video_ms"]["median"], "median"),
            "course_video_p95_ms": _at_most(report["course_video_ms"]["p95"], "p95"),
            "videos_per_s": report["videos_per_s"] >= RUNNER_TARGET_VIDEOS_PER_S,
        }
    report["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    return report


def _at_most(value: float | None, which: str) -> bool:
    return value is not None and value <= VIDEO_TARGETS[f"course_video_{which}_ms"]


def _videos(
    config: BenchConfig, stack: Any, clip_1080p: bytes, *, env: dict[str, str], workdir: Path
) -> dict[str, Any]:
    """The whole-video section: course videos (../shared) and generated ones against the
    2022 baseline, local-runner videos/s, peak RSS (see :mod:`rollcall_tools.bench.videos`)."""
    from rollcall_tools.bench import videos as v

    def say(message: str) -> None:
        _say(config, message)

    served = Path(env["ROLLCALL_MODEL_DIR"])
    photo = workdir / "astronaut.png"
    if not photo.exists():  # --model-dir given: the baseline still needs the photo
        from PIL import Image

        from rollcall_tools.clips import astronaut

        Image.fromarray(astronaut()).save(photo)
    generated = v.generated_set(
        served, photo, PERSON, {"name": PERSON, "major": "astronautics", "year": "senior"}
    )
    course = v.course_set(workdir, say)
    out: dict[str, Any] = {}
    timed_generated = v.time_videos(stack, generated, rounds=config.video_rounds, say=say)
    timed_course = (
        v.time_videos(stack, course, rounds=config.video_rounds, say=say) if course else None
    )
    main = timed_course or timed_generated
    out["course_videos"] = main["videos"]
    out["course_video_ms"] = main["rollcall_ms"]
    out["baseline_2022_ms"] = main["baseline_2022_ms"]
    out["course_ratio_median"] = main["ratio_median"]
    out["course_ratio_p95"] = main["ratio_p95"]
    out["course_right"] = main["right"]
    out["course_videos_detail"] = timed_course
    out["generated_videos"] = timed_generated
    runner_set = course or generated
    names = list(runner_set.videos.items())
    _say(config, f"local runner, whole videos ({config.workers} workers): {runner_set.label}")
    os.environ["ROLLCALL_MODEL_DIR"] = str(runner_set.artifact)  # the workers' model
    try:
        out["videos_per_s"] = _throughput(
            config,
            stack,
            lambda i: (f"runner-{i}/{names[i % len(names)][0]}", names[i % len(names)][1]),
            config.runner_videos,
        )
    finally:
        os.environ["ROLLCALL_MODEL_DIR"] = str(served)
    video_1080p = generated.videos["generated_1080p60.mp4"]
    out["peak_rss_mb"] = v.peak_rss(stack, clip_1080p, video_1080p, env=env, say=say)
    from cloud_handler.runtime import get_runtime

    get_runtime.cache_clear()
    get_runtime()
    return out


def _library(
    config: BenchConfig, stack: Any, endpoint: str, artifact: Path, *, clip: bytes
) -> dict[str, Any]:
    """Warm 720p with the gallery from the stack's face library against the artifact's,
    timed back to back (the same load), and the time a library change takes to reach a warm
    reader."""
    from rollcall_tools.bench.library import change_to_warm, warm_with_library

    stats = warm_with_library(
        endpoint,
        artifact,
        lambda: _timed_handler_runs(config, stack, clip, "720p-library", 9000)[0],
    )
    again = latency_stats(_timed_handler_runs(config, stack, clip, "720p-artifact", 9500)[0])
    median, baseline = stats["median"], again["median"]
    return {
        "library_warm_ms_720p": stats,
        "artifact_warm_ms_720p_again": again,
        "library_ratio_720p": round(median / baseline, 3) if median and baseline else None,
        "library_change": change_to_warm(3),
    }


def _timed_handler_runs(
    config: BenchConfig, stack: Any, data: bytes, label: str, seq: int
) -> tuple[list[float], list[Any]]:
    """Wall milliseconds of ``config.clips`` warm handler calls (after two warm-up calls)."""
    from cloud_handler.context import LocalContext
    from cloud_handler.handler import lambda_handler

    walls: list[float] = []
    for i in range(config.clips + 2):
        record = stack.put(clip_key(seq + i, device="bench", session=label), data)
        event = sqs_event(body(s3_event(record)))
        start = time.perf_counter()
        lambda_handler(event, LocalContext(timeout_s=60))
        if i >= 2:  # the first two of each size warm caches up
            walls.append((time.perf_counter() - start) * 1000)
    return walls, stack.results()[2:]


def _warm(config: BenchConfig, stack: Any, clips: dict[str, bytes]) -> dict[str, Any]:
    from cloud_handler.runtime import get_runtime

    get_runtime.cache_clear()
    get_runtime()
    out: dict[str, Any] = {}
    for n, (res, data) in enumerate(clips.items()):
        walls, results = _timed_handler_runs(config, stack, data, res, 1000 * (n + 1))
        stages = {
            s: latency_stats([getattr(r.timings, f"{s}_ms") for r in results])["median"]
            for s in (*STAGES, "total")
        }
        stats = latency_stats(walls)
        spent = (stats["median"] or 0.0) - (stages["total"] or 0.0)
        stages["idempotency_and_send"] = round(max(0.0, spent), 1)
        statuses = sorted({r.status.value for r in results})
        out[res] = {**stats, "stages_ms": stages, "statuses": statuses}
        _say(config, f"{res}: median {stats['median']} ms, p95 {stats['p95']} ms ({statuses})")
    return out


def _torch_path(config: BenchConfig, stack: Any, clip: bytes) -> dict[str, Any] | None:
    """The handler as it served before: MTCNN on torch (facenet-pytorch), in full on every
    sampled frame (no following of faces); the same embedder, gallery and AWS calls."""
    try:
        from rollcall_tools.bench.torch_mtcnn import TorchMtcnn
    except ImportError:
        _say(config, "torch path skipped: torch and torchvision are not installed")
        return None
    from cloud_handler import sampling
    from cloud_handler.runtime import get_runtime
    from face_model.mtcnn.face_detector import MtcnnFaceDetector

    detector = get_runtime().recognizer.detector
    if not isinstance(detector, MtcnnFaceDetector):
        _say(config, "torch path skipped: the artifact's detector is not MTCNN")
        return None
    _say(config, "the torch path (MTCNN on facenet-pytorch, every frame) for comparison")
    onnx_mtcnn, track_within = detector.mtcnn, sampling.TRACK_WITHIN_MS
    # detect() alike; no refine(), which is only called when faces are followed (off here)
    detector.mtcnn = TorchMtcnn(threads=config.threads)  # type: ignore[assignment]
    sampling.TRACK_WITHIN_MS = -1
    try:
        walls, results = _timed_handler_runs(config, stack, clip, "torch", 8000)
    finally:
        detector.mtcnn, sampling.TRACK_WITHIN_MS = onnx_mtcnn, track_within
    return {**latency_stats(walls), "statuses": sorted({r.status.value for r in results})}


_COLD_CHILD = """
import json, sys, time
t0 = time.time()
sys.path[:0] = [sys.argv[1]]
from cloud_handler.context import LocalContext
from cloud_handler.handler import lambda_handler
from cloud_handler.runtime import get_runtime
t_import = time.time()
get_runtime()
t_init = time.time()
lambda_handler(json.loads(sys.argv[2]), LocalContext(timeout_s=60))
t_done = time.time()
leaked = sorted(m for m in ("torch", "facenet_pytorch", "onnx") if m in sys.modules)
marks = {"start": t0, "import": t_import, "init": t_init, "done": t_done}
print(json.dumps({**marks, "leaked": leaked}))
"""


def _host_task_root(artifact: Path, workdir: Path) -> Path:
    """The image's task root assembled for this interpreter (Python and platform of the
    host, the locked wheels from the package index), so that a child can run the handler
    from it alone."""
    import platform

    from rollcall_tools.task_root import assemble, workspace_root

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    machine = {"x86_64": "x86_64", "aarch64": "aarch64"}.get(platform.machine(), "x86_64")
    task = assemble(
        workdir / "task-root-host",
        root=workspace_root(),
        artifact=artifact,
        python=version,
        platform=f"{machine}-manylinux_2_28",
    )
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(task.path)], check=True)
    return task.path


def _cold_start(
    stack: Any, clip: bytes, env: dict[str, str], *, artifact: Path, workdir: Path
) -> tuple[float, dict[str, Any]]:

    task_root = _host_task_root(artifact, workdir)
    record = stack.put(clip_key(1, device="bench", session="cold"), clip)
    event = json.dumps(sqs_event(body(s3_event(record))))
    child_env = {**os.environ, **env, "ROLLCALL_MODEL_DIR": str(task_root / "model")}
    spawned = time.time()
    done = subprocess.run(  # -I: isolated (no user site, no PYTHON* variables); -S: no site
        [sys.executable, "-I", "-S", "-c", _COLD_CHILD, str(task_root), event],
        env=child_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"cold-start child failed: {done.stderr.strip()[-800:]}")
    marks = json.loads(done.stdout.strip().splitlines()[-1])
    stack.results()
    split = {
        "interpreter_start": round(marks["start"] - spawned, 3),
        "imports": round(marks["import"] - marks["start"], 3),
        "init_model_and_clients": round(marks["init"] - marks["import"], 3),
        "first_clip": round(marks["done"] - marks["init"], 3),
        "modules_not_in_image_imported": marks["leaked"],
    }
    return round(marks["done"] - spawned, 3), split


def _throughput(
    config: BenchConfig, stack: Any, make: Callable[[int], tuple[str, bytes]], count: int
) -> float:
    """Objects per second through the local runner: ``count`` objects ``make(i)`` (key,
    bytes) queued at once, after each worker was warmed up."""
    from cloud_handler.local_runner import RunnerConfig, run_local
    from rollcall_tools.bench.stack import wait_until

    def push(n: int, offset: int) -> None:
        for i in range(n):
            record = stack.put(*make(offset + i))
            stack.sqs.send_message(
                QueueUrl=stack.events_queue_url, MessageBody=body(s3_event(record))
            )

    seen: list[Any] = []

    def answered(n: int) -> bool:
        seen.extend(stack.results())
        return len(seen) >= n

    stop = threading.Event()
    runner = RunnerConfig(
        queue=stack.events_queue_url,
        endpoint_url=stack.endpoint,
        workers=config.workers,
        wait_time_s=1,
        function_timeout_s=30,
        threads_per_worker=config.threads,
    )
    thread = threading.Thread(target=run_local, args=(runner,), kwargs={"stop": stop})
    thread.start()
    try:
        push(config.workers * 4, 5000)  # warm every worker (model load) first
        if not wait_until(lambda: answered(config.workers * 4), 300):
            raise BenchError("the local runner did not answer the warm-up objects in 300 s")
        seen.clear()
        push(count, 6000)  # queued before the clock starts: a full queue
        start = time.perf_counter()
        if not wait_until(lambda: answered(count), 600, 0.02):
            raise BenchError("the local runner did not answer every object in 600 s")
        elapsed = time.perf_counter() - start
    finally:
        stop.set()
        thread.join()
    return round(count / elapsed, 2)


def _naive(config: BenchConfig, stack: Any, clip: bytes, artifact: Path) -> dict[str, float | None]:
    from rollcall_tools.aws import AwsTarget
    from rollcall_tools.bench.naive import naive_invocation

    target = AwsTarget(endpoint_url=stack.endpoint)
    clients = {n: target.client(n) for n in ("s3", "dynamodb", "sqs")}
    queue = stack.sqs.create_queue(QueueName=f"naive-{stack.bucket}")["QueueUrl"]
    walls = []
    for i in range(config.naive_clips):
        key = clip_key(9000 + i, device="bench", session="naive")
        stack.s3.put_object(Bucket=stack.bucket, Key=key, Body=clip)
        walls.append(
            naive_invocation(
                s3=clients["s3"],
                dynamodb=clients["dynamodb"],
                sqs=clients["sqs"],
                bucket=stack.bucket,
                key=key,
                table=stack.table,
                queue_url=queue,
                model_dir=artifact,
            )
        )
        _say(config, f"naive clip {i + 1}: {walls[-1]:.0f} ms")
    return latency_stats(walls)


def _payload(config: BenchConfig, artifact: Path, workdir: Path) -> float | None:
    """MB (10^6 bytes) of the x86_64 image's task root: Python 3.12 wheels from PyPI."""
    from rollcall_tools.errors import ToolsError
    from rollcall_tools.task_root import assemble, workspace_root

    _say(config, "assembling the x86_64 task root (Python 3.12 wheels) for its size")
    try:
        task = assemble(workdir / "task-root-x86_64", root=workspace_root(), artifact=artifact)
    except ToolsError as exc:
        _say(config, f"payload not measured: {exc}")
        return None
    return round(task.size_bytes / 1e6, 1)


def print_tables(report: dict[str, Any], console: Console) -> None:
    """The report as rich tables."""
    table = Table(title=f"warm time per 0.5 s clip ({report['model']}, {report['threads']} thread)")
    table.add_column("clip")
    table.add_column("median ms", justify="right")
    table.add_column("p95 ms", justify="right")
    for stage in (*STAGES, "idempotency_and_send"):
        table.add_column(stage, justify="right")
    for res, row in report["warm_ms"].items():
        table.add_row(
            res,
            str(row["median"]),
            str(row["p95"]),
            *(str(row["stages_ms"][s]) for s in (*STAGES, "idempotency_and_send")),
        )
    console.print(table)
    summary = Table(title="against the targets")
    for column in ("measure", "measured", "target", "met"):
        summary.add_column(column)
    met = report["met"]
    summary.add_row(
        "warm median, 720p",
        f"{report['warm_ms']['720p']['median']} ms",
        f"<= {TARGETS['warm_median_720p_ms']:g} ms",
        str(met["warm_median_720p_ms"]),
    )
    summary.add_row(
        "cold start", f"{report['cold_start_s']} s", f"<= {TARGETS['cold_start_s']:g} s",
        str(met["cold_start_s"]),
    )  # fmt: skip
    summary.add_row(
        "local runner", f"{report['clips_per_s']} clips/s", f">= {TARGETS['clips_per_s']:g}",
        str(met["clips_per_s"]),
    )  # fmt: skip
    summary.add_row(
        "image task root", f"{report['payload_mb']} MB", f"<= {TARGETS['payload_mb']:g} MB",
        str(met["payload_mb"]),
    )  # fmt: skip
    console.print(summary)
    for key, label in (("torch_ratio_720p", "MTCNN on torch"), ("naive_ratio_720p", "naive")):
        if report[key] is not None:
            console.print(f"{label} / ours at 720p: {report[key]}x")
    change = report["library_change"]
    console.print(
        f"gallery from the face library / from the artifact at 720p: "
        f"{report['library_ratio_720p']}x; a library change reached a warm reader in "
        f"<= {change['change_to_warm_s_max']} s (poll {change['poll_s']:g} s)"
    )
