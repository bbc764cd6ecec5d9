"""Torch backbones (the ``train`` extra): a model without pretrained weights is random, is
refused by export and evaluate unless told otherwise, and never names anyone when served."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rollcall_testkit as testkit
from face_model import Recognizer
from face_model.artifact import read_manifest
from face_model.cli import app

testkit.require_torch()
runner = CliRunner()


def cli(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"ROLLCALL_THREADS": "1"})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def untrained_model(tmp_path_factory: pytest.TempPathFactory, tiny_data: Path) -> Path:
    out = tmp_path_factory.mktemp("m") / "model"
    code, output = cli(
        "train", "--data-dir", tiny_data, "--out", out, "--backbone", "mobilefacenet", "--json"
    )
    assert code == 0, output
    assert "no --weights" in output and "cannot recognise anyone" in output
    assert json.loads(output[output.index("{") :])["pretrained"] is False
    return out


def test_refuses_to_export_untrained_then_marks_it(untrained_model: Path, tmp_path: Path) -> None:
    code, output = cli("export", "--model", untrained_model, "--out", tmp_path / "a")
    assert code == 2 and "untrained" in output and "--allow-untrained" in output
    assert not (tmp_path / "a").exists()

    code, output = cli(
        "export", "--model", untrained_model, "--out", tmp_path / "a", "--allow-untrained"
    )
    assert code == 0, output
    manifest = read_manifest(tmp_path / "a")
    assert manifest["pretrained"] is False
    embedder = manifest["embedder"]
    assert embedder["parity_max_abs_diff"] < 1e-4
    assert embedder["input_size"] == {"height": 112, "width": 96} and embedder["flip"] is True


def test_untrained_artifact_never_names_anyone(
    untrained_model: Path, tmp_path: Path, astronaut: np.ndarray
) -> None:
    cli("export", "--model", untrained_model, "--out", tmp_path / "a", "--allow-untrained")
    rec = Recognizer.load(tmp_path / "a", threads=1)
    assert rec.pretrained is False and rec.backbone == "mobilefacenet"
    assert rec.people == ["eileen", "mirror"]
    batch = rec.recognize([astronaut, astronaut[:, ::-1].copy()])
    assert len(batch.faces) == 2
    assert all(f.identity is None and f.similarity == 0.0 for f in batch.faces)


def test_evaluate_refuses_untrained_unless_allowed(untrained_model: Path, tiny_data: Path) -> None:
    code, output = cli("evaluate", "--model", untrained_model, "--data-dir", tiny_data)
    assert code == 2 and "untrained" in output
    code, output = cli(
        "evaluate",
        "--model",
        untrained_model,
        "--data-dir",
        tiny_data,
        "--files",
        "[12].*",
        "--json",
        "--allow-untrained",
    )
    assert code == 0, output
    assert json.loads(output.strip().splitlines()[-1])["pretrained"] is False


def test_bad_weights_file(tiny_data: Path, tmp_path: Path) -> None:
    junk = tmp_path / "w.pt"
    junk.write_text("not weights")
    code, output = cli(
        "train", "--data-dir", tiny_data, "--out", tmp_path / "m", "--backbone",
        "mobilefacenet", "--weights", junk,
    )  # fmt: skip
    assert code == 2 and f"cannot read weights file {junk}" in output


def test_python_api_refuses_random_weights(tiny_data: Path, tmp_path: Path) -> None:
    import face_model

    model, _ = face_model.build_model_from_folder(
        tiny_data, tmp_path / "m", backbone="mobilefacenet", files=["1.*"]
    )
    assert not model.config.pretrained
    with pytest.raises(face_model.UntrainedModelError, match="random"):
        face_model.export_model(tmp_path / "m", tmp_path / "a")
