"""Which recognizer the demo runs: enrolled from local weights, facenet-pytorch's pretrained
weights (cached or downloaded when online), or detection only. Never an untrained network."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rollcall_tools.errors import ConfigError

log = logging.getLogger(__name__)

FACENET_VGGFACE2_URL = (
    "https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/"
    "20180402-114759-vggface2.pt"
)
FACENET_BACKBONE = "inception-resnet-v1"
_PROBE = ("github.com", 443)
_PROBE_TIMEOUT_S = 3.0

Mode = Literal["pretrained", "detection-only"]


@dataclass(frozen=True)
class RecognizerChoice:
    """The recognizer the local runner will load, and the one line that says so."""

    mode: Mode
    artifact_dir: Path | None
    backbone: str
    note: str
    people: tuple[str, ...] = ()


def facenet_cached_weights() -> Path:
    """Where facenet-pytorch caches its VGGFace2 weights: ``$TORCH_HOME/checkpoints``, the
    layout of its ``get_torch_home`` (copied, because importing it costs a torch import)."""
    torch_home = os.getenv("TORCH_HOME") or str(
        Path(os.getenv("XDG_CACHE_HOME", "~/.cache")) / "torch"
    )
    return Path(torch_home).expanduser() / "checkpoints" / Path(FACENET_VGGFACE2_URL).name


def online() -> bool:
    """Can this machine reach GitHub (where facenet-pytorch's weights live)?"""
    try:
        with socket.create_connection(_PROBE, timeout=_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def fetch_facenet_weights(*, allow_download: bool) -> Path | None:
    """facenet-pytorch's pretrained VGGFace2 weights: from its cache, else downloaded when
    ``allow_download`` and online; None when neither is possible."""
    cached = facenet_cached_weights()
    if cached.is_file():
        return cached
    if not allow_download or not online():
        return None
    from face_model import FaceModelError
    from face_model.fetch import PUBLISHED, download

    published = PUBLISHED["vggface2"]
    cached.parent.mkdir(parents=True, exist_ok=True)
    try:  # facenet-pytorch publishes no checksum; face-model pins one when it knows it
        download(published.url, cached, sha256=published.sha256, timeout=60.0)
    except (FaceModelError, OSError) as exc:
        log.warning("could not download facenet-pytorch's weights: %s", exc)
        return None
    return cached


def build_artifact(
    backbone: str, weights: Path, people: Mapping[str, Sequence[Path]], work_dir: Path
) -> tuple[Path, tuple[str, ...]]:
    """Enroll ``people`` with face-model and export the artifact the handler loads."""
    from face_model import FaceModelError, build_model, export_model

    if not weights.is_file():
        raise ConfigError(f"--weights {weights}: no such file")
    model_dir, artifact_dir = work_dir / "model", work_dir / "artifact"
    try:
        _, report = build_model(people, backbone=backbone, weights=weights, out=model_dir)
        export_model(model_dir, artifact_dir)
    except ValueError as exc:  # unknown backbone name
        raise ConfigError(f"--backbone {backbone!r}: {exc}") from None
    except FaceModelError as exc:
        raise ConfigError(f"cannot build the recognizer from {weights}: {exc}") from None
    for issue in report.issues:
        log.info("enrollment: %s: %s (%s)", issue.path, issue.kind, issue.detail)
    return artifact_dir, tuple(sorted(report.enrolled))


def choose_recognizer(
    *,
    backbone: str | None,
    weights: Path | None,
    people: Mapping[str, Sequence[Path]],
    work_dir: Path,
    allow_download: bool,
) -> RecognizerChoice:
    """Local weights, else facenet-pytorch's pretrained weights, else detection only."""
    if weights is not None:
        if not backbone:
            raise ConfigError(
                "--weights needs --backbone (ROLLCALL_BACKBONE): mobilefacenet or "
                "inception-resnet-v1"
            )
        artifact, enrolled = build_artifact(backbone, weights, people, work_dir)
        return RecognizerChoice(
            "pretrained",
            artifact,
            backbone,
            f"recognizer: {backbone} with weights {weights.name}, "
            f"{len(enrolled)} person(s) enrolled",
            enrolled,
        )
    facenet = fetch_facenet_weights(allow_download=allow_download) if people else None
    if facenet is not None:
        try:
            artifact, enrolled = build_artifact(FACENET_BACKBONE, facenet, people, work_dir)
        except ConfigError as exc:
            return _detection_only(f"facenet-pytorch's weights are unusable ({exc.message})")
        return RecognizerChoice(
            "pretrained",
            artifact,
            FACENET_BACKBONE,
            f"recognizer: facenet-pytorch InceptionResnetV1 (VGGFace2), "
            f"{len(enrolled)} person(s) enrolled",
            enrolled,
        )
    if not people:
        return _detection_only("nobody to enroll (no --gallery)")
    return _detection_only(
        "no --weights, and facenet-pytorch's pretrained weights are neither cached nor downloadable"
    )


def _detection_only(why: str) -> RecognizerChoice:
    return RecognizerChoice(
        "detection-only",
        None,
        "none",
        f"running DETECTION ONLY ({why}): faces are found, nobody is named",
    )
