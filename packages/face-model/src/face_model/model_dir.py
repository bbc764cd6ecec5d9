"""A trained model directory (output of ``face-model train``): config, gallery and, for torch
backbones, their weights (``backbone.pt``). A built-in backbone (dlib) is not copied: the
config records the sha256 of the cached ONNX graph it was enrolled with, checked on load."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from face_model.backbones import BackboneSpec, get_spec
from face_model.detect import DEFAULT_MIN_FACE_SIZE, DEFAULT_MIN_PROBABILITY
from face_model.embed import Embedder
from face_model.errors import ModelDirError
from face_model.gallery import DEFAULT_K, DEFAULT_MARGIN, DEFAULT_METHOD, Gallery

if TYPE_CHECKING:
    from torch import nn

CONFIG_FILE = "model.json"
WEIGHTS_FILE = "backbone.pt"
GALLERY_FILE = "gallery.npz"
FORMAT = "rollcall-face-model/1"


@dataclass
class ModelConfig:
    """What a model directory records besides weights and gallery."""

    backbone: str
    pretrained: bool
    threshold: float
    margin: float = DEFAULT_MARGIN
    matching: str = DEFAULT_METHOD
    k: int = DEFAULT_K
    min_face_size: int = DEFAULT_MIN_FACE_SIZE
    min_detection_probability: float = DEFAULT_MIN_PROBABILITY
    weights_source: str | None = None
    weights_sha256: str | None = None
    name: str = "rollcall-face-model"
    notes: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT

    @property
    def spec(self) -> BackboneSpec:
        """The backbone's static facts."""
        return get_spec(self.backbone)


BUILTIN_PREFIX = "builtin:"


@dataclass
class TrainedModel:
    """A backbone, its gallery and config, as stored in a model directory.

    ``net`` is the torch network of a torch backbone; ``onnx_path`` the cached graph of a
    built-in one. Exactly one of them is set.
    """

    config: ModelConfig
    gallery: Gallery
    net: nn.Module | None = None
    onnx_path: Path | None = None

    @property
    def spec(self) -> BackboneSpec:
        """The backbone's static facts."""
        return self.config.spec

    def embedder(self) -> Embedder:
        """Crops -> embeddings with this model's network."""
        from face_model.embed import OnnxEmbedder, TorchEmbedder

        if self.net is not None:
            return TorchEmbedder(self.net, self.spec)
        assert self.onnx_path is not None
        return OnnxEmbedder(self.onnx_path, self.spec)

    def save(self, directory: str | Path) -> Path:
        """Write model.json, gallery.npz and (torch backbones) backbone.pt into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.net is not None:
            import torch

            torch.save(self.net.state_dict(), directory / WEIGHTS_FILE)
        self.gallery.save(directory / GALLERY_FILE)
        save_config(directory, self.config)
        return directory


def save_config(directory: Path, config: ModelConfig) -> None:
    """Rewrite only model.json."""
    (directory / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=2) + "\n")


def load_config(directory: str | Path) -> ModelConfig:
    """The config of a model directory, with a clear error when it is not one."""
    directory = Path(directory)
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise ModelDirError(
            f"{directory} is not a model directory (no {CONFIG_FILE}); "
            "create one with `face-model train`"
        )
    try:
        raw = json.loads(path.read_text())
        config = ModelConfig(**raw)
        get_spec(config.backbone)
    except (ValueError, TypeError) as exc:
        raise ModelDirError(f"{path} is corrupt: {exc}") from exc
    if config.format != FORMAT:
        raise ModelDirError(f"{path}: unsupported format {config.format!r} (expected {FORMAT})")
    return config


def load_gallery(directory: str | Path) -> Gallery:
    """The gallery of a model directory."""
    path = Path(directory) / GALLERY_FILE
    if not path.is_file():
        raise ModelDirError(f"model directory {directory} has no {GALLERY_FILE}")
    try:
        return Gallery.load(path)
    except (ValueError, OSError, KeyError) as exc:
        raise ModelDirError(f"gallery {path} is corrupt: {exc}") from exc


def builtin_network(spec: BackboneSpec) -> tuple[Path, str]:
    """The cached ONNX graph of a built-in backbone (built on first need) and its sha256."""
    from face_model.model_cache import ensure_record

    assert spec.builtin is not None
    record = ensure_record(spec.builtin)
    return record.path, record.sha256


def load_model(directory: str | Path) -> TrainedModel:
    """Config, network and gallery of a model directory."""
    from face_model.errors import WeightsError
    from face_model.weights import load_backbone

    directory = Path(directory)
    config = load_config(directory)
    gallery = load_gallery(directory)
    spec = config.spec
    if not spec.needs_torch:
        path, digest = builtin_network(spec)
        if config.weights_sha256 and digest != config.weights_sha256:
            raise ModelDirError(
                f"model directory {directory} was enrolled with another {spec.name} graph "
                f"(sha256 {config.weights_sha256[:12]}..., the cache holds {digest[:12]}...): "
                "enroll its people again with `face-model train`"
            )
        return TrainedModel(config, gallery, onnx_path=path)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelDirError(f"model directory {directory} has no {WEIGHTS_FILE}")
    try:
        net, _ = load_backbone(config.backbone, weights)
    except WeightsError as exc:
        raise ModelDirError(f"model directory {directory}: {exc}") from exc
    return TrainedModel(config, gallery, net=net)


def people_counts(directory: Path) -> dict[str, int]:
    """Embeddings per enrolled person of a model directory or an exported artifact (checked
    as it would be loaded)."""
    if (directory / "manifest.json").is_file():
        from face_model.artifact import read_manifest

        read_manifest(directory)
        return Gallery.load(directory / "gallery.npz").counts()
    load_config(directory)
    return load_gallery(directory).counts()
