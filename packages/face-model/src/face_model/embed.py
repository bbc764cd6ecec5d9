"""Turn aligned face crops into embeddings with onnxruntime (serving) or torch (training).

Cosine backbones' embeddings are L2-normalised; Euclidean ones (dlib) stay raw, as dlib
compares them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from face_model.backbones import BackboneSpec

if TYPE_CHECKING:
    from torch import nn

BATCH = 32

Embedder: TypeAlias = Callable[[Sequence[np.ndarray]], np.ndarray]
"""Aligned RGB uint8 crops -> one embedding per row (torch or onnxruntime)."""


def preprocess(crops: Sequence[np.ndarray], spec: BackboneSpec) -> np.ndarray:
    """Stack RGB uint8 crops into N x 3 x H x W float32: (x - mean[c]) * scale."""
    if not crops:
        return np.zeros((0, 3, *spec.input_size), dtype=np.float32)
    batch = np.stack([np.asarray(c) for c in crops]).astype(np.float32)
    if batch.shape[1:] != (*spec.input_size, 3):
        raise ValueError(f"crops must be {spec.input_size} x 3 for {spec.name}, got {batch.shape}")
    batch -= np.asarray(spec.mean, dtype=np.float32)
    batch *= np.float32(spec.scale)
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.asarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def combine(
    run: Callable[[np.ndarray], np.ndarray], batch: np.ndarray, spec: BackboneSpec
) -> np.ndarray:
    """Run the raw network (with the flipped copy when ``spec.flip``); normalise for cosine."""
    outputs = []
    for start in range(0, len(batch), BATCH):
        chunk = batch[start : start + BATCH]
        if spec.flip:
            both = np.concatenate([chunk, np.ascontiguousarray(chunk[..., ::-1])])
            feats = run(both)
            feats = np.concatenate([feats[: len(chunk)], feats[len(chunk) :]], axis=1)
        else:
            feats = run(chunk)
        outputs.append(l2_normalise(feats) if spec.metric == "cosine" else feats)
    if not outputs:
        return np.zeros((0, spec.feature_dim), dtype=np.float32)
    return np.concatenate(outputs)


class TorchEmbedder:
    """Embeddings from a torch network (training, export, parity checks)."""

    def __init__(self, net: nn.Module, spec: BackboneSpec) -> None:
        self.net = net.eval()
        self.spec = spec

    def raw(self, batch: np.ndarray) -> np.ndarray:
        """Raw network output for a preprocessed batch."""
        import torch

        with torch.inference_mode():
            out: torch.Tensor = self.net(torch.from_numpy(batch))
            return np.asarray(out.numpy(), dtype=np.float32)

    def __call__(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        return combine(self.raw, preprocess(crops, self.spec), self.spec)


class OnnxEmbedder:
    """Embeddings from an exported ONNX network with onnxruntime (no torch)."""

    def __init__(self, path: str | Path, spec: BackboneSpec, *, threads: int | None = None) -> None:
        from face_model.onnx_session import session

        self.session = session(path, threads=threads)
        self.input_name = self.session.get_inputs()[0].name
        self.spec = spec

    def raw(self, batch: np.ndarray) -> np.ndarray:
        """Raw network output for a preprocessed batch."""
        (out,) = self.session.run(None, {self.input_name: batch})
        return np.asarray(out, dtype=np.float32)

    def __call__(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        return combine(self.raw, preprocess(crops, self.spec), self.spec)
