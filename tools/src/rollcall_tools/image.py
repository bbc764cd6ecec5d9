"""Build cloud-handler's container image, log Docker in to ECR, and push it."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rollcall_tools.aws import AwsTarget, aws_errors, if_present
from rollcall_tools.errors import ConfigError, JobFailedError, ServiceUnreachableError
from rollcall_tools.stack.names import StackNames
from rollcall_tools.task_root import TaskRoot, assemble

DOCKERFILE = Path("packages/cloud-handler/Dockerfile")
BUILD_DIR = Path("build/image")
"""Task roots go to ``BUILD_DIR/<architecture>/``, what the Dockerfile copies."""
DOCKER_PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}
_INFO_TIMEOUT_S = 20


@dataclass(frozen=True)
class ImagePlan:
    """What build-image will do."""

    dockerfile: Path
    context: Path
    repository_uri: str
    tag: str
    architecture: str = "x86_64"

    @property
    def reference(self) -> str:
        return f"{self.repository_uri}:{self.tag}"


def docker_binary() -> str:
    """The docker client's path, after checking that an engine answers it and that the
    buildx plugin is there (the build's flags are buildx's)."""
    docker = shutil.which("docker")
    if docker is None:
        raise ConfigError(
            "docker is not installed: build-image needs the Docker CLI and a running Docker "
            "Engine (https://docs.docker.com/engine/install/), or run it on a machine that has them"
        )
    probe = _probe(docker, "info", "--format", "{{.ServerVersion}}")
    if probe is None or probe.returncode != 0 or not probe.stdout.strip():
        detail = (probe.stderr.strip().splitlines() or [""])[-1] if probe else "timed out"
        raise ServiceUnreachableError(
            f"the docker client is installed but no Docker Engine answers it ({detail}): "
            "start the engine (e.g. `sudo systemctl start docker`) or run build-image where "
            "one runs"
        )
    _check_buildx(docker)
    return docker


def _check_buildx(docker: str) -> None:
    """Raise ConfigError unless ``docker buildx`` answers."""
    probe = _probe(docker, "buildx", "version")
    if probe is None or probe.returncode != 0:
        raise ConfigError(
            "docker buildx is not installed: build-image builds with buildx (one platform, "
            "loaded into the engine, then pushed); install the plugin (Debian/Ubuntu: "
            "`sudo apt install docker-buildx-plugin`; Docker Desktop has it)"
        )


def _probe(docker: str, *args: str) -> subprocess.CompletedProcess[str] | None:
    """``docker ARGS``' output, or None when it does not answer in time."""
    try:
        return subprocess.run(
            [docker, *args], capture_output=True, text=True, timeout=_INFO_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return None


def plan_image(
    target: AwsTarget, names: StackNames, root: Path, tag: str, architecture: str
) -> ImagePlan:
    """Check the Dockerfile and the ECR repository, and name the image."""
    dockerfile = root / DOCKERFILE
    if not dockerfile.is_file():
        raise ConfigError(f"Dockerfile not found: {dockerfile} (run from the repository root)")
    ecr = target.client("ecr")
    with aws_errors(f"looking up ECR repository {names.repository}"):
        found = if_present(ecr.describe_repositories, repositoryNames=[names.repository])
    if found is None:
        raise ConfigError(
            f"ECR repository {names.repository} does not exist in {target.region}: "
            "run `tools deploy` first"
        )
    uri = str(found["repositories"][0]["repositoryUri"])
    return ImagePlan(dockerfile, root, uri, tag, architecture)


def prepare_task_root(
    root: Path, *, model_dir: Path | None, architecture: str, progress: Callable[[str], None]
) -> TaskRoot:
    """Assemble ``build/image/<architecture>/`` (the image's task root) with the artifact
    ``model_dir``, or a detection-only artifact exported here when it is None."""
    from face_model import FaceModelError
    from face_model.artifact import export_detection_only

    build = root / BUILD_DIR
    artifact = model_dir
    if artifact is None:
        artifact = build / "detection-only-model"
        progress(f"exporting a detection-only artifact to {artifact}")
        try:
            export_detection_only(artifact)
        except FaceModelError as exc:
            raise ConfigError(f"cannot export the detection-only artifact: {exc}") from None
    progress(f"assembling the {architecture} task root in {build / architecture}")
    return assemble(build / architecture, root=root, artifact=artifact, architecture=architecture)


def _run(args: list[str], what: str, stdin: str | None = None) -> None:
    done = subprocess.run(args, input=stdin, text=True, check=False)
    if done.returncode != 0:
        raise JobFailedError(f"{what} failed (exit {done.returncode}): see docker's output above")


def build_arguments(docker: str, plan: ImagePlan) -> list[str]:
    """``docker buildx build`` of one platform, loaded into the local engine (``--load``:
    a docker-container builder would otherwise keep it in its cache), as a single image
    manifest that Lambda accepts (no provenance or SBOM attestations, which make an index)."""
    return [
        docker,
        "buildx",
        "build",
        "--platform",
        DOCKER_PLATFORMS[plan.architecture],
        "--build-arg",
        f"ARCH={plan.architecture}",
        "--load",
        "--provenance=false",
        "--sbom=false",
        "-f",
        str(plan.dockerfile),
        "-t",
        plan.reference,
        str(plan.context),
    ]


def build_and_push(target: AwsTarget, plan: ImagePlan, docker: str, *, push: bool) -> None:
    """docker buildx build, then (``push``) ECR login with a fresh token and docker push."""
    _run(build_arguments(docker, plan), "docker buildx build")
    if not push:
        return
    with aws_errors("getting an ECR login token"):
        auth = target.client("ecr").get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(auth["authorizationToken"]).decode().partition(":")
    registry = auth["proxyEndpoint"].removeprefix("https://")
    _run(
        [docker, "login", "--username", user, "--password-stdin", registry],
        "docker login to ECR",
        stdin=password,
    )
    _run([docker, "push", plan.reference], "docker push")
