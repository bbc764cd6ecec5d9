"""Build a model directory from photos per person; enroll and remove people later."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from face_model.backbones import DEFAULT_BACKBONE, TORCH_BACKBONES, BackboneSpec, get_spec
from face_model.detect import DEFAULT_MIN_FACE_SIZE, Detector
from face_model.detectors import create_detector
from face_model.enrollment import (
    ImageIssue,
    PersonFaces,
    choose_faces,
    find_faces,
    skip_duplicates,
)
from face_model.errors import DataError
from face_model.gallery import DEFAULT_K, DEFAULT_MARGIN, DEFAULT_METHOD, Gallery
from face_model.model_dir import (
    BUILTIN_PREFIX,
    ModelConfig,
    TrainedModel,
    builtin_network,
    load_model,
    save_config,
)
from face_model.weights import load_backbone, sha256_file

if TYPE_CHECKING:
    from face_model.dataset import Dataset
    from face_model.finetune import FineTuneConfig, FineTuneReport

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]  # (person, images done)


@dataclass
class EnrollReport:
    """Who was enrolled from how many images, and which images had problems."""

    enrolled: dict[str, int] = field(default_factory=dict)
    issues: list[ImageIssue] = field(default_factory=list)
    fine_tune: FineTuneReport | None = None


class FacePipeline:
    """Detector + aligner + embedder for one model."""

    def __init__(self, model: TrainedModel, detector: Detector | None = None) -> None:
        self.model = model
        self.spec: BackboneSpec = model.spec
        self.detector = detector or create_detector(
            min_probability=model.config.min_detection_probability,
            min_face_size=model.config.min_face_size,
        )
        self.embed = model.embedder()

    def person_faces(self, person: str, paths: Sequence[Path]) -> PersonFaces:
        """Chosen embedding per usable image of ``person`` plus the issues found."""
        candidates, issues = find_faces(paths, self.detector, self.spec, self.embed)
        chosen = choose_faces(person, candidates)
        chosen.issues = issues + chosen.issues
        return chosen


def new_model(
    backbone: str,
    weights: str | Path | None,
    *,
    threshold: float | None = None,
    margin: float = DEFAULT_MARGIN,
    matching: str = DEFAULT_METHOD,
    k: int = DEFAULT_K,
    min_face_size: int = DEFAULT_MIN_FACE_SIZE,
    seed: int = 0,
) -> TrainedModel:
    """An empty-gallery model.

    A built-in backbone (dlib) is pretrained and takes no ``weights``; a torch backbone
    takes its weights from ``weights`` (or is random, pretrained=False).
    """
    spec = get_spec(backbone)
    gallery = Gallery.empty(spec.feature_dim, spec.metric)
    options = {
        "threshold": spec.default_threshold if threshold is None else threshold,
        "margin": margin,
        "matching": matching,
        "k": k,
        "min_face_size": min_face_size,
    }
    if not spec.needs_torch:
        if weights is not None:
            raise DataError(
                f"{spec.name} is built in (converted from {spec.builtin}) and takes no "
                f"weights file; --weights is for {', '.join(TORCH_BACKBONES)}"
            )
        path, digest = builtin_network(spec)
        config = ModelConfig(
            backbone=spec.name,
            pretrained=True,
            weights_source=f"{BUILTIN_PREFIX}{spec.builtin}",
            weights_sha256=digest,
            **options,  # type: ignore[arg-type]
        )
        return TrainedModel(config, gallery, onnx_path=path)
    from face_model.torch_support import require_torch

    require_torch(f"the {spec.name} backbone").manual_seed(seed)
    net, pretrained = load_backbone(backbone, weights)
    config = ModelConfig(
        backbone=spec.name,
        pretrained=pretrained,
        weights_source=Path(weights).name if weights else None,
        weights_sha256=sha256_file(Path(weights)) if weights else None,
        **options,  # type: ignore[arg-type]
    )
    return TrainedModel(config, gallery, net=net)


def enroll_people(
    model: TrainedModel,
    people: Mapping[str, Sequence[Path]],
    *,
    pipeline: FacePipeline | None = None,
    progress: Progress | None = None,
    tune: TuneRequest | None = None,
) -> EnrollReport:
    """Add each person's images to ``model.gallery`` (in place). A file whose content is
    already enrolled for that person (same sha256) is skipped and reported as a duplicate."""
    pipeline = pipeline or FacePipeline(model)
    report = EnrollReport()
    empty: list[str] = []
    found: dict[str, PersonFaces] = {}
    digests: dict[str, str] = {}
    for person, paths in people.items():
        fresh, person_digests, duplicates = skip_duplicates(
            person, list(paths), model.gallery.enrolled_digests(person)
        )
        digests.update(person_digests)
        report.issues.extend(duplicates)
        faces = pipeline.person_faces(person, fresh)
        report.issues.extend(faces.issues)
        if faces.sources:
            found[person] = faces
        elif fresh:  # only duplicates given: nothing new, not an error
            empty.append(f"{person} ({len(paths)} images)")
        if progress:
            progress(person, len(paths))
    if empty:
        details = "; ".join(f"{i.path}: {i.kind}" for i in report.issues[:10])
        raise DataError(f"no usable face for: {', '.join(empty)}. {details}")
    if tune is not None:
        report.fine_tune = _fine_tune(model, found, tune, pipeline)
    for person, faces in found.items():
        model.gallery.add(
            person, faces.embeddings, faces.sources, [digests[s] for s in faces.sources]
        )
        report.enrolled[person] = len(faces.sources)
    return report


@dataclass
class TuneRequest:
    """Fine-tuning settings for :func:`build_model` (see :mod:`face_model.finetune`)."""

    config: FineTuneConfig
    checkpoint_dir: Path
    resume: bool = True
    on_epoch: Callable[[int, float], None] | None = None


def _fine_tune(
    model: TrainedModel, found: dict[str, PersonFaces], tune: TuneRequest, pipeline: FacePipeline
) -> FineTuneReport:
    """Fine-tune the backbone on the chosen crops, then re-embed them with it."""
    from face_model.finetune import fine_tune

    if model.net is None:
        raise DataError(
            f"{model.spec.name} cannot be fine-tuned (only torch backbones can: "
            f"{', '.join(TORCH_BACKBONES)})"
        )

    people = sorted(found)
    crops = [c for p in people for c in found[p].crops]
    labels = [i for i, p in enumerate(people) for _ in found[p].crops]
    result = fine_tune(
        model.net,
        model.spec,
        crops=crops,
        labels=labels,
        people=people,
        config=tune.config,
        checkpoint_dir=tune.checkpoint_dir,
        resume=tune.resume,
        progress=tune.on_epoch,
    )
    for person in people:
        found[person].embeddings = pipeline.embed(found[person].crops)
    model.config.notes = {
        **model.config.notes,
        "fine_tune": {**asdict(tune.config), "losses": result.losses},
    }
    return result


def build_model(
    people: Mapping[str, Sequence[Path]],
    *,
    backbone: str = DEFAULT_BACKBONE,
    weights: str | Path | None = None,
    threshold: float | None = None,
    margin: float = DEFAULT_MARGIN,
    matching: str = DEFAULT_METHOD,
    k: int = DEFAULT_K,
    min_face_size: int = DEFAULT_MIN_FACE_SIZE,
    out: str | Path | None = None,
    progress: Progress | None = None,
    tune: TuneRequest | None = None,
) -> tuple[TrainedModel, EnrollReport]:
    """A model whose gallery holds ``people``; saved to ``out`` when given.

    With ``tune`` the backbone is first fine-tuned on these people (optional).
    """
    if not people:
        raise DataError("no people to enroll")
    model = new_model(
        backbone,
        weights,
        threshold=threshold,
        margin=margin,
        matching=matching,
        k=k,
        min_face_size=min_face_size,
    )
    report = enroll_people(model, people, progress=progress, tune=tune)
    if out is not None:
        model.save(out)
    return model, report


def build_model_from_folder(
    data_dir: str | Path,
    out: str | Path,
    *,
    backbone: str = DEFAULT_BACKBONE,
    weights: str | Path | None = None,
    files: Sequence[str] = (),
    **options: Any,
) -> tuple[TrainedModel, EnrollReport]:
    """:func:`build_model` from ``DIR/<person>/*`` (or the train/ split of ``DIR``)."""
    from face_model.dataset import discover

    dataset = discover(data_dir, files)
    return build_model(dataset.train, backbone=backbone, weights=weights, out=out, **options)


def enroll(
    model_dir: str | Path, person: str, paths: Sequence[Path], *, replace: bool = False
) -> EnrollReport:
    """Add (or with ``replace`` re-enroll) one person in a saved model directory."""
    person = person.strip()
    if not person:
        raise DataError("person name is empty")
    if not paths:
        raise DataError(f"no images given for {person}")
    model = load_model(model_dir)
    if replace and person in model.gallery.people:
        model.gallery.remove(person)
    report = enroll_people(model, {person: list(paths)})
    model.gallery.save(Path(model_dir) / "gallery.npz")
    return report


def remove(model_dir: str | Path, person: str) -> int:
    """Forget ``person`` in a saved model directory; returns embeddings removed."""
    from face_model.model_dir import load_config, load_gallery

    load_config(model_dir)
    gallery = load_gallery(model_dir)
    removed = gallery.remove(person)
    gallery.save(Path(model_dir) / "gallery.npz")
    return removed


def set_threshold(model_dir: str | Path, threshold: float, note: dict[str, object]) -> None:
    """Store a calibrated threshold in a model directory."""
    from face_model.model_dir import load_config

    config = load_config(model_dir)
    config.threshold = float(threshold)
    config.notes = {**config.notes, "calibration": note}
    save_config(Path(model_dir), config)


def train_summary(
    out: Path, model: TrainedModel, report: EnrollReport, dataset: Dataset
) -> dict[str, Any]:
    """What ``face-model train --json`` prints about a model built from ``dataset``."""
    return {
        "model": str(out),
        "backbone": model.config.backbone,
        "pretrained": model.config.pretrained,
        "layout": dataset.layout,
        "people": report.enrolled,
        "n_images": dataset.count("train"),
        "threshold": model.config.threshold,
        "issues": [vars(i) for i in report.issues],
        "val_images": dataset.count("val"),
        "fine_tune": vars(report.fine_tune) if report.fine_tune else None,
    }
