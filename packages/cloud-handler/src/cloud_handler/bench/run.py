"""Run the benchmark in one process (plus a moto server and one cold-start child process)."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESOLUTIONS = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}
TARGETS = {"warm_median_720p_ms": 100.0, "cold_start_s": 3.0, "naive_ratio_720p": 10.0}
STAGES = ("download", "decode", "detect", "embed", "lookup")
PERSON = "eileen_collins"
CKPT = Path("mobilefacenet-casia", "mobilefacenet_casia.ckpt")


class BenchError(RuntimeError):
    """The benchmark cannot run (a dependency or the local endpoint is missing)."""


@dataclass
class BenchConfig:
    """What to measure and how much."""

    clips: int = 12
    naive_clips: int = 3
    runner_clips: int = 16
    workers: int = 2
    model_dir: Path | None = None
    threads: int = 2
    progress: Console | None = None


def _say(config: BenchConfig, message: str) -> None:
    if config.progress is not None:
        config.progress.print(f"[dim]bench:[/dim] {message}", highlight=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_moto() -> tuple[subprocess.Popen[bytes], str]:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        raise BenchError("the benchmark needs moto[server] (a dev dependency): uv sync") from None
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise BenchError("moto server did not start within 30 s")


def _model(config: BenchConfig, workdir: Path) -> tuple[str | None, str]:
    """(artifact dir or None for detection-only, a description)."""
    if config.model_dir:
        return str(config.model_dir), f"artifact {config.model_dir}"
    shared = os.environ.get("ROLLCALL_SHARED_MODELS")
    if shared and (Path(shared) / CKPT).is_file():
        from PIL import Image

        from cloud_handler.synth import astronaut
        from face_model.artifact import export_model
        from face_model.training import build_model

        photo = workdir / "astronaut.png"
        Image.fromarray(astronaut()).save(photo)
        build_model(
            {PERSON: [photo]},
            backbone="mobilefacenet",
            weights=Path(shared) / CKPT,
            out=workdir / "model",
        )
        export_model(workdir / "model", workdir / "artifact")
        return str(workdir / "artifact"), "pretrained MobileFaceNet (ROLLCALL_SHARED_MODELS)"
    return None, "detection-only (ROLLCALL_SHARED_MODELS not set)"


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median": round(statistics.median(ordered), 1), "p95": round(p95, 1)}


def run_bench(config: BenchConfig) -> dict[str, Any]:
    """Measure everything; returns the JSON-able report."""
    moto, endpoint = _start_moto()
    try:
        with tempfile.TemporaryDirectory(prefix="rollcall-bench-") as tmp:
            return _run(config, endpoint, Path(tmp))
    finally:
        moto.terminate()
        moto.wait(timeout=10)


def _run(config: BenchConfig, endpoint: str, workdir: Path) -> dict[str, Any]:
    import torch

    from cloud_handler.synth import make_clip
    from cloud_handler.testing import make_stack

    # the handler's JSON logs and EMF metrics would drown the report (here and in workers)
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    torch.set_num_threads(config.threads)
    _say(config, "preparing model and clips")
    model_dir, model_note = _model(config, workdir)
    stack = make_stack(endpoint)
    stack.seed([{"name": PERSON, "major": "astronautics", "year": "senior"}])
    env = {**stack.env, "ROLLCALL_THREADS": str(config.threads)}
    env.pop("ROLLCALL_AWS_BACKOFF_BASE_S")
    if model_dir:
        env["ROLLCALL_MODEL_DIR"] = model_dir
    os.environ.update(env)
    for name in ("ROLLCALL_MODEL_S3_URI",) + (() if model_dir else ("ROLLCALL_MODEL_DIR",)):
        os.environ.pop(name, None)
    clips = {
        res: make_clip(w, h, faces=1, duration_s=0.5, fps=30) for res, (w, h) in RESOLUTIONS.items()
    }

    report: dict[str, Any] = {
        "model": model_note,
        "threads": config.threads,
        "cpus": os.cpu_count(),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        "clip": "0.5 s, 30 fps, H.264, one face (skimage astronaut)",
    }
    _say(config, "cold start (new process to first result)")
    report["cold_start_s"], report["cold_start_split_s"] = _cold_start(stack, clips["720p"], env)
    _say(config, "warm service time")
    report["warm_ms"] = _warm(config, stack, clips)
    _say(config, f"local runner throughput ({config.workers} process workers)")
    report["clips_per_s"] = _throughput(config, stack, clips["720p"])
    report["runner"] = {"workers": config.workers, "mode": "process", "clips": config.runner_clips}
    _say(config, "naive baseline")
    from cloud_handler.bench.naive import extractor_name

    naive = _naive(config, stack, clips["720p"], model_dir)
    report["naive_ms_720p"] = naive
    report["naive_extractor"] = extractor_name()
    ours = report["warm_ms"]["720p"]["median"]
    report["naive_ratio_720p"] = round(naive["median"] / ours, 1) if ours else None
    report["targets"] = TARGETS
    report["met"] = {
        "warm_median_720p_ms": ours <= TARGETS["warm_median_720p_ms"],
        "cold_start_s": report["cold_start_s"] <= TARGETS["cold_start_s"],
        "naive_ratio_720p": (report["naive_ratio_720p"] or 0) >= TARGETS["naive_ratio_720p"],
    }
    report["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    return report


def _event_body(record: dict[str, Any]) -> str:
    return json.dumps({"Records": [record]})


def _warm(config: BenchConfig, stack: Any, clips: dict[str, bytes]) -> dict[str, Any]:
    from cloud_handler.context import LocalContext
    from cloud_handler.handler import lambda_handler
    from cloud_handler.runtime import get_runtime, reset_runtime
    from cloud_handler.testing import clip_key, sqs_event

    reset_runtime()
    get_runtime()
    out: dict[str, Any] = {}
    seq = 1000
    for res, data in clips.items():
        walls: list[float] = []
        for i in range(config.clips + 2):
            seq += 1
            record = stack.put(clip_key(seq, device="bench", session=res), data)
            event = sqs_event(_event_body(record))
            start = time.perf_counter()
            lambda_handler(event, LocalContext(timeout_s=60))
            if i >= 2:  # the first two of each size warm caches up
                walls.append((time.perf_counter() - start) * 1000)
        results = stack.results()[2:]
        stages = {
            s: round(statistics.median(getattr(r.timings, f"{s}_ms") for r in results), 1)
            for s in (*STAGES, "total")
        }
        stages["idempotency_and_send"] = round(
            max(0.0, statistics.median(walls) - stages["total"]), 1
        )
        statuses = sorted({r.status.value for r in results})
        out[res] = {**_stats(walls), "stages_ms": stages, "statuses": statuses}
        _say(config, f"{res}: median {out[res]['median']} ms, p95 {out[res]['p95']} ms")
    return out


_COLD_CHILD = """
import json, sys, time
t0 = time.time()
from cloud_handler.context import LocalContext
from cloud_handler.handler import lambda_handler
from cloud_handler.runtime import get_runtime
t_import = time.time()
get_runtime()
t_init = time.time()
lambda_handler(json.loads(sys.argv[1]), LocalContext(timeout_s=60))
t_done = time.time()
print(json.dumps({"start": t0, "import": t_import, "init": t_init, "done": t_done}))
"""


def _cold_start(stack: Any, clip: bytes, env: dict[str, str]) -> tuple[float, dict[str, float]]:
    from cloud_handler.testing import clip_key, sqs_event

    record = stack.put(clip_key(1, device="bench", session="cold"), clip)
    event = json.dumps(sqs_event(_event_body(record)))
    spawned = time.time()
    done = subprocess.run(
        [sys.executable, "-c", _COLD_CHILD, event],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"cold-start child failed: {done.stderr.strip()[-500:]}")
    marks = json.loads(done.stdout.strip().splitlines()[-1])
    stack.results()
    split = {
        "interpreter_start": round(marks["start"] - spawned, 2),
        "imports": round(marks["import"] - marks["start"], 2),
        "init_model_and_clients": round(marks["init"] - marks["import"], 2),
        "first_clip": round(marks["done"] - marks["init"], 2),
    }
    return round(marks["done"] - spawned, 2), split


def _throughput(config: BenchConfig, stack: Any, clip: bytes) -> float:
    from cloud_handler.local_runner import RunnerConfig, run_local, wait_until
    from cloud_handler.testing import clip_key

    def push(n: int, offset: int) -> None:
        for i in range(n):
            record = stack.put(clip_key(offset + i, device="bench", session="runner"), clip)
            stack.sqs.send_message(QueueUrl=stack.events_queue_url, MessageBody=_event_body(record))

    seen: list[Any] = []

    def answered(n: int) -> bool:
        seen.extend(stack.results())
        return len(seen) >= n

    stop = threading.Event()
    runner = RunnerConfig(
        queue=stack.events_queue_url,
        endpoint_url=stack.endpoint,
        workers=config.workers,
        mode="process",
        wait_time_s=1,
        visibility_timeout_s=60,
        batch_size=1,
        threads_per_worker=max(1, config.threads // config.workers),
    )
    thread = threading.Thread(target=run_local, args=(runner,), kwargs={"stop": stop})
    thread.start()
    try:
        push(config.workers * 2, 5000)  # warm every worker (model load) first
        if not wait_until(lambda: answered(config.workers * 2), 300):
            raise BenchError("the local runner did not answer the warm-up clips in 300 s")
        seen.clear()
        start = time.perf_counter()
        push(config.runner_clips, 6000)
        if not wait_until(lambda: answered(config.runner_clips), 600, 0.05):
            raise BenchError("the local runner did not answer every clip in 600 s")
        elapsed = time.perf_counter() - start
    finally:
        stop.set()
        thread.join()
    return round(config.runner_clips / elapsed, 2)


def _naive(config: BenchConfig, stack: Any, clip: bytes, model_dir: str | None) -> dict[str, float]:
    import boto3

    from cloud_handler.bench.naive import naive_invocation
    from cloud_handler.testing import clip_key

    session = boto3.session.Session(region_name="us-east-1")
    clients = {n: session.client(n, endpoint_url=stack.endpoint) for n in ("s3", "dynamodb", "sqs")}
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
                model_dir=model_dir,
            )
        )
        _say(config, f"naive clip {i + 1}: {walls[-1]:.0f} ms")
    return _stats(walls)


def print_tables(report: dict[str, Any], console: Console) -> None:
    """The report as rich tables."""
    table = Table(title=f"warm service time per clip ({report['model']})")
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
        "<= 100 ms",
        str(met["warm_median_720p_ms"]),
    )
    summary.add_row("cold start", f"{report['cold_start_s']} s", "<= 3 s", str(met["cold_start_s"]))
    summary.add_row(
        "naive / ours, 720p",
        f"{report['naive_ratio_720p']}x ({report['naive_ms_720p']['median']} ms naive)",
        ">= 10x",
        str(met["naive_ratio_720p"]),
    )
    summary.add_row("local runner", f"{report['clips_per_s']} clips/s", "-", "-")
    console.print(summary)
