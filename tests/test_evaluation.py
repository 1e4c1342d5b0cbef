"""Pruning curves (docs/importance.md, section 3): scores on hand-built networks, a trained digits model, files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from nnscape.cli import main
from nnscape.datasets import DatasetSplits, load_dataset
from nnscape.errors import DataError, ModelError
from nnscape.evaluation import ORDERS, PruningCurves, class_edge_scores, edge_scores, pruning_curves, write_report
from nnscape.importance import importance
from nnscape.layout import grid_layout
from nnscape.network import Network, dense_edges
from nnscape.train import TrainedModel, save_checkpoint, train_mlp

DIGITS_HIDDEN = (32, 16)
DIGITS_EPOCHS = 60  # ~0.95 test accuracy in half a second
# Digits' class-vs-rest sets are 3 batches: 60 epochs at lr 1e-2 let γ converge (the default 20 at 1e-3 do not).
IMPORTANCE_EPOCHS, IMPORTANCE_LR = 60, 1e-2


@pytest.fixture(scope="module")
def digits() -> DatasetSplits:
    return load_dataset("digits")


@pytest.fixture(scope="module")
def trained(digits: DatasetSplits) -> TrainedModel:
    return train_mlp(digits, hidden=DIGITS_HIDDEN, epochs=DIGITS_EPOCHS, seed=0)


@pytest.fixture(scope="module")
def network(trained: TrainedModel, digits: DatasetSplits) -> Network:
    return importance(trained.model, digits, epochs=IMPORTANCE_EPOCHS, lr=IMPORTANCE_LR, seed=0)


@pytest.fixture(scope="module")
def curves(trained: TrainedModel, network: Network, digits: DatasetSplits) -> PruningCurves:
    return pruning_curves(trained.model, network, digits)


def tiny_network(node_importance: list[list[float]], weights: list[float]) -> Network:
    """A 2-2-2 network with hand-set importance; edge importance |w| / max |w| per layer."""
    sizes = [2, 2, 2]
    source, target = dense_edges(sizes)
    weight = np.array(weights, np.float32)
    per_gap = np.abs(weight).reshape(2, 4)
    return Network(
        layer_sizes=np.array(sizes, np.int64),
        node_importance=np.array(node_importance, np.float32),
        node_position=grid_layout(sizes, layer_width=1.0, layer_distance=0.5),
        edge_source=source,
        edge_target=target,
        edge_weight=weight,
        edge_importance=(per_gap / per_gap.max(axis=1, keepdims=True)).ravel().astype(np.float32),
        class_names=("a", "b"),
    )


# -- scores -----------------------------------------------------------------------------------------------


def test_scores_follow_the_pruning_score_of_algorithm_1_2() -> None:
    # input node 0 matters (mean 0.5), input node 1 does not; hidden 2 matters for class a, hidden 3 for b
    network = tiny_network(
        [[1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.5], [1.0, 0.0], [0.0, 1.0]],
        [2.0, -1.0, 4.0, 4.0, 1.0, 0.0, 0.0, -2.0],
    )
    # edges source-major: 0→2, 0→3, 1→2, 1→3 | 2→4, 2→5, 3→4, 3→5; edge importance per gap
    edge = np.array([0.5, 0.25, 1.0, 1.0, 0.5, 0.0, 0.0, 1.0])
    source_mean = np.array([0.5, 0.5, 0.0, 0.0, 0.5, 0.5, 0.25, 0.25])
    np.testing.assert_allclose(edge_scores(network, "importance"), edge * source_mean)
    np.testing.assert_allclose(edge_scores(network, "importance_most_first"), -edge * source_mean)
    np.testing.assert_allclose(edge_scores(network, "gamma"), source_mean)
    np.testing.assert_allclose(edge_scores(network, "magnitude"), edge)
    by_class = class_edge_scores(network)
    assert by_class.shape == (2, 8)
    np.testing.assert_allclose(by_class[1], edge * np.array([0, 0, 0, 0, 0, 0, 0.5, 0.5]))
    random_a, random_b = edge_scores(network, "random", seed=1), edge_scores(network, "random", seed=2)
    assert not np.array_equal(random_a, random_b)
    np.testing.assert_array_equal(random_a, edge_scores(network, "random", seed=1))
    with pytest.raises(ValueError, match="order 'biggest'"):
        edge_scores(network, "biggest")


def test_pruning_removes_exactly_the_lowest_scoring_edges() -> None:
    # A 2-2-2 identity network: class a flows 0→2→4, class b 1→3→5; the cross paths are tiny and vote wrong.
    network = tiny_network(
        [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]],
        [1.0, 0.01, 0.01, 1.0, 1.0, -0.01, -0.01, 1.0],
    )
    first, second = nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        for layer, gap in zip((first, second), network.edge_weight.reshape(2, 2, 2), strict=True):
            layer.weight.copy_(torch.from_numpy(gap.T.copy()))
    model = nn.Sequential(first, nn.ReLU(), second)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]] * 4)
    y = torch.tensor([0, 1] * 4)
    curves = pruning_curves(model, network, (x, y), fractions=[0.0, 0.5, 1.0])
    # least-first, half the edges = the four cross edges: nothing lost; most-first leaves only the wrong votes;
    # with every edge gone every logit is 0 and argmax picks class a
    np.testing.assert_allclose(curves.accuracy["importance"], [1.0, 1.0, 0.5])
    np.testing.assert_allclose(curves.accuracy["importance_most_first"], [1.0, 0.0, 0.5])
    # pruning the four edges least important for class a keeps class a's path only
    np.testing.assert_allclose(curves.class_accuracy[0], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(curves.other_accuracy[0], [1.0, 0.0, 0.0])


# -- a trained digits model -------------------------------------------------------------------------------


def test_importance_order_keeps_accuracy_longest(curves: PruningCurves, trained: TrainedModel) -> None:
    assert curves.accuracy_at("importance", 0.0) == pytest.approx(trained.test_accuracy)
    at_half = {order: curves.accuracy_at(order, 0.5) for order in ORDERS}
    assert at_half["importance"] > at_half["random"] + 0.2, at_half
    assert at_half["importance"] > at_half["importance_most_first"] + 0.2, at_half
    # with every edge gone only the biases are left: every order ends at the same accuracy
    assert len({round(curves.accuracy_at(order, 1.0), 6) for order in ORDERS}) == 1


def test_class_importance_keeps_its_class(curves: PruningCurves) -> None:
    middle = (curves.fractions >= 0.3) & (curves.fractions <= 0.7)
    advantage = (curves.class_accuracy - curves.other_accuracy)[:, middle].mean(axis=1)
    assert advantage.mean() > 0.1, advantage


def test_per_class_curves_start_at_the_models_class_accuracy(
    curves: PruningCurves, trained: TrainedModel, digits: DatasetSplits
) -> None:
    assert curves.class_accuracy.shape == curves.other_accuracy.shape == (10, 21)
    correct = (trained.model(digits.test_x.flatten(1)).argmax(dim=1) == digits.test_y).numpy()
    labels = digits.test_y.numpy()
    for k in range(10):
        assert curves.class_accuracy[k, 0] == pytest.approx(correct[labels == k].mean())
        assert curves.other_accuracy[k, 0] == pytest.approx(correct[labels != k].mean())


def test_caller_model_is_untouched(trained: TrainedModel, network: Network, digits: DatasetSplits) -> None:
    before = [p.detach().clone() for p in trained.model.parameters()]
    pruning_curves(trained.model, network, digits, fractions=[0.9], random_seeds=[0])
    for old, new in zip(before, trained.model.parameters(), strict=True):
        assert torch.equal(old, new)


def test_network_of_another_model_is_refused(network: Network, digits: DatasetSplits) -> None:
    other = train_mlp(digits, hidden=DIGITS_HIDDEN, variant="untrained", seed=1)
    with pytest.raises(ModelError, match="computed from a different model"):
        pruning_curves(other.model, network, digits)
    wider = train_mlp(digits, hidden=(33, 16), variant="untrained", seed=1)
    with pytest.raises(ModelError, match=r"network layers \[64, 32, 16, 10\] do not match"):
        pruning_curves(wider.model, network, digits)


def test_bad_test_data_is_refused(trained: TrainedModel, network: Network) -> None:
    with pytest.raises(DataError, match="test labels: range"):
        pruning_curves(trained.model, network, (torch.zeros(3, 64), torch.tensor([0, 1, 12])))
    with pytest.raises(DataError, match="expected x of shape"):
        pruning_curves(trained.model, network, (torch.zeros(3, 64), torch.zeros(4)))
    with pytest.raises(ValueError, match="fractions"):
        pruning_curves(trained.model, network, (torch.zeros(3, 64), torch.zeros(3)), fractions=[1.5])


# -- files ------------------------------------------------------------------------------------------------


def test_report_writes_csv_png_svg(curves: PruningCurves, tmp_path: Path) -> None:
    written = write_report(curves, tmp_path, title="digits")
    assert sorted(p.name for p in written) == sorted(
        f"{name}.{suffix}" for name in ("pruning-curves", "pruning-per-class") for suffix in ("csv", "png", "svg")
    )
    with (tmp_path / "pruning-curves.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 21
    assert float(rows[10]["pruned_fraction"]) == pytest.approx(0.5)
    assert float(rows[10]["importance"]) == pytest.approx(curves.accuracy_at("importance", 0.5), abs=1e-6)
    with (tmp_path / "pruning-per-class.csv").open() as file:
        per_class = list(csv.DictReader(file))
    assert len(per_class) == 10 * 21
    assert per_class[0].keys() == {"class", "pruned_fraction", "class_accuracy", "other_accuracy"}
    for name in ("pruning-curves", "pruning-per-class"):
        assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG")
        assert b"<svg" in (tmp_path / f"{name}.svg").read_bytes()[:1000]
    with pytest.raises(DataError, match="does not exist"):
        write_report(curves, tmp_path / "missing")


def test_cli_writes_the_report(trained: TrainedModel, network: Network, tmp_path: Path) -> None:
    checkpoint, importance_file = tmp_path / "model.pt", tmp_path / "model.nnscape"
    save_checkpoint(checkpoint, trained)
    network.save(importance_file)
    out = tmp_path / "report"
    args = [str(checkpoint), "--data", "digits", "--network", str(importance_file), "--out", str(out), "--quiet"]
    assert main(["evaluate", *args]) == 0
    assert (out / "pruning-curves.png").is_file()
    assert (out / "pruning-per-class.svg").is_file()
    assert main(["evaluate", *args[:5], "--out", str(importance_file), "--quiet"]) == 1  # --out is a file
    fresh = tmp_path / "fresh"  # importance estimated by the command itself
    assert main(["evaluate", str(checkpoint), "--data", "digits", "--epochs", "2", "--out", str(fresh), "--quiet"]) == 0
    assert (fresh / "pruning-curves.csv").is_file()
    assert main(["evaluate", *args, "--threads", "0"]) == 2  # a usage error
