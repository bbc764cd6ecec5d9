"""The inference API that cloud-handler calls: detect, align, embed, match - onnxruntime and
numpy only, never torch."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from face_model.backbones import BackboneSpec, get_spec
from face_model.detect import (
    DEFAULT_MIN_FACE_SIZE,
    DEFAULT_MIN_PROBABILITY,
    DETECT_MAX_SIDE,
    Detection,
)
from face_model.errors import ArtifactError
from face_model.gallery import DEFAULT_K, DEFAULT_MARGIN, DEFAULT_METHOD, Gallery
from face_model.results import FaceMatch, RecognitionBatch
from face_model.tracking import REDETECT_MS

if TYPE_CHECKING:
    from face_model.detect import Detector
    from face_model.embed import OnnxEmbedder
    from face_model.tracking import VideoRecognizer


def _clip_box(det: Detection, frame: np.ndarray) -> tuple[float, float, float, float]:
    height, width = frame.shape[:2]
    x1, y1, x2, y2 = det.box
    return (
        float(min(max(x1, 0.0), width)),
        float(min(max(y1, 0.0), height)),
        float(min(max(x2, 0.0), width)),
        float(min(max(y2, 0.0), height)),
    )


class Recognizer:
    """Finds faces in RGB frames and names the enrolled people among them (open set)."""

    name: str
    version: str
    backbone: str
    pretrained: bool
    threshold: float
    people: list[str]

    def __init__(
        self,
        *,
        name: str,
        version: str,
        spec: BackboneSpec | None,
        pretrained: bool,
        threshold: float,
        margin: float = DEFAULT_MARGIN,
        matching: str = DEFAULT_METHOD,
        k: int = DEFAULT_K,
        gallery: Gallery | None = None,
        embedder: OnnxEmbedder | None = None,
        min_face_size: int = DEFAULT_MIN_FACE_SIZE,
        min_probability: float = DEFAULT_MIN_PROBABILITY,
        manifest: dict[str, Any] | None = None,
        detector_networks: dict[str, Path] | None = None,
        detector_name: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.spec = spec
        self.backbone = spec.name if spec else "none"
        self.pretrained = pretrained
        self.threshold = threshold
        self.margin = margin
        self.matching = matching
        self.k = k
        self.gallery = gallery
        self.embedder = embedder
        self.people = gallery.people if gallery is not None else []
        self.manifest = manifest or {}
        self._detector: Detector | None = None
        self._detector_networks = detector_networks
        self._detector_name = detector_name
        self._threads = threads
        self._min_face_size = min_face_size
        self.min_probability = min_probability

    @property
    def min_face_size(self) -> int:
        """Smallest face (original pixels) kept; settable at any time."""
        return self._min_face_size

    @min_face_size.setter
    def min_face_size(self, value: int) -> None:
        self._min_face_size = int(value)
        if self._detector is not None:
            self._detector.min_face_size = int(value)

    @classmethod
    def load(
        cls,
        artifact_dir: str | os.PathLike[str],
        *,
        threads: int | None = None,
        verify: bool = True,
    ) -> Recognizer:
        """Load an exported artifact (sha256 of every file checked); ArtifactError otherwise.

        ``threads``: onnxruntime intra-op threads per network (None: one per core).
        """
        from face_model.artifact import (
            DETECTION_ONLY,
            GALLERY_FILE,
            ONNX_FILE,
            manifest_detector,
            read_manifest,
        )
        from face_model.embed import OnnxEmbedder

        directory = Path(artifact_dir)
        manifest = read_manifest(directory, verify=verify)
        detector = manifest.get("detector", {})
        kind = manifest_detector(manifest, directory / "manifest.json")
        common: dict[str, Any] = {
            "name": str(manifest["name"]),
            "version": str(manifest["version"]),
            "min_face_size": int(detector.get("min_face_size", DEFAULT_MIN_FACE_SIZE)),
            "min_probability": float(
                detector.get("min_detection_probability", DEFAULT_MIN_PROBABILITY)
            ),
            "manifest": manifest,
            "detector_networks": {k: directory / v for k, v in kind.files.items()},
            "detector_name": kind.name,
            "threads": threads,
        }
        if manifest["backbone"] == DETECTION_ONLY:
            return cls(spec=None, pretrained=False, threshold=1.0, **common)
        spec = get_spec(manifest["backbone"])
        try:
            gallery = Gallery.load(directory / GALLERY_FILE)
        except (ValueError, OSError, KeyError) as exc:
            raise ArtifactError(f"gallery {directory / GALLERY_FILE} is corrupt: {exc}") from exc
        if gallery.people != sorted(manifest["people"]):
            raise ArtifactError(
                f"artifact {directory}: gallery people {gallery.people} differ from the "
                f"manifest's {manifest['people']}"
            )
        if gallery.labels and gallery.dim != spec.feature_dim:
            raise ArtifactError(
                f"artifact {directory}: gallery embeddings have {gallery.dim} values, "
                f"{spec.name} makes {spec.feature_dim}"
            )
        try:
            embedder = OnnxEmbedder(directory / ONNX_FILE, spec, threads=threads)
        except Exception as exc:
            raise ArtifactError(f"cannot load {directory / ONNX_FILE}: {exc}") from exc
        if gallery.metric != spec.metric:
            raise ArtifactError(
                f"artifact {directory}: gallery metric {gallery.metric}, "
                f"{spec.name} uses {spec.metric}"
            )
        return cls(
            spec=spec,
            pretrained=bool(manifest["pretrained"]),
            threshold=float(manifest["threshold"]),
            margin=float(manifest.get("margin", DEFAULT_MARGIN)),
            matching=str(manifest.get("matching", DEFAULT_METHOD)),
            k=int(manifest.get("k", DEFAULT_K)),
            gallery=gallery,
            embedder=embedder,
            **common,
        )

    @classmethod
    def detection_only(cls, *, threads: int | None = None) -> Recognizer:
        """The default detector only (from face-model's cache): finds faces, never names
        anyone."""
        return cls(
            name="rollcall-detection-only",
            version="0",
            spec=None,
            pretrained=False,
            threshold=1.0,
            threads=threads,
        )

    def use_gallery(self, gallery: Gallery) -> None:
        """Match against ``gallery`` from now on (the face library's latest version)."""
        self.gallery, self.people = gallery, gallery.people

    @property
    def detector(self) -> Detector:
        """The artifact's face detector (created on first use)."""
        if self._detector is None:
            from face_model.detectors import create_detector

            self._detector = create_detector(
                self._detector_name,
                min_probability=self.min_probability,
                min_face_size=self.min_face_size,
                networks=self._detector_networks,
                threads=self._threads,
            )
        return self._detector

    def warm_up(self) -> float:
        """Create the onnxruntime sessions and run each network once (e.g. in a Lambda's
        init phase); returns the milliseconds it took."""
        start = time.perf_counter()
        rng = np.random.default_rng(0)
        noise = rng.integers(0, 256, size=(96, 96, 3), dtype=np.uint8)
        self.detector.detect([noise])
        if self.embedder is not None and self.spec is not None:
            self.embedder([np.zeros((*self.spec.input_size, 3), np.uint8)])
        return (time.perf_counter() - start) * 1000

    @property
    def can_identify(self) -> bool:
        """True when this recognizer may report identities."""
        return (
            self.pretrained
            and self.spec is not None
            and self.embedder is not None
            and self.gallery is not None
            and bool(self.people)
        )

    def recognize(
        self,
        frames: Sequence[np.ndarray],
        *,
        max_side: int | None = DETECT_MAX_SIDE,
        track: bool = False,
    ) -> RecognitionBatch:
        """Faces in RGB uint8 H x W x 3 frames; boxes in original pixels.

        ``track``: the frames are of one moment (a clip of a second or less); detect in full
        on the middle frame and follow its faces into the others (see
        :meth:`Detector.track`).
        """
        start = time.perf_counter()
        find = self.detector.track if track else self.detector.detect
        detections = find(frames, max_side=max_side)
        detect_ms = (time.perf_counter() - start) * 1000
        faces: list[FaceMatch] = []
        embed_ms = 0.0
        for i, found in enumerate(detections):
            matched, align_ms, embedded_ms = self.identify(frames[i], found, frame_index=i)
            faces.extend(matched)
            detect_ms += align_ms
            embed_ms += embedded_ms
        return RecognitionBatch(faces=faces, detect_ms=detect_ms, embed_ms=embed_ms)

    def identify(
        self, frame: np.ndarray, found: Sequence[Detection], *, frame_index: int = 0
    ) -> tuple[list[FaceMatch], float, float]:
        """Name the faces ``found`` in one RGB frame (boxes in its pixels): the matches, and
        the milliseconds spent aligning and embedding them."""
        from face_model.align import align_face

        image = np.asarray(frame)
        start = time.perf_counter()
        crops: list[np.ndarray] = []
        # an empty library still embeds: unknown faces are kept to be named later
        embeds = self.pretrained and self.embedder is not None and self.gallery is not None
        if found and embeds and self.spec is not None:
            crops = [align_face(image, d, self.spec) for d in found]
        align_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        faces: list[FaceMatch] = []
        if crops and self.embedder is not None and self.gallery is not None:
            embeddings = self.embedder(crops)
            matches = self.gallery.match(
                embeddings, self.threshold, self.margin, self.matching, self.k
            )
            for n, (det, match) in enumerate(zip(found, matches, strict=True)):
                faces.append(
                    FaceMatch(
                        frame_index=frame_index,
                        box=_clip_box(det, image),
                        detection_probability=min(1.0, max(0.0, det.probability)),
                        identity=match.identity,
                        similarity=match.similarity,
                        margin=match.margin,
                        best=match.best,
                        embedding=embeddings[n],
                        chip=crops[n] if match.identity is None else None,
                    )
                )
        else:
            faces = [
                FaceMatch(frame_index, _clip_box(d, image), min(1.0, d.probability), None, 0.0, 0.0)
                for d in found
            ]
        embed_ms = (time.perf_counter() - start) * 1000 if crops else 0.0
        return faces, align_ms, embed_ms

    def video(
        self,
        *,
        max_side: int | None = DETECT_MAX_SIDE,
        redetect_ms: int = REDETECT_MS,
        coarse: float | None = None,
    ) -> VideoRecognizer:
        """A recognizer for the frames of one video given one at a time, in order: faces
        detected in full on few frames and followed into the others (see
        :class:`face_model.tracking.FaceTracker`, also for ``coarse``)."""
        from face_model.tracking import VideoRecognizer

        return VideoRecognizer(self, max_side=max_side, redetect_ms=redetect_ms, coarse=coarse)
