"""batchnorm-gamma with the model's own batch norms: inserted (default) or fine-tuned ("existing"), and the
structured pruning curves that decide between them."""

from __future__ import annotations

import copy
import json
from functools import partial

import numpy as np
import pytest
import torch
from torch import nn

from nnscape.errors import ConfigError
from nnscape.evaluation import CHANNEL_ORDERS, pruning_curves
from nnscape.importance import importance
from nnscape.importance.bn_gamma import _tune_norms, existing_norms, fine_tune_gammas
from nnscape.intake import layer_chain

N_CLASSES = 3
PER_CLASS = 60
FAST = {"epochs": 30, "lr": 0.05, "batch_size": 32}


def _cnn(seed: int = 0) -> nn.Sequential:
    """conv → BN → ReLU → conv → BN → ReLU → global average → Linear, with non-trivial BN statistics."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 5, 3), nn.BatchNorm2d(5), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, N_CLASSES),
    )  # fmt: skip
    with torch.no_grad():
        for bn in (model[1], model[4]):
            assert isinstance(bn, nn.BatchNorm2d)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 2.0)
    return model.eval()


def _images() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    y = torch.arange(N_CLASSES).repeat_interleave(PER_CLASS)
    x = torch.rand(y.shape[0], 1, 6, 6, generator=generator)
    x[:, :, : int(N_CLASSES), 0] += torch.nn.functional.one_hot(y, N_CLASSES).float()[:, None, :]  # a class mark
    return x, y


def test_the_chain_records_the_batch_norm_that_follows_a_layer() -> None:
    model = _cnn()
    chain = layer_chain(model)
    assert len(chain.norms) == 3
    for layer, bn in ((0, model[1]), (1, model[4])):
        gamma, beta = chain.norms[layer]  # type: ignore[misc]
        torch.testing.assert_close(gamma, bn.weight.detach())
        torch.testing.assert_close(beta, bn.bias.detach())
    assert chain.norms[2] is None
    assert set(existing_norms(chain)) == {1, 2}  # the node layers these batch norms produce
    # A batch norm on the input, folded forward into the convolution, belongs to no layer's output.
    before = nn.Sequential(nn.BatchNorm2d(1), nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 16, 2)).eval()
    assert layer_chain(before).norms == (None, None)


def test_class_k_gamma_acts_like_the_model_with_that_gamma() -> None:
    """Row b·C + k of the batched pass computes the model whose BN γ is class k's γ' (running statistics, β kept)."""
    model = _cnn()
    chain = layer_chain(model)
    tuned = existing_norms(chain)
    gammas = [torch.ones(N_CLASSES, n) for n in chain.layer_sizes[:-1]]
    for layer, (gamma, _beta) in tuned.items():
        gammas[layer] = gamma.expand(N_CLASSES, -1).clone()
    gammas[1][2] = gammas[1][2] * torch.tensor([2.0, 0.0, 0.5, -1.0])  # class 2 changes the first BN
    x, _ = _images()
    batch = x[:4].repeat_interleave(N_CLASSES, dim=0)  # rows b·C + k
    with torch.no_grad():
        logits = chain.logits(batch, output_hook=partial(_tune_norms, gammas, tuned)).view(4, N_CLASSES, N_CLASSES)
        changed = copy.deepcopy(model)
        changed[1].weight.copy_(gammas[1][2])
        torch.testing.assert_close(logits[:, 0], model(x[:4]), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(logits[:, 2], changed(x[:4]), rtol=1e-4, atol=1e-5)


def test_existing_mode_starts_at_the_models_gamma_and_leaves_the_model_untouched() -> None:
    model = _cnn()
    before = copy.deepcopy(model.state_dict())
    x, y = _images()
    chain = layer_chain(model)
    common = {"penalty": "l1", "strength": 0.01, "batch_size": 32, "seed": 0, "device": torch.device("cpu")}
    barely, _ = fine_tune_gammas(chain, x, y, epochs=1, lr=1e-9, batch_norm="existing", **common)  # type: ignore[arg-type]
    torch.testing.assert_close(barely[0], torch.ones(N_CLASSES, 1))  # the input: an inserted BN starts at 1
    torch.testing.assert_close(barely[1], model[1].weight.detach().expand(N_CLASSES, -1), atol=1e-6, rtol=0)
    torch.testing.assert_close(barely[2], model[4].weight.detach().expand(N_CLASSES, -1), atol=1e-6, rtol=0)
    tuned, _ = fine_tune_gammas(chain, x, y, epochs=20, lr=0.05, batch_norm="existing", **common)  # type: ignore[arg-type]
    assert (tuned[1] - barely[1]).abs().max() > 0.1  # fine-tuning moved the model's γ …
    assert not torch.equal(tuned[1][0], tuned[1][1])  # … differently per class
    for name, value in model.state_dict().items():  # … in a copy: the model is as it was
        assert torch.equal(value, before[name]), name


def test_a_zero_gamma_stays_zero_and_the_setting_is_recorded() -> None:
    model = _cnn()
    with torch.no_grad():
        model[4].weight[3] = 0.0  # channel 3 of the second BN carries only its β
    network = importance(model, _images(), batch_norm="existing", **FAST)  # type: ignore[arg-type]
    start = int(network.layer_starts[2])
    assert np.all(network.node_importance[start + 3] == 0)
    assert network.node_importance[start : start + 5].max() == pytest.approx(1.0)
    config = json.loads(network.metadata["importance_config"])
    assert config["batch_norm"] == "existing"
    default = importance(model, _images(), **FAST)  # type: ignore[arg-type]
    assert json.loads(default.metadata["importance_config"])["batch_norm"] == "insert"
    assert not np.allclose(default.node_importance, network.node_importance)


def test_a_bad_batch_norm_mode_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"batch_norm: expected one of insert, existing, got 'both'"):
        importance(_cnn(), _images(), batch_norm="both", epochs=1)


def test_an_mlp_without_batch_norms_gives_the_same_result_in_both_modes() -> None:
    """Nothing to fine-tune: "existing" inserts a batch norm everywhere, as "insert" does."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(36, 8), nn.ReLU(), nn.Linear(8, N_CLASSES))
    x, y = _images()
    data = (x.flatten(1), y)
    inserted = importance(model, data, **FAST)  # type: ignore[arg-type]
    existing = importance(model, data, batch_norm="existing", **FAST)  # type: ignore[arg-type]
    np.testing.assert_array_equal(inserted.node_importance, existing.node_importance)


def test_channel_curves_have_every_order_and_class_and_meet_at_both_ends() -> None:
    model = _cnn()
    x, y = _images()
    network = importance(model, (x, y), **FAST)  # type: ignore[arg-type]
    curves = pruning_curves(model, network, (x, y), fractions=[0.0, 0.5, 1.0])
    assert curves.unit == "channels"
    assert tuple(curves.accuracy) == CHANNEL_ORDERS
    assert all(accuracy.shape == (3,) for accuracy in curves.accuracy.values())
    assert curves.class_accuracy.shape == curves.other_accuracy.shape == (N_CLASSES, 3)
    with torch.no_grad():
        hits = (model(x).argmax(1) == y).numpy()
    for order in CHANNEL_ORDERS:  # nothing pruned: the model; every hidden channel pruned: one and the same model
        assert curves.accuracy[order][0] == pytest.approx(hits.mean())
        assert curves.accuracy[order][2] == pytest.approx(curves.accuracy["random"][2])
    for k in range(N_CLASSES):
        assert curves.class_accuracy[k, 0] == pytest.approx(hits[y.numpy() == k].mean())
        assert curves.other_accuracy[k, 0] == pytest.approx(hits[y.numpy() != k].mean())
