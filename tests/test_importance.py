"""Batch-norm importance: known answers on hand-built networks, invariants, options, errors, digits pruning."""

from __future__ import annotations

import copy
import json
import threading

import numpy as np
import pytest
import torch
from torch import nn

from nnscape.datasets import DatasetSplits, load_dataset
from nnscape.errors import Cancelled, ConfigError, DataError, ModelError
from nnscape.importance import edge_importance, importance
from nnscape.importance.bn_gamma import class_vs_rest_batches, matmul_precision
from nnscape.network import Network
from nnscape.progress import ProgressEvent
from nnscape.train import accuracy, train_mlp

N_CLASSES = 4
PER_CLASS = 200
# Few examples: a large step lets γ settle within a couple of hundred steps.
FAST = {"epochs": 20, "lr": 0.05, "batch_size": 64}


def _wired_data() -> tuple[torch.Tensor, torch.Tensor]:
    """Input j is high for class j (j < C); input C is always 0; input C+1 is noise unrelated to the class."""
    generator = torch.Generator().manual_seed(0)
    y = torch.arange(N_CLASSES).repeat_interleave(PER_CLASS)
    signal = nn.functional.one_hot(y, N_CLASSES).float() + 0.1 * torch.rand(y.shape[0], N_CLASSES, generator=generator)
    zero = torch.zeros(y.shape[0], 1)
    noise = torch.rand(y.shape[0], 1, generator=generator)
    return torch.cat([signal, zero, noise], dim=1), y


def _wired_model() -> nn.Sequential:
    """Hidden unit j copies input j and feeds output j only (j < C); hidden unit C is dead (no weights)."""
    model = nn.Sequential(nn.Linear(N_CLASSES + 2, N_CLASSES + 1), nn.ReLU(), nn.Linear(N_CLASSES + 1, N_CLASSES))
    with torch.no_grad():
        for layer in (model[0], model[2]):
            layer.weight.zero_()
            layer.bias.zero_()
        model[0].weight[:N_CLASSES, :N_CLASSES] = torch.eye(N_CLASSES)
        model[2].weight[:, :N_CLASSES] = 5 * torch.eye(N_CLASSES)
    return model


@pytest.fixture(scope="module")
def wired() -> Network:
    return importance(_wired_model(), _wired_data(), **FAST)  # type: ignore[arg-type]


def test_unit_wired_to_class_zero_matters_for_class_zero_only(wired: Network) -> None:
    hidden = wired.node_importance[N_CLASSES + 2 : 2 * N_CLASSES + 3]
    assert hidden[0, 0] > 0.8
    assert hidden[0, 0] > 10 * hidden[0, 1]
    for k in range(N_CLASSES):  # every class's own unit dominates
        assert int(np.argmax(hidden[k])) == k


def test_dead_unit_and_constant_pixel_end_near_zero(wired: Network) -> None:
    dead_unit = wired.node_importance[2 * N_CLASSES + 2]
    zero_pixel = wired.node_importance[N_CLASSES]
    assert dead_unit.max() < 0.05
    assert zero_pixel.max() < 0.05


def test_layers_peak_at_one_output_is_one_hot_and_edges_follow_weights(wired: Network) -> None:
    importance_ = wired.node_importance
    starts = wired.layer_starts
    for layer in range(wired.n_layers - 1):
        assert importance_[starts[layer] : starts[layer + 1]].max() == pytest.approx(1.0)
    np.testing.assert_array_equal(importance_[starts[-2] :], np.eye(N_CLASSES, dtype=np.float32))
    model = _wired_model()
    weights = [model[0].weight.detach().numpy(), model[2].weight.detach().numpy()]
    np.testing.assert_array_equal(wired.edge_weight, np.concatenate([w.T.ravel() for w in weights]))
    np.testing.assert_array_equal(wired.edge_importance, edge_importance(weights))
    # edge from input 2 to hidden 2 (weight 1, the layer maximum): source-major index 2 * n_hidden + 2
    assert wired.edge_importance[2 * (N_CLASSES + 1) + 2] == 1.0
    assert wired.class_names == tuple(str(k) for k in range(N_CLASSES))
    options = json.loads(wired.metadata["importance_config"])
    assert options["penalty"] == "l1"
    assert options["lr"] == FAST["lr"]
    assert json.loads(wired.metadata["source"])["layers"] == [N_CLASSES + 2, N_CLASSES + 1, N_CLASSES]


