"""train -> enroll -> evaluate -> export -> Recognizer.load round trips on tiny images, with
the default built-in backbone (dlib's ResNet: no weights file, no torch).

The two "people" of the tiny data set are one face and its mirror image: these tests check
plumbing, reports and refusals; recognition is measured on real data (test_shared_data).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from face_model import ArtifactError, Recognizer
from face_model.artifact import read_manifest
from face_model.cli import app
from face_model.weights import sha256_file

runner = CliRunner()


def cli(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"ROLLCALL_THREADS": "1"})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, tiny_data: Path) -> Path:
    out = tmp_path_factory.mktemp("m") / "model"
    code, output = cli("train", "--data-dir", tiny_data, "--out", out, "--json")
    assert code == 0, output
    return out


def test_train_reports_problem_images_by_path(model: Path, tiny_data: Path) -> None:
    code, output = cli("train", "--data-dir", tiny_data, "--out", model, "--json")
    assert code == 0, output
    assert "warning" not in output  # built in and pretrained: nothing to warn about
    summary = json.loads(output[output.index("{") :])
    assert summary["backbone"] == "dlib-resnet-v1"
    assert summary["pretrained"] is True and summary["layout"] == "flat"
    assert summary["people"] == {"eileen": 4, "mirror": 3}  # png, jpg, gif, pgm / png, pgm, group
    kinds = {Path(i["path"]).name: i["kind"] for i in summary["issues"]}
    assert kinds == {"blank.png": "no-face", "broken.jpg": "unreadable", "group.png": "multi-face"}
    assert str(tiny_data / "eileen" / "broken.jpg") in {i["path"] for i in summary["issues"]}


def test_strict_training_fails_on_problem_images(tiny_data: Path, tmp_path: Path) -> None:
    code, _ = cli("train", "--data-dir", tiny_data, "--out", tmp_path / "m", "--strict")
    assert code == 1


def test_course_layout_and_file_globs(tiny_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "course"
    for split, names in (("train", ("1.png", "2.jpg")), ("val", ("3.gif",))):
        (data / split / "eileen").mkdir(parents=True)
        for name in names:
            (data / split / "eileen" / name).write_bytes((tiny_data / "eileen" / name).read_bytes())
    code, output = cli(
        "train", "--data-dir", data, "--out", tmp_path / "m", "--files", "*.png", "--json"
    )
    assert code == 0, output
    summary = json.loads(output[output.index("{") :])
    assert summary["layout"] == "course" and summary["people"] == {"eileen": 1}


def test_export_writes_a_verified_self_contained_artifact(
    model: Path, tmp_path: Path, astronaut: np.ndarray
) -> None:
    code, output = cli("export", "--model", model, "--out", tmp_path / "a")
    assert code == 0, output
    manifest = read_manifest(tmp_path / "a")
    assert manifest["format"] == "rollcall-face-artifact/2"
    assert manifest["backbone"] == "dlib-resnet-v1" and manifest["pretrained"] is True
    assert manifest["people"] == ["eileen", "mirror"]
    assert set(manifest["files"]) == {
        "detector/pnet.onnx",
        "detector/rnet.onnx",
        "detector/onet.onnx",
        "embedding.onnx",
        "gallery.npz",
    }
    embedder = manifest["embedder"]
    assert embedder["input_size"] == {"height": 150, "width": 150}
    assert embedder["metric"] == "euclidean" and embedder["parity_max_abs_diff"] is None
    for name, digest in manifest["files"].items():
        assert sha256_file(tmp_path / "a" / name) == digest
    rec = Recognizer.load(tmp_path / "a", threads=1)
    assert rec.pretrained and rec.people == ["eileen", "mirror"]
    [face] = rec.recognize([astronaut]).faces
    assert face.similarity > 0.5  # the enrolled face itself (its mirror is close too)


def test_detection_only_artifact(tmp_path: Path, astronaut: np.ndarray) -> None:
    code, output = cli("export", "--detection-only", "--out", tmp_path / "d")
    assert code == 0, output
    rec = Recognizer.load(tmp_path / "d", threads=1)
    assert rec.backbone == "none" and not rec.pretrained and rec.people == []
    [face] = rec.recognize([astronaut]).faces
    assert face.identity is None
    code, output = cli("export", "--out", tmp_path / "e")
    assert code == 2 and "--model MODEL_DIR or --detection-only" in output


def test_enroll_people_remove(model: Path, tiny_data: Path) -> None:
    code, output = cli(
        "enroll", "--model", model, "--person", "newcomer", tiny_data / "eileen" / "1.png"
    )
    assert code == 0, output
    code, output = cli("people", "--model", model, "--json")
    assert json.loads(output) == {"eileen": 4, "mirror": 3, "newcomer": 1}
    code, output = cli("enroll", "--model", model, "--person", "x", tiny_data / "mirror")
    assert code == 0 and "group.png" in output
    code, output = cli("remove", "--model", model, "--person", "newcomer")
    assert code == 0
    code, output = cli("remove", "--model", model, "--person", "x")
    code, output = cli("people", "--model", model, "--json")
    assert json.loads(output) == {"eileen": 4, "mirror": 3}
    code, output = cli("remove", "--model", model, "--person", "nobody")
    assert code == 2 and "'nobody' is not enrolled" in output


def test_evaluate_reports_every_figure(model: Path, tiny_data: Path) -> None:
    code, output = cli(
        "evaluate", "--model", model, "--data-dir", tiny_data, "--files", "[12].*", "--json"
    )
    assert code == 0, output
    report = json.loads(output.strip().splitlines()[-1])
    for key in (
        "accuracy",
        "tar",
        "far",
        "threshold",
        "n_images",
        "per_person",
        "unknown_rejection",
        "mean_ms_per_image",
    ):
        assert key in report
    assert report["n_images"] == 4 and report["pretrained"] is True
    assert Path(report["confusion_png"]).read_bytes()[:4] == b"\x89PNG"
    assert json.loads(Path(report["report_json"]).read_text())["n_images"] == 4


def test_bad_inputs_give_one_clear_line(tmp_path: Path, tiny_data: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, output = cli("train", "--data-dir", empty, "--out", tmp_path / "m")
    assert code == 2 and f"no images found in {empty}" in output
    assert "Traceback" not in output
    code, output = cli("train", "--data-dir", tmp_path / "nope", "--out", tmp_path / "m")
    assert code == 2 and "data directory not found" in output

    faceless = tmp_path / "faceless" / "ghost"
    faceless.mkdir(parents=True)
    (faceless / "x.png").write_bytes((tiny_data / "eileen" / "blank.png").read_bytes())
    (faceless / "y.jpg").write_bytes(b"garbage")
    code, output = cli("train", "--data-dir", faceless.parent, "--out", tmp_path / "m")
    assert code == 2 and "no usable face for: ghost (2 images)" in output
    assert "x.png: no-face" in output and "y.jpg: unreadable" in output

    junk = tmp_path / "w.pt"
    junk.write_text("not weights")
    code, output = cli("train", "--data-dir", tiny_data, "--out", tmp_path / "m", "--weights", junk)
    assert code == 2 and "dlib-resnet-v1 is built in" in output and "takes no" in output

    code, output = cli("train", "--data-dir", tiny_data, "--out", tmp_path / "m", "--backbone", "x")
    assert code == 2 and "unknown backbone 'x'" in output

    code, output = cli("export", "--model", tmp_path / "nothing", "--out", tmp_path / "a")
    assert code == 2 and "is not a model directory" in output

    code, output = cli("enroll", "--model", tmp_path / "m", "--person", "p", tmp_path / "no.png")
    assert code == 2 and "image or folder not found" in output


def test_corrupt_artifacts_are_rejected(model: Path, tmp_path: Path) -> None:
    art = tmp_path / "a"
    cli("export", "--model", model, "--out", art)
    with pytest.raises(ArtifactError, match="not a face-model artifact"):
        Recognizer.load(tmp_path)
    with pytest.raises(ArtifactError, match="artifact directory not found"):
        Recognizer.load(tmp_path / "missing")
    gallery = art / "gallery.npz"
    gallery.write_bytes(gallery.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ArtifactError, match=r"gallery\.npz is corrupt: sha256"):
        Recognizer.load(art)
    (art / "embedding.onnx").unlink()
    with pytest.raises(ArtifactError, match=r"missing embedding\.onnx"):
        Recognizer.load(art)
    manifest = art / "manifest.json"
    manifest.write_text("{")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        Recognizer.load(art)


def test_cli_version_and_help() -> None:
    code, output = cli("--version")
    assert code == 0 and output.startswith("face-model 0.2.0")
    for command in (
        "train",
        "evaluate",
        "export",
        "enroll",
        "people",
        "remove",
        "calibrate",
        "fetch-weights",
        "bench",
        "models",
    ):
        code, output = cli(command, "--help")
        assert code == 0 and "Usage" in output, command
    # the settings a deployment makes come from the environment, and --help says which
    output = runner.invoke(app, ["train", "--help"], terminal_width=200).output
    for name in ("ROLLCALL_THREADS", "ROLLCALL_BACKBONE", "ROLLCALL_WEIGHTS"):
        assert name in output


def test_bad_settings_are_one_line(tiny_data: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["train", "--data-dir", str(tiny_data), "--out", str(tmp_path / "m")],
        env={"ROLLCALL_THREADS": "many"},
    )
    assert result.exit_code == 2
    assert "ROLLCALL_THREADS" in result.output and "Traceback" not in result.output


def test_bench_json() -> None:
    code, output = cli("bench", "--json", "--backbone", "dlib-resnet-v1", "--repeats", "1")
    assert code == 0, output
    report = json.loads(output.strip().splitlines()[-1])
    entry = report["backbones"]["dlib-resnet-v1"]
    assert entry["embed_onnx_batch8_ms_per_face"] > 0 and entry["artifact_load_ms"] > 0
    assert "embed_torch_batch1_ms_per_face" not in entry  # built in: no torch network
    assert report["detect"]["onnx_batch1_ms_per_frame"] > 0


def test_models_build_list_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLCALL_MODEL_CACHE", str(tmp_path / "cache"))
    code, output = cli("models", "list", "--json")
    assert code == 0 and not any(m["built"] for m in json.loads(output)["models"])
    code, output = cli("models", "verify")
    assert code == 1 and "not built" in output
    code, output = cli("models", "build")
    assert code == 0, output
    listed = json.loads(cli("models", "list", "--json")[1])
    assert listed["cache"] == str(tmp_path / "cache")
    assert {m["name"] for m in listed["models"] if m["built"]} == {
        "mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet", "dlib-resnet-v1",
    }  # fmt: skip
    graph = tmp_path / "cache" / "dlib-resnet-v1.onnx"
    graph.write_bytes(graph.read_bytes()[:-1] + b"x")
    code, output = cli("models", "verify")
    assert code == 1 and "dlib-resnet-v1" in output and "corrupt" in output
    code, output = cli("models", "build", "--force")
    assert code == 0 and cli("models", "verify")[0] == 0


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = "import sys, face_model; assert 'torch' not in sys.modules; print(face_model.vote)"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})


def test_python_api_build_from_folder(tiny_data: Path, tmp_path: Path) -> None:
    import face_model

    built, report = face_model.build_model_from_folder(tiny_data, tmp_path / "m", files=["1.*"])
    assert report.enrolled == {"eileen": 1, "mirror": 1} and built.config.pretrained
    assert face_model.load_model(tmp_path / "m").gallery.people == ["eileen", "mirror"]
    face_model.export_model(tmp_path / "m", tmp_path / "a")
    assert face_model.read_manifest(tmp_path / "a")["people"] == ["eileen", "mirror"]
