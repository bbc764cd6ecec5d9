"""The local stack's library at start: networks for the runner, and an artifact's gallery
imported into the library (so that `--model-dir` keeps naming its people)."""

from __future__ import annotations

from pathlib import Path

from rollcall_tools.aws import AwsTarget
from rollcall_tools.errors import ConfigError
from rollcall_tools.faces.library import Library
from rollcall_tools.stack.names import StackNames

NETWORKS_DIR = "networks"


def default_networks(state_dir: Path) -> Path:
    """The default backbone's networks with nobody enrolled, exported once under
    ``state_dir`` (the local runner's artifact when `tools local up` has no --model-dir)."""
    from face_model import FaceModelError
    from face_model.artifact import MANIFEST_FILE, export_networks
    from face_model.backbones import DEFAULT_BACKBONE

    out = state_dir / NETWORKS_DIR
    if not (out / MANIFEST_FILE).is_file():
        try:
            export_networks(DEFAULT_BACKBONE, out)
        except FaceModelError as exc:
            raise ConfigError(f"cannot export the default networks to {out}: {exc}") from None
    return out.resolve()


def import_gallery(target: AwsTarget, names: StackNames, artifact: Path) -> dict[str, int]:
    """Enroll ``artifact``'s gallery when it has people and the library is still empty."""
    from face_model.artifact import read_manifest
    from rollcall_tools.faces.actions import import_artifact

    if not read_manifest(artifact, verify=False).get("people"):
        return {}
    library = Library(target, names)
    if library.version():
        return {}
    return import_artifact(library, artifact)
