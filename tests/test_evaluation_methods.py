"""Importance methods side by side (nnscape.evaluation_methods): one digits model, every method, files, CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from tests import test_evaluation

from nnscape.cli import main
from nnscape.datasets import DatasetSplits
from nnscape.errors import ConfigError, DataError
from nnscape.evaluation import PRUNE_FRACTIONS
from nnscape.evaluation_methods import MethodComparison, compare_methods, write_comparison
from nnscape.importance import METHODS
from nnscape.train import TrainedModel, save_checkpoint

FINE_TUNING = {"batchnorm-gamma": {"epochs": test_evaluation.IMPORTANCE_EPOCHS, "lr": test_evaluation.IMPORTANCE_LR}}
digits, trained = test_evaluation.digits, test_evaluation.trained  # the same digits model, as fixtures


@pytest.fixture(scope="module")
def comparison(trained: TrainedModel, digits: DatasetSplits) -> MethodComparison:
    return compare_methods(trained.model, digits, settings=FINE_TUNING)


def test_every_method_is_compared_on_the_same_steps(comparison: MethodComparison, trained: TrainedModel) -> None:
    assert comparison.methods == tuple(METHODS)
    np.testing.assert_array_equal(comparison.fractions, PRUNE_FRACTIONS)
    for method in comparison.methods:
        curve = comparison.curves[method].accuracy["importance"]
        assert curve[0] == pytest.approx(trained.test_accuracy)  # nothing pruned: the model itself
        assert curve[-1] < 0.2  # everything pruned: a constant guess
        assert comparison.seconds[method] >= 0
        assert json.loads(comparison.settings[method])["method"] == method
    assert json.loads(comparison.settings["batchnorm-gamma"])["epochs"] == test_evaluation.IMPORTANCE_EPOCHS
    assert comparison.best() in comparison.methods
    assert comparison.accuracy_at(comparison.best()) == max(comparison.accuracy_at(m) for m in comparison.methods)


def test_every_method_beats_random_order_and_keeps_its_classes(comparison: MethodComparison) -> None:
    half = 0.5
    for method in comparison.methods:
        assert comparison.accuracy_at(method, half) > comparison.accuracy_at("random", half) + 0.25, method
        # pruning by class-k importance keeps class k better than the others
        assert comparison.class_advantage_at(method, 0.8) > 0.1, method


def test_a_subset_and_the_training_split(trained: TrainedModel, digits: DatasetSplits) -> None:
    only = compare_methods(trained.model, digits, methods=["taylor"], split="train")
    assert only.methods == ("taylor",)
    assert only.split == "train"
    assert only.curves["taylor"].accuracy["importance"][0] == pytest.approx(trained.train_accuracy)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"methods": ["taylor", "conductance"]}, ConfigError, "method 'conductance': expected one of batchnorm-gamma"),
        ({"settings": {"shapley": {}}}, ConfigError, "method 'shapley'"),
        ({"methods": ["taylor", "taylor"]}, ConfigError, "methods: expected distinct names"),
        ({"methods": []}, ConfigError, "methods: expected distinct names"),
        ({"split": "validation"}, ConfigError, "split 'validation': expected one of test, train"),
    ],
)
def test_bad_choices_are_refused(
    options: dict[str, object],
    error: type[Exception],
    message: str,
    trained: TrainedModel,
    digits: DatasetSplits,
) -> None:
    with pytest.raises(error, match=message):
        compare_methods(trained.model, digits, **options)  # type: ignore[arg-type]


def test_an_empty_test_split_is_refused(trained: TrainedModel, digits: DatasetSplits) -> None:
    no_test = DatasetSplits(digits.train_x, digits.train_y, digits.test_x[:0], digits.test_y[:0], digits.class_names)
    with pytest.raises(DataError, match="the test split is empty; use the other split"):
        compare_methods(trained.model, no_test, methods=["taylor"])


def test_files_hold_every_method(comparison: MethodComparison, tmp_path: Path) -> None:
    written = write_comparison(comparison, tmp_path)
    assert all(path.is_file() for path in written)
    with (tmp_path / "methods-curves.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["pruned_fraction", *METHODS, "magnitude", "random"]
    assert len(rows) == PRUNE_FRACTIONS.size
    assert float(rows[0]["taylor"]) == pytest.approx(comparison.curves["taylor"].accuracy["importance"][0])
    with (tmp_path / "methods-per-class.csv").open() as file:
        per_class = list(csv.DictReader(file))
    assert len(per_class) == len(METHODS) * 10 * PRUNE_FRACTIONS.size
    with (tmp_path / "methods-summary.csv").open() as file:
        summary = {row["method"]: row for row in csv.DictReader(file)}
    assert set(summary) == set(METHODS)
    recorded = float(summary["activation"]["accuracy_at_0.90"])
    assert recorded == pytest.approx(comparison.accuracy_at("activation"), abs=1e-6)
    assert (tmp_path / "methods-curves.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "methods-curves.svg").read_bytes()[:1000]
    assert (tmp_path / "pruning-per-class.png").is_file()  # the first method's report by every order
    with pytest.raises(DataError, match="does not exist"):
        write_comparison(comparison, tmp_path / "missing")


def test_cli_compares_the_methods(trained: TrainedModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = tmp_path / "model.pt"
    save_checkpoint(checkpoint, trained)
    out = tmp_path / "report"
    arguments = ["evaluate", str(checkpoint), "--data", "digits", "--out", str(out), "--quiet", "--threads", "1"]
    assert main([*arguments, "--method", "activation", "--method", "taylor", "--split", "train"]) == 0
    printed = capsys.readouterr().out
    assert "train accuracy at 90% of edges pruned" in printed
    assert "taylor" in printed
    assert "batchnorm-gamma" not in printed
    with (out / "methods-curves.csv").open() as file:
        assert next(csv.reader(file)) == ["pruned_fraction", "activation", "taylor", "magnitude", "random"]
    for plot in ("methods-curves", "pruning-curves", "pruning-per-class"):  # every plot names the split
        text = (out / f"{plot}.svg").read_text()
        assert "Train accuracy" in text
        assert "Test accuracy" not in text
    assert main([*arguments, "--method", "taylor", "--network", str(checkpoint)]) == 1
    assert "--method: not with --network" in capsys.readouterr().err
