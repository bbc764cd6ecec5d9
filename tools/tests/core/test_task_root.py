"""The image's task root, assembled without Docker: what it holds, and that the handler
answers a real clip from it alone (an isolated interpreter, serving's unused packages and
torch unimportable)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rollcall_testkit as testkit
from rollcall_testkit.clips import make_clip
from rollcall_testkit.handler_stack import body, clip_key, make_stack, s3_event, sqs_event
from rollcall_tools.task_root import FORBIDDEN, NOT_SERVED, assemble, workspace_root

pytestmark = pytest.mark.slow
ROOT = workspace_root()

_CHILD = """
import json, sys
sys.path[:0] = [sys.argv[3]]
import sitecustomize  # -I -S skip site: install the import blocker by hand
sys.path[:1] = [sys.argv[1]]
from cloud_handler.context import LocalContext
from cloud_handler.handler import lambda_handler
print(json.dumps(lambda_handler(json.loads(sys.argv[2]), LocalContext(timeout_s=60))))
"""


@pytest.fixture(scope="module")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The task root for this interpreter's Python and platform (the locked wheels, resolved
    against the package index: an empty uv cache is enough)."""
    from face_model.artifact import export_detection_only

    tmp = tmp_path_factory.mktemp("image")
    export_detection_only(tmp / "artifact")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    task = assemble(
        tmp / "task",
        root=ROOT,
        artifact=tmp / "artifact",
        python=version,
        platform="x86_64-manylinux_2_28",
    )
    names = task.distributions()
    assert {"cloud-handler", "face-model", "shared-schema", "onnxruntime", "av"} <= set(names)
    assert not [n for n in names if FORBIDDEN.match(n) or n in NOT_SERVED]
    assert (task.path / "model" / "manifest.json").is_file()
    assert not (task.path / "numpy" / "_core" / "tests").exists()
    assert not list((task.path / "onnxruntime" / "capi").glob("libonnxruntime.so*"))
    assert not (task.path / "onnxruntime" / "transformers").exists()
    assert sorted(p.name for p in (task.path / "botocore" / "data").iterdir() if p.is_dir()) == [
        "dynamodb", "s3", "sns", "sqs", "sts",
    ]  # fmt: skip
    return task.path


def test_the_handler_answers_from_the_task_root_alone(
    task_root: Path, moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    stack = make_stack(moto_url)
    record = stack.put(clip_key(1), make_clip(640, 480, faces=1))
    blocker = tmp_path / "blocked"
    env = testkit.blocking_env(
        blocker,
        [*testkit.SERVING_NEVER_IMPORTS, *NOT_SERVED],
        {**os.environ, **stack.env, "ROLLCALL_MODEL_DIR": str(task_root / "model")},
    )
    event = json.dumps(sqs_event(body(s3_event(record))))
    done = subprocess.run(  # -I: no user site, no PYTHON* variables; -S: no site-packages
        [sys.executable, "-I", "-S", "-c", _CHILD, str(task_root), event, str(blocker)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {"batchItemFailures": []}
    [result] = stack.results()
    assert result.status.value == "unknown" and len(result.faces) == 1  # detection only


def test_dockerfile_copies_the_task_root_onto_the_lambda_base_image() -> None:
    dockerfile = (ROOT / "packages" / "cloud-handler" / "Dockerfile").read_text()
    assert re.search(r"^FROM public\.ecr\.aws/lambda/python:3\.12$", dockerfile, re.MULTILINE)
    assert "COPY build/image/${ARCH}/ ${LAMBDA_TASK_ROOT}/" in dockerfile
    assert "pip install" not in dockerfile  # nothing resolved in the image: no drift
    [cmd] = re.findall(r'^CMD \["([^"]+)"\]$', dockerfile, re.MULTILINE)
    assert cmd == "cloud_handler.handler.lambda_handler"
    ignore = (ROOT / "packages" / "cloud-handler" / "Dockerfile.dockerignore").read_text()
    assert "!build/image/x86_64/" in ignore and "!build/image/arm64/" in ignore