def test_edge_importance_is_per_layer_and_zero_layers_stay_zero() -> None:
    weights = [np.array([[2.0, -4.0]]), np.zeros((2, 1)), np.array([[0.5], [-0.25]])]
    np.testing.assert_array_equal(edge_importance(weights), [0.5, 1.0, 0.0, 0.0, 1.0, 0.5])


def test_same_seed_same_result_and_the_model_is_untouched() -> None:
    model = _wired_model().train()
    before = copy.deepcopy(model.state_dict())
    data = _wired_data()
    first = importance(model, data, epochs=2, seed=5)
    second = importance(model, data, epochs=2, seed=5)
    other = importance(model, data, epochs=2, seed=6)
    np.testing.assert_array_equal(first.node_importance, second.node_importance)
    assert not np.array_equal(first.node_importance, other.node_importance)
    assert model.training
    assert all(p.requires_grad for p in model.parameters())
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])


def test_bfloat16_products_change_the_importance_little_and_the_file_records_the_precision(wired: Network) -> None:
    runs = {name: importance(_wired_model(), _wired_data(), precision=name, **FAST) for name in ("float32", "bfloat16")}
    assert not np.array_equal(runs["bfloat16"].node_importance, runs["float32"].node_importance)
    # γ's pushed to 0 jitter by about lr (0.05 here) under L1 either way; the large ones agree closely
    np.testing.assert_allclose(runs["bfloat16"].node_importance, runs["float32"].node_importance, atol=FAST["lr"])
    for name, network in runs.items():
        assert json.loads(network.metadata["importance_config"])["precision"] == name
    # "auto" (the default) records what it chose: bfloat16 only where the device computes it natively
    assert json.loads(wired.metadata["importance_config"])["precision"] == matmul_precision("auto", torch.device("cpu"))
    assert matmul_precision("auto", torch.device("meta")) == "float32"


@pytest.mark.parametrize("penalty", ["l2", "none"])
def test_other_penalties_run(penalty: str) -> None:
    network = importance(_wired_model(), _wired_data(), penalty=penalty, **FAST)  # type: ignore[arg-type]
    hidden = network.node_importance[N_CLASSES + 2 : 2 * N_CLASSES + 3]
    assert int(np.argmax(hidden[1])) == 1
    if penalty == "none":  # nothing pulls the dead unit down: it keeps γ = 1
        assert hidden[N_CLASSES].min() > 0


def test_rest_never_holds_class_k_and_is_as_large_as_class_k() -> None:
    y = torch.tensor([0] * 5 + [1] * 3 + [2] * 12)
    counts = torch.bincount(y)
    index, labels = class_vs_rest_batches(y, counts, 30, torch.Generator().manual_seed(0))
    assert index.shape == labels.shape == (30, 3)
    for k, count in enumerate(counts.tolist()):
        own, rest = index[labels[:, k] == 0, k], index[labels[:, k] == 1, k]
        assert bool((y[own] == k).all())
        assert bool((y[rest] != k).all())
        first_epoch = index[: 2 * count, k]  # before the column repeats to fill the span
        assert sorted(first_epoch[y[first_epoch] == k].tolist()) == torch.nonzero(y == k).ravel().tolist()
        assert int((y[first_epoch] != k).sum()) == count
    # class 2 outnumbers the rest (12 > 8): its rest is drawn with replacement, still never from class 2
    assert bool((y[index[labels[:, 2] == 1, 2]] != 2).all())


def test_two_unbalanced_classes_and_class_names() -> None:
    x, y = _wired_data()
    keep = (y == 0) | ((y == 1) & (torch.arange(y.shape[0]) % 10 == 0))  # 200 against 20
    model = _wired_model()
    model[2] = nn.Linear(N_CLASSES + 1, 2)
    network = importance(model, (x[keep], y[keep]), epochs=1, class_names=["cat", "dog"])
    assert network.class_names == ("cat", "dog")
    assert network.node_importance.shape == (N_CLASSES + 2 + N_CLASSES + 1 + 2, 2)


