"""Export a trained model to a self-contained artifact directory and read it back."""

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

from face_model.backbones import MOBILEFACENET_REFERENCE, get_spec
from face_model.embed import PIXEL_MEAN, PIXEL_SCALE
from face_model.errors import ArtifactError, UntrainedModelError
from face_model.model_dir import TrainedModel, load_model
from face_model.weights import sha256_file

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
ONNX_FILE = "embedding.onnx"
GALLERY_FILE = "gallery.npz"
FORMAT = "rollcall-face-artifact/1"
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
    parity_max_abs_diff: float


def degenerate_similarity(model: TrainedModel) -> float | None:
    """Lowest cosine between two enrolled people's centroids (None with < 2 people).

    Random networks map every face to nearly the same vector (>= 0.999); trained ones
    keep different people far apart.
    """
    people, centroids = model.gallery.centroids()
    if len(people) < 2:
        return None
    sims = centroids @ centroids.T
    return float(sims[~np.eye(len(people), dtype=bool)].min())


def _export_onnx(model: TrainedModel, path: Path) -> None:
    import torch

    spec = model.spec
    dummy = torch.zeros(2, 3, *spec.input_size)
    with warnings.catch_warnings():
        # The TorchScript exporter (dynamo=False) needs no onnxscript and handles both
        # backbones; torch >= 2.9 flags it, and its internal helpers, as deprecated.
        # Silence deprecation notices for this call only.
        warnings.simplefilter("ignore", DeprecationWarning)
        _export(model, dummy, path)


def _export(model: TrainedModel, dummy: Any, path: Path) -> None:
    import torch

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
    """Max abs difference of normalised embeddings, torch vs onnxruntime."""
    from face_model.embed import OnnxEmbedder, TorchEmbedder

    spec = model.spec
    if crops is None:
        rng = np.random.default_rng(0)
        crops = rng.integers(0, 256, size=(4, *spec.input_size, 3), dtype=np.uint8)
    reference = TorchEmbedder(model.net, spec)(list(crops))
    exported = OnnxEmbedder(onnx_path, spec)(list(crops))
    return float(np.abs(reference - exported).max())


def export_model(
    model_dir: str | Path,
    out: str | Path,
    *,
    allow_untrained: bool = False,
    parity_crops: np.ndarray | None = None,
    overwrite: bool = True,
) -> ExportReport:
    """Write ``out``: embedding.onnx, gallery.npz and manifest.json with sha256 of each file.

    Refuses a model whose backbone has neither pretrained nor trained weights (it cannot
    tell people apart) unless ``allow_untrained``; the artifact then says pretrained=false.
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
            f"model {model_dir}: the least similar pair of enrolled people still has cosine "
            f"{closest:.4f} > {DEGENERATE_SIMILARITY}: the weights "
            f"({config.weights_source or 'random'}) look untrained, every face embeds alike. "
            "Use real pretrained weights, or --allow-untrained to export it marked untrained"
        )
    if not model.gallery.people and not allow_untrained:
        raise ArtifactError(
            f"model {model_dir} has nobody enrolled; enroll people first (`face-model enroll`)"
        )
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise ArtifactError(f"output directory {out} is not empty")
        if not (out / MANIFEST_FILE).is_file():
            raise ArtifactError(
                f"output directory {out} is not empty and is not an artifact; refusing to overwrite"
            )
    spec = model.spec
    with tempfile.TemporaryDirectory(prefix="face-model-export-") as tmp:
        staging = Path(tmp)
        _export_onnx(model, staging / ONNX_FILE)
        diff = check_parity(model, staging / ONNX_FILE, parity_crops)
        if not diff <= PARITY_TOLERANCE:
            raise ArtifactError(
                f"ONNX export differs from torch by {diff:.2e} (tolerance {PARITY_TOLERANCE:.0e})"
            )
        model.gallery.save(staging / GALLERY_FILE)
        files = {name: sha256_file(staging / name) for name in (ONNX_FILE, GALLERY_FILE)}
        digest = hashlib.sha256("".join(files[k] for k in sorted(files)).encode()).hexdigest()
        version = f"{package_version('face-model')}+{digest[:12]}"
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "name": config.name,
            "version": version,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "backbone": spec.name,
            "pretrained": bool(config.pretrained) and not degenerate,
            "input_size": {"height": spec.input_size[0], "width": spec.input_size[1]},
            "embedding_dim": spec.embedding_dim,
            "feature_dim": spec.feature_dim,
            "flip": spec.flip,
            "alignment": {
                "method": spec.alignment,
                "reference_points": [list(p) for p in MOBILEFACENET_REFERENCE]
                if spec.alignment == "similarity-5pt"
                else None,
                "box_margin": spec.box_margin,
            },
            "normalisation": {
                "channel_order": "RGB",
                "layout": "NCHW",
                "mean": PIXEL_MEAN,
                "scale": PIXEL_SCALE,
                "formula": "(x - 127.5) / 128, then L2-normalise (concat with flipped if flip)",
            },
            "threshold": config.threshold,
            "margin": config.margin,
            "matching": config.matching,
            "k": config.k,
            "min_face_size": config.min_face_size,
            "min_detection_probability": config.min_detection_probability,
            "people": model.gallery.people,
            "weights_sha256": config.weights_sha256,
            "onnx": {
                "file": ONNX_FILE,
                "input": "input",
                "output": "features",
                "opset": OPSET,
                "parity_max_abs_diff": diff,
            },
            "versions": {
                name: package_version(name)
                for name in (
                    "face-model",
                    "torch",
                    "facenet-pytorch",
                    "onnx",
                    "onnxruntime",
                    "numpy",
                )
            },
            "files": files,
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        out.mkdir(parents=True, exist_ok=True)
        for name in (ONNX_FILE, GALLERY_FILE, MANIFEST_FILE):
            shutil.copy2(staging / name, out / name)
    log.info("exported %s (%s) to %s, parity %.2e", config.backbone, version, out, diff)
    return ExportReport(out, manifest, diff)


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
    if manifest.get("format") != FORMAT:
        raise ArtifactError(f"{path}: unsupported format {manifest.get('format')!r}, want {FORMAT}")
    required = ("backbone", "threshold", "people", "files", "pretrained", "name", "version")
    missing = [k for k in required if k not in manifest]
    if missing:
        raise ArtifactError(f"{path} lacks {', '.join(missing)}")
    try:
        get_spec(manifest["backbone"])
    except ValueError as exc:
        raise ArtifactError(f"{path}: {exc}") from exc
    for name in (ONNX_FILE, GALLERY_FILE):
        if name not in manifest["files"]:
            raise ArtifactError(f"{path} does not list {name}")
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
