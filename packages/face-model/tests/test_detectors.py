"""The detector registry and what an artifact's manifest says about its detector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from face_model import ArtifactError
from face_model.artifact import FORMAT, MANIFEST_FILE, manifest_detector, read_manifest
from face_model.detectors import DETECTORS, builtin_networks, detector_kind


def _manifest(tmp_path: Path, detector: dict[str, object]) -> Path:
    files = dict.fromkeys(DETECTORS["mtcnn"].files.values(), "0" * 64)
    manifest = {
        "format": FORMAT,
        "name": "n",
        "version": "0",
        "backbone": "none",
        "pretrained": False,
        "threshold": 1.0,
        "people": [],
        "detector": detector,
        "files": files,
    }
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    return tmp_path


def test_registry_names_mtcnn_by_default() -> None:
    kind = detector_kind()
    assert kind.name == "mtcnn" and set(DETECTORS) == {"mtcnn"}
    assert builtin_networks() == ("mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet")
    with pytest.raises(ValueError, match=r"unknown detector 'blazeface'.*mtcnn"):
        detector_kind("blazeface")


def test_older_manifest_without_a_name_holds_mtcnn(tmp_path: Path) -> None:
    directory = _manifest(tmp_path, {"min_face_size": 20})
    manifest = read_manifest(directory, verify=False)
    assert manifest_detector(manifest, directory).name == "mtcnn"
    assert manifest_detector({}, directory).name == "mtcnn"


def test_unknown_detector_is_a_clear_artifact_error(tmp_path: Path) -> None:
    directory = _manifest(tmp_path, {"name": "blazeface"})
    with pytest.raises(ArtifactError, match=r"unknown detector 'blazeface'; .* knows: mtcnn"):
        read_manifest(directory, verify=False)
