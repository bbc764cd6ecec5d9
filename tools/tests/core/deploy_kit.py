"""Helpers of the deploy tests (moto's and a real account's): a stack resolved with settings,
and an image pushed to ECR as `docker push` leaves it."""

from __future__ import annotations

import json
from typing import Any

from rollcall_tools.aws import AwsTarget
from rollcall_tools.stack.deploy import Stack
from rollcall_tools.stack.settings import StackSettings


def resolve_stack(target: AwsTarget, prefix: str, **settings: Any) -> Stack:
    """The stack ``prefix`` with these ``StackSettings`` fields (not deployed)."""
    return Stack.resolve(target, prefix, StackSettings(**settings))


def push_image(target: AwsTarget, repository: str, tag: str = "latest", n: int = 0) -> str:
    """What `docker push` leaves in ECR: a manifest under a tag (moto stores it); its digest."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": f"sha256:{n:064x}", "size": 1, "mediaType": "x"},
        "layers": [],
    }
    image = target.client("ecr").put_image(
        repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag
    )
    return str(image["image"]["imageId"]["imageDigest"])
