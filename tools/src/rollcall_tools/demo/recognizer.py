"""Which recognizer the demo runs: the people of the gallery enrolled with face-model (dlib's
built-in ResNet by default, or a torch backbone with local weights), or detection only when
there is nobody to enroll. Never an untrained network."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rollcall_tools.errors import ConfigError

log = logging.getLogger(__name__)

Mode = Literal["pretrained", "detection-only"]


@dataclass(frozen=True)
class RecognizerChoice:
    """The recognizer the local runner will load, and the one line that says so."""

    mode: Mode
    artifact_dir: Path | None
    backbone: str
    note: str
    people: tuple[str, ...] = ()


def build_artifact(
    backbone: str,
    weights: Path | None,
    people: Mapping[str, Sequence[Path]],
    work_dir: Path,
    progress: Callable[[str], None],
) -> tuple[Path, tuple[str, ...]]:
    """Enroll ``people`` with face-model and export the artifact the handler loads."""
    from face_model import FaceModelError, build_model, export_model
    from face_model.model_cache import ensure_all

    if weights is not None and not weights.is_file():
        raise ConfigError(f"--weights {weights}: no such file")
    model_dir, artifact_dir = work_dir / "model", work_dir / "artifact"
    try:
        from face_model.backbones import get_spec
        from face_model.detectors import builtin_networks

        spec = get_spec(backbone)
        builtin = builtin_networks() + ((spec.builtin,) if spec.builtin else ())
        ensure_all(builtin, progress=progress)
        _, report = build_model(people, backbone=backbone, weights=weights, out=model_dir)
        export_model(model_dir, artifact_dir)
    except ValueError as exc:  # unknown backbone name
        raise ConfigError(f"--backbone {backbone!r}: {exc}") from None
    except FaceModelError as exc:
        source = weights or backbone
        raise ConfigError(f"cannot build the recognizer from {source}: {exc}") from None
    for issue in report.issues:
        log.info("enrollment: %s: %s (%s)", issue.path, issue.kind, issue.detail)
    return artifact_dir, tuple(sorted(report.enrolled))


def choose_recognizer(
    *,
    backbone: str | None,
    weights: Path | None,
    people: Mapping[str, Sequence[Path]],
    work_dir: Path,
    progress: Callable[[str], None],
) -> RecognizerChoice:
    """The gallery enrolled with ``backbone`` (default: dlib's ResNet), else detection only."""
    from face_model.backbones import DEFAULT_BACKBONE

    if not people:
        if weights is not None:
            raise ConfigError("--weights needs --gallery DIR (photos of the people to enroll)")
        return RecognizerChoice(
            "detection-only",
            None,
            "none",
            "running DETECTION ONLY (nobody to enroll: no --gallery): faces are found, "
            "nobody is named",
        )
    if weights is not None and not backbone:
        raise ConfigError(
            "--weights needs --backbone (ROLLCALL_BACKBONE): mobilefacenet or inception-resnet-v1"
        )
    backbone = backbone or DEFAULT_BACKBONE
    artifact, enrolled = build_artifact(backbone, weights, people, work_dir, progress)
    source = f"weights {weights.name}" if weights else "built in"
    return RecognizerChoice(
        "pretrained",
        artifact,
        backbone,
        f"recognizer: {backbone} ({source}), {len(enrolled)} person(s) enrolled: "
        + ", ".join(enrolled),
        enrolled,
    )
