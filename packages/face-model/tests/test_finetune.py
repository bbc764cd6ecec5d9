"""Optional fine-tuning: seeded, resumable checkpoints in the common checkpoint format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rollcall_testkit as testkit
from face_model.backbones import MOBILEFACENET, build_backbone
from face_model.cli import app
from face_model.errors import DataError
from face_model.finetune import FineTuneConfig, checkpoints, fine_tune
from face_model.weights import load_backbone

torch = testkit.require_torch()


def _data() -> tuple[list[np.ndarray], list[int]]:
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (112, 96, 3), dtype=np.uint8) for _ in range(6)]
    return crops, [0, 0, 0, 1, 1, 1]


def _run(tmp: Path, epochs: int, resume: bool = True) -> torch.nn.Module:
    torch.manual_seed(123)
    net = build_backbone("mobilefacenet")
    crops, labels = _data()
    fine_tune(
        net,
        MOBILEFACENET,
        crops=crops,
        labels=labels,
        people=["a", "b"],
        config=FineTuneConfig(epochs=epochs, batch_size=4, seed=7),
        checkpoint_dir=tmp,
        resume=resume,
    )
    return net


def test_resuming_gives_the_same_weights_as_one_run(tmp_path: Path) -> None:
    straight = _run(tmp_path / "a", 2)
    _run(tmp_path / "b", 1)
    resumed = _run(tmp_path / "b", 2)  # continues from epoch-001.pt
    assert [p.name for p in checkpoints(tmp_path / "b")] == ["epoch-001.pt", "epoch-002.pt"]
    for (key, a), b in zip(
        straight.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), key
    # the checkpoint is in the common {'epoch', 'net_state_dict'} format: usable as --weights
    state = torch.load(tmp_path / "b" / "epoch-002.pt", weights_only=True)
    assert state["epoch"] == 2 and len(state["losses"]) == 2
    load_backbone("mobilefacenet", tmp_path / "b" / "epoch-002.pt")


def test_fine_tuning_refuses_bad_setups(tmp_path: Path) -> None:
    crops, _ = _data()
    net = build_backbone("mobilefacenet")
    cfg = FineTuneConfig(epochs=1)
    with pytest.raises(DataError, match="at least two people"):
        fine_tune(
            net,
            MOBILEFACENET,
            crops=crops,
            labels=[0] * 6,
            people=["a"],
            config=cfg,
            checkpoint_dir=tmp_path,
        )
    _run(tmp_path / "c", 1)
    with pytest.raises(DataError, match="trained on other people"):
        fine_tune(
            net,
            MOBILEFACENET,
            crops=crops,
            labels=[0, 0, 0, 1, 1, 1],
            people=["x", "y"],
            config=FineTuneConfig(epochs=2),
            checkpoint_dir=tmp_path / "c",
        )


def test_train_cli_with_epochs(tiny_data: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data-dir",
            str(tiny_data),
            "--out",
            str(tmp_path / "m"),
            "--backbone",
            "mobilefacenet",
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--json",
        ],
        env={"ROLLCALL_THREADS": "1"},
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert summary["fine_tune"]["epochs"] == 1 and len(summary["fine_tune"]["losses"]) == 1
    assert (tmp_path / "m" / "checkpoints" / "epoch-001.pt").is_file()
    assert summary["pretrained"] is False  # fine-tuning random weights on 7 photos is not
