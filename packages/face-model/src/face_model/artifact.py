"""Export a trained model to a self-contained artifact directory and read it back.

An artifact holds everything serving needs, as ONNX + numpy data: the face detector
(``detector/*.onnx``; the manifest's ``detector.name`` says which, see
:mod:`face_model.detectors`; older manifests without one hold MTCNN), the embedding
network (``embedding.onnx``), the gallery (``gallery.npz``) and ``manifest.json`` with
settings and the sha256 of every file.
A detection-only artifact has no embedder and no gallery.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from face_model.backbones import get_spec
from face_model.detect import DEFAULT_MIN_FACE_SIZE, DEFAULT_MIN_PROBABILITY, DetectorKind
from face_model.detectors import cached_networks, detector_kind
from face_model.errors import ArtifactError, UntrainedModelError
from face_model.gallery import pairwise_similarity
from face_model.model_dir import TrainedModel, load_model
from face_model.weights import sha256_file

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
ONNX_FILE = "embedding.onnx"
GALLERY_FILE = "gallery.npz"
FORMAT = "rollcall-face-artifact/2"
DETECTION_ONLY = "none"
OPSET = 17
PARITY_TOLERANCE = 1e-4
DEGENERATE_SIMILARITY = 0.99


def package_version(name: str) -> str:
    """Installed version of a distribution, or 'unknown'."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_model` wrote."""

    directory: Path
    manifest: dict[str, Any]
    parity_max_abs_diff: float | None


def degenerate_similarity(model: TrainedModel) -> float | None:
    """Lowest similarity between two enrolled people's centroids (None with < 2 people).

    Random networks map every face to nearly the same vector (cosine >= 0.999); trained
    ones keep different people far apart.
    """
    people, centroids = model.gallery.centroids()
    if len(people) < 2:
        return None
    sims = pairwise_similarity(centroids, centroids, model.gallery.metric)
    return float(sims[~np.eye(len(people), dtype=bool)].min())


def _export_torch_onnx(model: TrainedModel, path: Path) -> None:
    import torch

    assert model.net is not None
    dummy = torch.zeros(2, 3, *model.spec.input_size)
    with warnings.catch_warnings():
        # The TorchScript exporter (dynamo=False) needs no onnxscript and handles both
        # torch backbones; torch >= 2.9 flags it, and its internal helpers, as deprecated.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model.net.eval(),
            (dummy,),
            str(path),
            input_names=["input"],
            output_names=["features"],
            dynamic_axes={"input": {0: "batch"}, "features": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )


def check_parity(model: TrainedModel, onnx_path: Path, crops: np.ndarray | None = None) -> float:
    """Max abs difference of embeddings, torch vs onnxruntime (torch backbones)."""
    from face_model.embed import OnnxEmbedder

    spec = model.spec
    if crops is None:
        rng = np.random.default_rng(0)
        crops = rng.integers(0, 256, size=(4, *spec.input_size, 3), dtype=np.uint8)
    reference = model.embedder()(list(crops))
    exported = OnnxEmbedder(onnx_path, spec)(list(crops))
    return float(np.abs(reference - exported).max())


def _write_embedder(
    model: TrainedModel, staging: Path, parity_crops: np.ndarray | None
) -> float | None:
    """embedding.onnx: exported from torch (parity-checked) or copied from the cache."""
    target = staging / ONNX_FILE
    if model.net is None:
        assert model.onnx_path is not None
        shutil.copyfile(model.onnx_path, target)
        if model.config.weights_sha256 and sha256_file(target) != model.config.weights_sha256:
            raise ArtifactError(
                f"{model.onnx_path} changed since the model was enrolled; enroll again"
            )
        return None
    _export_torch_onnx(model, target)
    diff = check_parity(model, target, parity_crops)
    if not diff <= PARITY_TOLERANCE:
        raise ArtifactError(
            f"ONNX export differs from torch by {diff:.2e} (tolerance {PARITY_TOLERANCE:.0e})"
        )
    return diff


