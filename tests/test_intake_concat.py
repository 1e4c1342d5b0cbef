"""Concatenations of channels (DenseNet-style): the reading layer's weight splits into shortcuts by parts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from nnscape.errors import ModelError
from nnscape.importance import channel_edges, importance
from nnscape.intake import layer_chain, load_model
from nnscape.processing import process
from test_intake_conv import _randomise


class DenseCnn(nn.Module):
    """Each convolution reads the latest channels concatenated with the inputs of earlier layers."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.c1 = nn.Conv2d(4, 6, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(6)
        self.c2 = nn.Conv2d(4 + 6, 5, 3, padding=1)
        self.c3 = nn.Conv2d(4 + 6 + 5, 8, 1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.stem(x))  # the input of c1: node layer 1
        b = torch.relu(self.bn1(self.c1(a)))  # node layer 2
        c = torch.relu(self.c2(torch.cat([a, b], 1)))  # node layer 3
        d = self.c3(torch.cat([a, b, c], dim=1))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(torch.relu(d), 1), 1))


def _dense_cnn() -> DenseCnn:
    torch.manual_seed(5)
    model = DenseCnn()
    _randomise(model)
    return model


def test_concatenated_channels_become_shortcuts_from_their_layers(tmp_path: Path) -> None:
    model = _dense_cnn()
    x = torch.randn(3, 1, 8, 8)
    path = tmp_path / "dense.pt2"
    torch.export.save(torch.export.export(model, (x,)), path)
    for read in (model, load_model(path)):
        chain = layer_chain(read)
        assert chain.layer_sizes == [1, 4, 6, 5, 8, 10]
        assert [(skip.source, skip.target, skip.merge) for skip in chain.skips] == [
            (1, 3, "concat"), (1, 4, "concat"), (2, 4, "concat"),
        ]  # fmt: skip
        c2, c3 = model.c2.weight.detach(), model.c3.weight.detach()
        torch.testing.assert_close(chain.weights[2], c2[:, 4:])  # the latest value's slice stays the layer's
        torch.testing.assert_close(chain.skips[0].weight, c2[:, :4])
        torch.testing.assert_close(chain.weights[3], c3[:, 10:])
        torch.testing.assert_close(chain.skips[1].weight, c3[:, :4])
        torch.testing.assert_close(chain.skips[2].weight, c3[:, 4:10])
        torch.testing.assert_close(chain.logits(x), model(x))


def test_importance_of_a_dense_cnn_has_concat_edges_and_processes() -> None:
    y = torch.arange(10).repeat(6)
    x = torch.rand(60, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    network = importance(_dense_cnn(), (x, y), epochs=1, batch_size=8)
    assert network.layer_kinds == ("input", "conv", "conv", "concat", "concat", "linear")
    layers = network.node_layer
    pairs = list(zip(layers[network.edge_source], layers[network.edge_target], strict=True))
    assert pairs.count((1, 3)) == 4 * 5
    assert pairs.count((1, 4)) == 4 * 8
    assert pairs.count((2, 4)) == 6 * 8
    processed = process(network)
    assert processed.n_edges == network.n_edges
    assert int((processed.edge_span > 1).sum()) == 20 + 32 + 48


class Inception(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.out = nn.Conv2d(1, 2, 1), nn.Conv2d(1, 3, 3, padding=1), nn.Conv2d(5, 2, 1)
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.out(torch.cat([self.a(x), self.b(x)], 1))  # two parallel branches
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


class AlongPositions(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.fc = nn.Conv2d(1, 2, 1), nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.a(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(torch.cat([h, h.relu()], 2), 1), 1))


class ActivatedConcat(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.c = nn.Conv2d(1, 2, 1), nn.Conv2d(2, 2, 1), nn.Conv2d(4, 2, 1)
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.a(x))
        h = self.c(torch.sigmoid(torch.cat([h, self.b(h)], 1)))  # a function between the merge and its layer
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (Inception(), r"node 'cat' \(cat\): the value 'b' does not come from the model's path"),
        (AlongPositions(), r"node 'cat' \(cat\) joins along dim 2; nnscape reads concatenations of channels"),
        (ActivatedConcat(), r"node 'cat' \(cat\): nnscape reads concatenations that feed a Linear or an "
                            r"ungrouped convolution directly"),
    ],
)  # fmt: skip
def test_concatenations_nnscape_cannot_draw_are_refused_in_one_line(model: nn.Module, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        layer_chain(model)


def test_a_concatenation_shares_the_importance_scale_of_the_layer_reading_it() -> None:
    model = _dense_cnn()
    chain = layer_chain(model)
    source, target, _, magnitude = channel_edges(chain)
    starts = np.cumsum([0, *chain.layer_sizes])
    into = (target >= starts[4]) & (target < starts[5])  # c3's edges: from layers 1, 2 (concatenated) and 3
    layer = np.searchsorted(starts, source[into], side="right") - 1
    column = np.array([0, 4, 10])[layer - 1] + source[into] - starts[layer]  # c3's input channel
    kernel = model.c3.weight.detach().abs().sum(dim=(2, 3)).numpy()  # L1 norm of every 1×1 kernel
    expected = kernel[target[into] - starts[4], column] / kernel.max()
    np.testing.assert_allclose(magnitude[into], expected, rtol=1e-6)


def test_filter_norms_cover_the_whole_weight_of_a_layer_reading_a_concatenation() -> None:
    model = _dense_cnn()
    chain = layer_chain(model)
    torch.testing.assert_close(chain.filter_norms(3), model.c3.weight.detach().abs().sum(dim=(1, 2, 3)))
    torch.testing.assert_close(chain.filter_norms(1), chain.weights[1].abs().sum(dim=(1, 2, 3)))  # no concat


class NormalisedConcat(nn.Module):
    """A batch norm after the convolution that reads a concatenation: it scales every part the layer sums."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1)
        self.c3 = nn.Conv2d(4 + 4, 6, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.c1(x))
        b = torch.relu(self.c2(a))
        c = torch.relu(self.bn3(self.c3(torch.cat([b, a], 1))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(c, 1), 1))


def test_a_batch_norm_after_a_concatenation_scales_its_shortcut_parts_too(tmp_path: Path) -> None:
    torch.manual_seed(2)
    model = _randomise(NormalisedConcat())
    x = torch.randn(4, 1, 8, 8)
    path = tmp_path / "normalised.pt2"
    torch.export.save(torch.export.export(model, (x,)), path)
    for read in (model, load_model(path)):
        chain = layer_chain(read)
        assert [(skip.source, skip.target, skip.merge) for skip in chain.skips] == [(1, 3, "concat")]
        torch.testing.assert_close(chain.logits(x), model(x))
        # The output hook sees the whole normalised output of the layer, concatenated part included.
        seen: dict[int, torch.Tensor] = {}
        chain.logits(x, output_hook=lambda layer, z, seen=seen: seen.setdefault(layer, z))
        a = torch.relu(model.c1(x))
        torch.testing.assert_close(seen[2], model.bn3(model.c3(torch.cat([torch.relu(model.c2(a)), a], 1))))
