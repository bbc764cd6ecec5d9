"""Configuration errors in every CLI: missing bucket or queue, wrong region, bad credentials,
an unreachable endpoint, missing files. Each must print a short, clear message on stderr
(naming what is wrong), exit non-zero with the documented code, and never a traceback.

The CLIs run as real subprocesses (in parallel, once per module) against a moto server;
"unreachable" is a closed port on 127.0.0.1.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer

from rollcall_testkit.prerequisites import SHARED_DATA, SHARED_MODELS
from rollcall_tools.aws import AwsTarget
from rollcall_tools.local.processes import clean_environment

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
REGION = "us-east-1"
BUCKET, QUEUE = "cfg-clips", "cfg-results"
MODULES = {
    "edge-capture": "edge_capture.cli",
    "tools": "rollcall_tools.cli",
    "cloud-handler": "cloud_handler.cli",
    "face-model": "face_model.cli",
}
KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@dataclass(frozen=True)
class Case:
    """One bad configuration for one CLI and what it must produce."""

    id: str
    cli: str
    args: list[str]
    codes: tuple[int, ...]
    says: tuple[str, ...]
    """At least one of these (lower case) must appear in stderr."""
    env: dict[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def _write_inputs(tmp: Path) -> None:
    """The files the cases name: a valid seed file and an empty Lambda event."""
    (tmp / "seed.json").write_text(
        json.dumps([{"id": 1, "name": "Ada", "major": "Math", "year": "2020"}])
    )
    (tmp / "event.json").write_text(json.dumps({"Records": []}))


def _cases(moto: str, tmp: Path) -> list[Case]:
    dead = f"http://127.0.0.1:{_closed_port()}"
    seed, event = tmp / "seed.json", tmp / "event.json"
    no_profile = {"AWS_PROFILE": "rollcall-no-such-profile", "AWS_CONFIG_FILE": str(tmp / "none")}
    edge = ["run", "--source", "test", "--duration", "1", "--spool-dir", str(tmp / "spool")]
    ok = ["--bucket", BUCKET, "--results-queue", QUEUE]
    return [
        # edge-capture
        Case(
            "edge-no-bucket",
            "edge-capture",
            [*edge, "--results-queue", QUEUE, "--endpoint-url", moto],
            (2,),
            ("bucket",),
            unset=("ROLLCALL_BUCKET",),
        ),
        Case(
            "edge-missing-queue",
            "edge-capture",
            [*edge, "--bucket", BUCKET, "--results-queue", "cfg-nope-q", "--endpoint-url", moto],
            (2,),
            ("cfg-nope-q",),
        ),
        Case(
            "edge-wrong-region",
            "edge-capture",
            [*edge, *ok, "--endpoint-url", moto, "--region", "eu-west-3"],
            (2,),
            (QUEUE, BUCKET, "region"),
        ),
        Case(
            "edge-bad-credentials",
            "edge-capture",
            [*edge, *ok, "--endpoint-url", moto],
            (2, 3),
            ("profile", "credential"),
            env=no_profile,
            unset=KEYS,
        ),
        Case(
            "edge-unreachable",
            "edge-capture",
            [*edge, *ok, "--endpoint-url", dead],
            (3,),
            ("unreachable", "connect", "reach"),
        ),
        # tools
        Case(
            "tools-unreachable",
            "tools",
            ["deploy", "--endpoint-url", dead, "--local"],
            (3,),
            ("unreachable",),
        ),
        Case(
            "tools-bad-profile",
            "tools",
            ["deploy", "--profile", "rollcall-no-such-profile", "--dry-run"],
            (2,),
            ("profile",),
            env=no_profile,
            unset=KEYS,
        ),
        Case(
            "tools-seed-missing-table",
            "tools",
            ["seed-db", "--endpoint-url", moto, "--file", str(seed)],
            (2,),
            ("table", "deploy"),
        ),
        Case(
            "tools-seed-wrong-region",
            "tools",
            ["seed-db", "--endpoint-url", moto, "--region", "eu-west-3", "--file", str(seed)],
            (2,),
            ("table", "eu-west-3"),
        ),
        # cloud-handler
        Case(
            "handler-serve-unreachable",
            "cloud-handler",
            ["serve", "--endpoint-url", dead, "--queue", "cfg-events"],
            (2, 3),
            ("unreachable", "connect", "reach", "not set"),
        ),
        Case(
            "handler-serve-missing-queue",
            "cloud-handler",
            ["serve", "--endpoint-url", moto, "--queue", "cfg-nope-events"],
            (2,),
            ("cfg-nope-events", "not set"),
        ),
        Case(
            "handler-invoke-no-env",
            "cloud-handler",
            ["invoke", "--event", str(event)],
            (2,),
            ("rollcall_results_topic_arn", "not set"),
            unset=("ROLLCALL_RESULTS_TOPIC_ARN", "ROLLCALL_TABLE", "ROLLCALL_IDEMPOTENCY_TABLE"),
        ),
        # face-model
        Case(
            "face-model-missing-model",
            "face-model",
            ["export", "--model", str(tmp / "no-model"), "--out", str(tmp / "out")],
            (1, 2),
            ("no-model",),
        ),
    ]


@dataclass(frozen=True)
class Ran:
    code: int
    stderr: str
    stdout: str


def _run(case: Case, base_env: dict[str, str]) -> Ran | None:
    exe = BIN / case.cli
    if not exe.exists() or importlib.util.find_spec(MODULES[case.cli]) is None:
        return None
    env = {k: v for k, v in base_env.items() if k not in case.unset}
    env.update(case.env)
    proc = subprocess.run(
        [str(exe), *case.args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Ran(proc.returncode, proc.stderr, proc.stdout)


@pytest.fixture(scope="module")
def outcomes(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str
) -> Iterator[dict[str, tuple[Case, Ran | None]]]:
    aws = AwsTarget(region=REGION, endpoint_url=moto_endpoint)
    aws.client("s3").create_bucket(Bucket=BUCKET)
    aws.client("sqs").create_queue(QueueName=QUEUE)
    tmp = tmp_path_factory.mktemp("config-errors")
    _write_inputs(tmp)
    env = clean_environment(keep=[SHARED_DATA, SHARED_MODELS])
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "COLUMNS": "200",
            "NO_COLOR": "1",
            "HOME": str(tmp),
            "XDG_STATE_HOME": str(tmp / "state"),
        }
    )
    cases = _cases(moto_endpoint, tmp)
    with ThreadPoolExecutor(max_workers=4) as pool:
        ran = list(pool.map(lambda c: _run(c, env), cases))
    yield {case.id: (case, result) for case, result in zip(cases, ran, strict=True)}


@pytest.mark.parametrize("case_id", [case.id for case in _cases("http://moto", Path("tmp"))])
def test_configuration_error_is_one_clear_line(
    outcomes: dict[str, tuple[Case, Ran | None]], case_id: str
) -> None:
    case, ran = outcomes[case_id]
    assert ran is not None, f"the {case.cli} command is not installed in this environment"
    err = ran.stderr

    assert "Traceback" not in err and "Traceback" not in ran.stdout, err[-2000:]
    assert ran.code in case.codes, f"exit {ran.code}, expected {case.codes}: {err[-800:]}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "no message on stderr"
    assert len(lines) <= 3, f"expected one clear line, got {len(lines)}:\n{err[-1500:]}"
    assert any(line.startswith("error: ") for line in lines), f"no `error: ...` line: {err}"
    assert any(word.lower() in err.lower() for word in case.says), (
        f"stderr does not name {case.says}: {err[-800:]}"
    )


def _typer_apps(module: object) -> list[typer.Typer]:
    """Every Typer app a CLI module defines, with the sub-apps registered on them."""
    found: list[typer.Typer] = [v for v in vars(module).values() if isinstance(v, typer.Typer)]
    queue = list(found)
    while queue:
        app = queue.pop()
        for group in app.registered_groups:
            sub = group.typer_instance
            if sub is not None and sub not in found:
                found.append(sub)
                queue.append(sub)
    return found


@pytest.mark.parametrize("cli", sorted(MODULES))
def test_typer_pretty_exceptions_never_show_local_variables(cli: str) -> None:
    module = importlib.import_module(MODULES[cli])
    apps = _typer_apps(module)
    assert apps, f"{MODULES[cli]} defines no Typer app"
    for app in apps:
        assert app.pretty_exceptions_show_locals is False, f"{MODULES[cli]}: {app.info.name}"