def _write_detector(
    staging: Path, *, min_face_size: int, min_detection_probability: float
) -> dict[str, Any]:
    """The default detector's networks from face-model's cache (built on first need); the
    manifest's ``detector`` block."""
    kind = detector_kind()
    for key, path in cached_networks(kind.name).items():
        target = staging / kind.files[key]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return {
        "name": kind.name,
        "source": kind.source(),
        "files": dict(kind.files),
        "min_face_size": min_face_size,
        "min_detection_probability": min_detection_probability,
    }


def _finish(staging: Path, out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Hash every staged file into the manifest, then copy the artifact to ``out`` (which
    the caller checked with :func:`_check_target` before staging)."""
    files = {
        p.relative_to(staging).as_posix(): sha256_file(p)
        for p in sorted(staging.rglob("*"))
        if p.is_file()
    }
    digest = hashlib.sha256("".join(files[k] for k in sorted(files)).encode()).hexdigest()
    manifest = {
        "format": FORMAT,
        **manifest,
        "version": f"{package_version('face-model')}+{digest[:12]}",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {
            name: package_version(name)
            for name in ("face-model", "onnx", "onnxruntime", "numpy", "torch")
        },
        "files": files,
    }
    (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(staging, out)
    return manifest


def _check_target(out: Path) -> None:
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST_FILE).is_file():
        raise ArtifactError(
            f"output directory {out} is not empty and is not an artifact; refusing to overwrite"
        )


def export_model(
    model_dir: str | Path,
    out: str | Path,
    *,
    allow_untrained: bool = False,
    allow_empty: bool = False,
    parity_crops: np.ndarray | None = None,
) -> ExportReport:
    """Write the artifact of a model directory to ``out`` (replacing an older artifact).

    Refuses a model whose backbone has neither pretrained nor trained weights (it cannot
    tell people apart) unless ``allow_untrained``; the artifact then says pretrained=false.
    ``allow_empty``: export networks with nobody enrolled (the stack's face library holds
    the people).
    """
    model = load_model(model_dir)
    config = model.config
    if not config.pretrained and not allow_untrained:
        raise UntrainedModelError(
            f"model {model_dir} has random (untrained) {config.backbone} weights: its embeddings "
            "are nearly identical for every face, so it cannot recognise anyone. Train it with "
            "--weights FILE, or pass --allow-untrained to export a model marked pretrained=false"
        )
    closest = degenerate_similarity(model)
    degenerate = closest is not None and closest > DEGENERATE_SIMILARITY
    if degenerate and not allow_untrained:
        raise UntrainedModelError(
            f"model {model_dir}: the least similar pair of enrolled people still has similarity "
            f"{closest:.4f} > {DEGENERATE_SIMILARITY}: the weights "
            f"({config.weights_source or 'random'}) look untrained, every face embeds alike. "
            "Use real pretrained weights, or --allow-untrained to export it marked untrained"
        )
    if not model.gallery.people and not (allow_untrained or allow_empty):
        raise ArtifactError(
            f"model {model_dir} has nobody enrolled; enroll people first (`face-model enroll`)"
        )
    out = Path(out)
    _check_target(out)
    spec = model.spec
    with tempfile.TemporaryDirectory(prefix="face-model-export-") as tmp:
        staging = Path(tmp) / "artifact"
        staging.mkdir()
        detector = _write_detector(
            staging,
            min_face_size=config.min_face_size,
            min_detection_probability=config.min_detection_probability,
        )
        diff = _write_embedder(model, staging, parity_crops)
        model.gallery.save(staging / GALLERY_FILE)
        manifest = _finish(
            staging,
            out,
            {
                "name": config.name,
                "backbone": spec.name,
                "pretrained": bool(config.pretrained) and not degenerate,
                "detector": detector,
                "embedder": {
                    "file": ONNX_FILE,
                    "input": "the graph's first input: N x 3 x H x W float32",
                    "input_size": {"height": spec.input_size[0], "width": spec.input_size[1]},
                    "embedding_dim": spec.embedding_dim,
                    "feature_dim": spec.feature_dim,
                    "flip": spec.flip,
                    "alignment": {
                        "method": spec.alignment,
                        "reference_points": [list(p) for p in spec.reference_points] or None,
                        "box_margin": spec.box_margin,
                    },
                    "normalisation": {
                        "channel_order": "RGB",
                        "layout": "NCHW",
                        "mean": list(spec.mean),
                        "scale": spec.scale,
                        "formula": "(x - mean[c]) * scale",
                    },
                    "metric": spec.metric,
                    "weights_source": config.weights_source,
                    "weights_sha256": config.weights_sha256,
                    "parity_max_abs_diff": diff,
                },
                "threshold": config.threshold,
                "margin": config.margin,
                "matching": config.matching,
                "k": config.k,
                "people": model.gallery.people,
            },
        )
    log.info("exported %s (%s) to %s", config.backbone, manifest["version"], out)
    return ExportReport(out, manifest, diff)


def export_networks(backbone: str, out: str | Path) -> ExportReport:
    """An artifact of ``backbone``'s pretrained networks with nobody enrolled: what the
    handler's image carries when the stack's face library holds the people."""
    from face_model.training import new_model

    with tempfile.TemporaryDirectory(prefix="face-model-networks-") as tmp:
        model = new_model(backbone, None)
        model.save(Path(tmp) / "model")
        return export_model(Path(tmp) / "model", out, allow_empty=True)


def export_detection_only(
    out: str | Path,
    *,
    min_face_size: int = DEFAULT_MIN_FACE_SIZE,
    min_probability: float = DEFAULT_MIN_PROBABILITY,
) -> ExportReport:
    """An artifact with the detector only: it finds faces and never names anyone."""
    out = Path(out)
    _check_target(out)
    with tempfile.TemporaryDirectory(prefix="face-model-export-") as tmp:
        staging = Path(tmp) / "artifact"
        staging.mkdir()
        detector = _write_detector(
            staging, min_face_size=min_face_size, min_detection_probability=min_probability
        )
        manifest = _finish(
            staging,
            out,
            {
                "name": "rollcall-detection-only",
                "backbone": DETECTION_ONLY,
                "pretrained": False,
                "detector": detector,
                "threshold": 1.0,
                "people": [],
            },
        )
    return ExportReport(out, manifest, None)


def manifest_detector(manifest: dict[str, Any], path: Path | str) -> DetectorKind:
    """The detector an artifact's manifest records (MTCNN when it names none: older
    exports); ArtifactError for one this face-model does not know."""
    block = manifest.get("detector")
    name = block.get("name") if isinstance(block, dict) else None
    try:
        return detector_kind(None if name is None else str(name))
    except ValueError as exc:
        raise ArtifactError(f"{path}: {exc}") from exc


def read_manifest(directory: str | Path, *, verify: bool = True) -> dict[str, Any]:
    """The manifest of an artifact directory, with every file's sha256 verified."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ArtifactError(f"artifact directory not found: {directory}")
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise ArtifactError(f"{directory} is not a face-model artifact (no {MANIFEST_FILE})")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (ValueError, OSError) as exc:
        raise ArtifactError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ArtifactError(
            f"{path}: unsupported format {found!r}, want {FORMAT} (export it again with "
            "`face-model export`)"
        )
    required = ("backbone", "threshold", "people", "files", "pretrained", "name", "version")
    missing = [k for k in required if k not in manifest]
    if missing:
        raise ArtifactError(f"{path} lacks {', '.join(missing)}")
    needed = list(manifest_detector(manifest, path).files.values())
    if manifest["backbone"] != DETECTION_ONLY:
        try:
            get_spec(manifest["backbone"])
        except ValueError as exc:
            raise ArtifactError(f"{path}: {exc}") from exc
        needed += [ONNX_FILE, GALLERY_FILE]
    unlisted = [name for name in needed if name not in manifest["files"]]
    if unlisted:
        raise ArtifactError(f"{path} does not list {', '.join(unlisted)}")
    if verify:
        for name, expected in manifest["files"].items():
            file = directory / name
            if not file.is_file():
                raise ArtifactError(f"artifact {directory} is missing {name}")
            actual = sha256_file(file)
            if actual != expected:
                raise ArtifactError(
                    f"artifact file {file} is corrupt: sha256 {actual[:12]}... "
                    f"!= manifest {expected[:12]}..."
                )
    return manifest
