"""Errors raised by face_model; every message names what is wrong and where."""

from __future__ import annotations


class FaceModelError(Exception):
    """Base class of every error this package raises on purpose."""


class ArtifactError(FaceModelError):
    """An exported artifact directory is missing, corrupt or mismatched."""


class ModelDirError(FaceModelError):
    """A trained model directory (output of ``face-model train``) is missing or corrupt."""


class WeightsError(FaceModelError):
    """A backbone weights file is missing, unreadable or does not fit the network."""


class DataError(FaceModelError):
    """Input images or folders are unusable (empty, unreadable, no face)."""


class ImageTooLargeError(DataError):
    """An image declares more pixels than face-model decodes (a possible decompression bomb)."""


class UntrainedModelError(FaceModelError):
    """A model without pretrained or trained weights was asked to recognize people."""


class TorchRequiredError(FaceModelError):
    """A training-side feature was asked for, but torch (the ``train`` extra) is missing."""


class ModelCacheError(FaceModelError):
    """A built-in network cannot be built, found or verified in the model cache."""


class DownloadError(FaceModelError):
    """Fetching weights failed (network error or checksum mismatch)."""
