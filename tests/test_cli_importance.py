"""``nnscape train`` and ``nnscape importance`` end to end on digits, and their one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nnscape.cli import main
from nnscape.io import load


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "digits.pt"
    assert main(["train", "--data", "digits", "--layers", "16", "--epochs", "3", "--out", str(path), "--quiet"]) == 0
    return path


def test_train_prints_accuracies_and_writes_a_checkpoint(checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = checkpoint.parent / "untrained.pt"
    assert main(["train", "--data", "digits", "--layers", "8,4", "--untrained", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "untrained MLP 64,8,4,10 on digits, train accuracy" in printed
    assert "test accuracy" in printed
    content = torch.load(out, weights_only=True)
    assert content["variant"] == "untrained"
    assert content["layer_sizes"] == [64, 8, 4, 10]


def test_importance_writes_a_network_that_info_reads(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "digits.nnscape"
    status = main(["importance", str(checkpoint), "--data", "digits", "--out", str(out), "--epochs", "2",
                   "--penalty", "l2", "--seed", "3", "--device", "cpu", "--quiet"])  # fmt: skip
    assert status == 0
    assert "layers 64,16,10, 10 classes, 1184 edges" in capsys.readouterr().out
    network = load(out)
    assert network.kind == "network"
    assert network.class_names == tuple(str(k) for k in range(10))
    source = json.loads(network.metadata["source"])
    assert source["model_file"] == str(checkpoint)
    assert source["data"] == "digits"
    assert json.loads(network.metadata["importance_config"])["penalty"] == "l2"
    assert main(["info", str(out)]) == 0
    assert "64 - 16 - 10" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message", "status"),
    [
        (["importance", "missing.pt", "--data", "digits"], "no such model file", 1),
        (["importance", "{model}", "--data", "mnist"], "expected digits, fashion-mnist", 1),
        (["importance", "{model}", "--data", "digits", "--device", "tpu"], "--device: 'tpu' is not allowed", 2),
        (["importance", "{model}", "--data", "digits", "--epochs", "0"], "--epochs: '0' is not allowed", 2),
        (["train", "--data", "digits", "--layers", "8,x"], "--layers: 'x' is not a whole number", 1),
    ],
)
def test_errors_are_one_line(
    arguments: list[str],
    message: str,
    status: int,
    checkpoint: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    filled = [argument.replace("{model}", str(checkpoint)) for argument in arguments]
    assert main([*filled, "--out", str(tmp_path / "out"), "--quiet"]) == status
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_l1_and_untrained_exclude_each_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--data", "digits", "--l1", "0.001", "--untrained", "--out", str(tmp_path / "m.pt")]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
