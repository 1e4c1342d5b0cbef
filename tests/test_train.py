"""Example MLPs: the three variants, determinism, progress and cancel, checkpoints."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
import torch

from nnscape.datasets import DatasetSplits, load_dataset
from nnscape.errors import Cancelled, ConfigError
from nnscape.intake import load_model, mlp_chain
from nnscape.progress import ProgressEvent
from nnscape.train import accuracy, save_checkpoint, train_mlp

HIDDEN = (16,)
EPOCHS = 30  # ~0.9 test accuracy for 64-16-10


@pytest.fixture(scope="module")
def digits() -> DatasetSplits:
    return load_dataset("digits")


def _weight_sum(model: torch.nn.Module) -> float:
    return sum(float(weight.abs().sum()) for weight in mlp_chain(model).weights)


def test_variants_learn_or_not(digits: DatasetSplits) -> None:
    untrained = train_mlp(digits, hidden=HIDDEN, variant="untrained", epochs=EPOCHS)
    basic = train_mlp(digits, hidden=HIDDEN, epochs=EPOCHS)
    sparse = train_mlp(digits, hidden=HIDDEN, variant="l1", l1=0.01, epochs=EPOCHS)
    assert untrained.layer_sizes == (64, 16, 10)
    assert untrained.test_accuracy < 0.3
    assert basic.test_accuracy > 0.8
    assert basic.train_accuracy > 0.8
    assert sparse.test_accuracy > 0.5
    assert _weight_sum(sparse.model) < 0.8 * _weight_sum(basic.model)
    assert basic.class_names == digits.class_names


def test_same_seed_same_weights_other_seed_other_weights(digits: DatasetSplits) -> None:
    first = train_mlp(digits, hidden=HIDDEN, epochs=2, seed=3)
    second = train_mlp(digits, hidden=HIDDEN, epochs=2, seed=3)
    third = train_mlp(digits, hidden=HIDDEN, epochs=2, seed=4)
    for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(first.model[0].weight, third.model[0].weight)


def test_progress_per_epoch_and_cancel(digits: DatasetSplits) -> None:
    events: list[ProgressEvent] = []
    train_mlp(digits, hidden=HIDDEN, epochs=3, progress=events.append)
    assert [(e.phase, e.step, e.total) for e in events] == [("train", k, 3) for k in (1, 2, 3)]
    assert events[-1].values["loss"] < events[0].values["loss"]
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        train_mlp(digits, hidden=HIDDEN, epochs=3, cancel=stop)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"variant": "dense"}, "variant: expected one of untrained, basic, l1, got 'dense'"),
        ({"epochs": 0}, "epochs: expected a whole number >= 1, got 0"),
        ({"l1": -1.0}, "l1: expected a number >= 0, got -1.0"),
        ({"hidden": (8, 0)}, r"hidden: layer sizes must be at least 1, got \[8, 0\]"),
    ],
)
def test_bad_options_are_refused(digits: DatasetSplits, options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        train_mlp(digits, **options)  # type: ignore[arg-type]


def test_checkpoint_round_trips_weights_only(digits: DatasetSplits, tmp_path: Path) -> None:
    trained = train_mlp(digits, hidden=HIDDEN, epochs=2)
    path = tmp_path / "model.pt"
    save_checkpoint(path, trained)
    content = torch.load(path, weights_only=True)
    assert content["layer_sizes"] == [64, 16, 10]
    assert content["test_accuracy"] == pytest.approx(trained.test_accuracy)
    assert content["class_names"] == list(digits.class_names)
    assert content["variant"] == "basic"
    loaded = load_model(path)
    x = digits.test_x.flatten(1)
    torch.testing.assert_close(loaded(x), trained.model(x))
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temporary file left


def test_accuracy_without_data_is_nan_and_keeps_the_mode(digits: DatasetSplits) -> None:
    model = train_mlp(digits, hidden=HIDDEN, variant="untrained").model.train()
    assert math.isnan(accuracy(model, digits.test_x[:0].flatten(1), digits.test_y[:0]))
    accuracy(model, digits.test_x.flatten(1), digits.test_y)
    assert model.training