def test_progress_per_epoch_and_cancel() -> None:
    events: list[ProgressEvent] = []
    importance(_wired_model(), _wired_data(), epochs=3, progress=events.append)
    assert [(e.phase, e.step, e.total) for e in events] == [("importance", k, 3) for k in (1, 2, 3)]
    assert all(np.isfinite(e.values["loss"]) for e in events)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        importance(_wired_model(), _wired_data(), cancel=stop)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"epochs": 0}, ConfigError, "epochs: expected a whole number >= 1, got 0"),
        ({"penalty": "l3"}, ConfigError, "penalty: expected one of l1, l2, none, got 'l3'"),
        ({"strength": -1.0}, ConfigError, "strength: expected a number >= 0"),
        ({"batch_size": 1}, ConfigError, "batch_size: expected a whole number >= 2, got 1"),
        ({"lr": 0.0}, ConfigError, "lr: expected a number > 0"),
        ({"precision": "float16"}, ConfigError, "precision: expected one of auto, float32, bfloat16, got 'float16'"),
        ({"class_names": ["a", "b"]}, DataError, "class_names: 2 names but the model has 4 outputs"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        importance(_wired_model(), _wired_data(), **options)  # type: ignore[arg-type]


def test_data_that_does_not_fit_is_refused() -> None:
    x, y = _wired_data()
    with pytest.raises(DataError, match=r"the model takes 6 inputs but the data has examples of shape \(5,\)"):
        importance(_wired_model(), (x[:, :5], y))
    with pytest.raises(DataError, match=r"data: no training examples of class 3 \(the model has 4 outputs"):
        importance(_wired_model(), (x[y < 3], y[y < 3]))
    with pytest.raises(ModelError, match="the model has 1 outputs; nnscape handles 2 to 100 classes"):
        importance(nn.Sequential(nn.Linear(6, 1)), (x, torch.zeros_like(y)))
    with pytest.raises(ModelError, match="the model has 101 outputs"):
        importance(nn.Sequential(nn.Linear(6, 101)), (x, y))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu() -> None:
    cpu = importance(_wired_model(), _wired_data(), device="cpu", **FAST)  # type: ignore[arg-type]
    cuda = importance(_wired_model(), _wired_data(), device="cuda", **FAST)  # type: ignore[arg-type]
    np.testing.assert_allclose(cuda.node_importance, cpu.node_importance, atol=0.02)


# -- the digits pruning check (docs/importance.md, section 3) ---------------------------------------------


def _pruned_accuracy(model: nn.Sequential, network: Network, order: np.ndarray, fraction: float,
                     digits: DatasetSplits) -> float:  # fmt: skip
    """Test accuracy with the first ``fraction`` of edges in ``order`` set to zero (edges source-major)."""
    pruned = copy.deepcopy(model)
    dropped = order[: int(fraction * network.n_edges)]
    offset = 0
    with torch.no_grad():
        for layer in (m for m in pruned if isinstance(m, nn.Linear)):
            n_out, n_in = layer.weight.shape
            local = dropped[(dropped >= offset) & (dropped < offset + n_in * n_out)] - offset
            layer.weight[local % n_out, local // n_out] = 0.0
            offset += n_in * n_out
    return accuracy(pruned, digits.test_x.flatten(1), digits.test_y)


def test_pruning_least_important_edges_keeps_digits_accuracy() -> None:
    digits = load_dataset("digits")
    trained = train_mlp(digits, hidden=(32, 16), epochs=40, seed=0)
    assert trained.test_accuracy > 0.9
    network = importance(trained.model, digits)  # the defaults of docs/importance.md, section 1
    score = network.edge_importance * network.node_importance.mean(axis=1)[network.edge_source]
    orders = {
        "least": np.argsort(score, kind="stable"),
        "most": np.argsort(-score, kind="stable"),
        "random": np.random.default_rng(0).permutation(network.n_edges),
    }
    half = {name: _pruned_accuracy(trained.model, network, order, 0.5, digits) for name, order in orders.items()}
    assert half["least"] > half["random"] + 0.25
    assert half["least"] > half["most"] + 0.3


# -- the package and its registry of methods ------------------------------------------------------------------


def test_nnscape_importance_is_callable_before_and_after_the_package_is_imported() -> None:
    import importlib

    import nnscape

    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x, y = torch.randn(40, 4), torch.arange(2).repeat(20)
    importlib.import_module("nnscape.importance.bn_gamma")  # sets nnscape.importance to the package
    network = nnscape.importance(model, (x, y), epochs=1)
    assert json.loads(network.metadata["importance_config"])["method"] == "batchnorm-gamma"
    assert network.layer_sizes.tolist() == [4, 3, 2]


def test_unknown_methods_and_settings_are_refused_by_name() -> None:
    model = nn.Sequential(nn.Linear(4, 2))
    data = (torch.randn(8, 4), torch.arange(2).repeat(4))
    with pytest.raises(ConfigError, match=r"method 'conductance': expected one of batchnorm-gamma, activation, taylor"):
        importance(model, data, method="conductance")
    with pytest.raises(ConfigError, match=r"momentum: not a setting of the batchnorm-gamma method \(it has epochs"):
        importance(model, data, momentum=0.9)
