"""Convolutional models: channels are nodes, conv kernels become channel edges, batch norms fold, images fit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from nnscape.cli import main
from nnscape.errors import DataError, ModelError
from nnscape.importance import channel_edges, importance
from nnscape.intake import layer_chain, load_model
from nnscape.io import load


def _randomise(model: nn.Module) -> nn.Module:
    """Batch norms far from the identity, so folding errors show; eval mode."""
    torch.manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            with torch.no_grad():
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
                module.weight.uniform_(-2, 2)
                module.bias.uniform_(-1, 1)
    return model.eval()


def _small_cnn() -> nn.Module:
    """Padded conv → BN2d → ReLU → max pool → grouped conv → ReLU → global average → Linear (digits-sized)."""
    torch.manual_seed(1)
    return _randomise(nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, groups=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3),
    ))  # fmt: skip


class FunctionalCnn(nn.Module):
    """A custom forward with functional conv, pooling, a global mean and a bridge over 2×2 positions."""

    def __init__(self) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(3, 2, 3, 3))
        self.b1 = nn.Parameter(torch.randn(3))
        self.depthwise = nn.Conv2d(3, 3, 1, groups=3)
        self.out = nn.Linear(3 * 2 * 2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(F.conv2d(x, self.w1, self.b1, stride=1, padding=1))
        h = F.avg_pool2d(self.depthwise(h), 2)
        return self.out(torch.flatten(h, 1))


@pytest.mark.parametrize(
    ("build", "shape", "sizes"),
    [
        (_small_cnn, (1, 8, 8), [1, 4, 8, 3]),
        (FunctionalCnn, (2, 4, 4), [2, 3, 3, 4]),
        (lambda: nn.Sequential(nn.Conv1d(2, 5, 3), nn.Tanh(), nn.Flatten(), nn.Linear(5 * 4, 2)), (2, 6), [2, 5, 2]),
        (
            lambda: _randomise(nn.Sequential(nn.BatchNorm2d(1), nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2, 2))),
            (1, 3, 3),
            [1, 2, 2],
        ),  # a BN before an unpadded conv folds into it
        (
            lambda: _randomise(
                nn.Sequential(
                    nn.Conv2d(1, 2, 1),
                    nn.ReLU(),
                    nn.BatchNorm2d(2),
                    nn.Conv2d(2, 2, 3, padding=1),
                    nn.Flatten(),
                    nn.Linear(18, 2),
                )
            ),
            (1, 3, 3),
            [1, 2, 2, 2],
        ),  # kept: padding
    ],
    ids=["cnn", "functional", "conv1d", "bn-folds-forward", "bn-before-padding"],
)
def test_conv_chains_give_channel_sizes_and_the_same_logits(build: object, shape: tuple[int, ...],
                                                             sizes: list[int]) -> None:  # fmt: skip
    torch.manual_seed(2)
    model = build()  # type: ignore[operator]
    chain = layer_chain(model)
    x = torch.randn(5, *shape)
    assert chain.layer_sizes == sizes
    torch.testing.assert_close(chain.logits(x), model(x))


def test_torch_export_of_a_cnn_reads_the_same(tmp_path: Path) -> None:
    model = _small_cnn()
    x = torch.randn(4, 1, 8, 8)
    path = tmp_path / "cnn.pt2"
    torch.export.save(torch.export.export(model, (x,)), path)
    chain = layer_chain(load_model(path))
    assert chain.layer_sizes == [1, 4, 8, 3]
    assert chain.names == ("0", "4", "8")
    torch.testing.assert_close(chain.logits(x), model(x))


def test_channel_edges_carry_the_kernel_sum_and_l1_norm() -> None:
    """A grouped conv connects each output channel to its group's inputs; a bridge aggregates positions."""
    conv = nn.Conv2d(4, 2, 2, groups=2, bias=False)  # output 0 reads inputs 0, 1; output 1 reads 2, 3
    linear = nn.Linear(2 * 3, 1, bias=False)  # a bridge over 3 positions of 2 channels
    with torch.no_grad():
        conv.weight.copy_(torch.arange(16.0).reshape(2, 2, 2, 2) - 5)
        linear.weight.copy_(torch.tensor([[1.0, -2.0, 3.0, 0.5, 0.5, -4.0]]))
    model = nn.Sequential(conv, nn.Flatten(), linear)
    chain = layer_chain(model)
    assert chain.layer_sizes == [4, 2, 1]
    source, target, weight, magnitude = channel_edges(chain)
    assert list(zip(source.tolist(), target.tolist(), strict=True)) == [(0, 4), (1, 4), (2, 5), (3, 5), (4, 6),
                                                                        (5, 6)]  # fmt: skip
    kernels = conv.weight.detach().reshape(2, 2, 4)
    np.testing.assert_allclose(weight[:4], kernels.sum(dim=2).flatten().numpy())
    l1 = kernels.abs().sum(dim=2).flatten().numpy()
    np.testing.assert_allclose(magnitude[:4], l1 / l1.max(), rtol=1e-6)
    np.testing.assert_allclose(weight[4:], [2.0, -3.0])  # channel 0: 1 - 2 + 3, channel 1: 0.5 + 0.5 - 4
    np.testing.assert_allclose(magnitude[4:], [6.0 / 6.0, 5.0 / 6.0])


def test_importance_of_a_cnn_on_images_has_channel_nodes() -> None:
    model = _small_cnn()
    generator = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat(40)
    x = torch.rand(120, 1, 8, 8, generator=generator) + y[:, None, None, None] * 0.5
    network = importance(model, (x, y), epochs=2, batch_size=16)
    assert network.layer_sizes.tolist() == [1, 4, 8, 3]
    assert network.n_edges == 1 * 4 + 8 * 2 + 8 * 3  # dense 1→4, grouped 4→8 (2 inputs each), dense 8→3
    assert network.node_importance.shape == (16, 3)
    assert float(network.node_importance[:13].max()) == 1.0
    assert network.layer_kinds == ("input", "conv", "conv", "linear")
    assert network.layer_names == ("input", "0", "4", "8")


def test_flat_data_for_a_cnn_is_refused_naming_the_shape() -> None:
    with pytest.raises(DataError, match=r"examples of shape \(64,\) do not fit the model"):
        importance(_small_cnn(), (torch.rand(6, 64), torch.arange(3).repeat(2)), epochs=1)


def test_cli_reads_an_exported_cnn_on_digits_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(8 * 2 * 2, 10),
    ).eval()  # fmt: skip
    path = tmp_path / "cnn.pt2"
    torch.export.save(torch.export.export(model, (torch.rand(2, 1, 8, 8),)), path)
    out = tmp_path / "cnn.nnscape"
    assert main(["importance", str(path), "--data", "digits", "--out", str(out), "--epochs", "2", "--quiet"]) == 0
    assert "layers 1,6,8,10, 10 classes, 134 edges" in capsys.readouterr().out
    network = load(out)
    assert network.layer_sizes.tolist() == [1, 6, 8, 10]


# -- residual additions ----------------------------------------------------------------------------------------


class Block(nn.Module):
    """A ResNet basic block: identity shortcut, or a 1×1 projection with batch norm when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x if self.down is None else self.down(x)
        return torch.relu(out)


class ResidualCnn(nn.Module):
    """Stem, an identity block, a projection block, global pooling, Linear: skips cross one layer each."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.b1 = Block(8, 8, 1)
        self.b2 = Block(8, 16, 2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.b2(self.b1(self.stem(x))), 1), 1))


def _residual_cnn() -> nn.Module:
    torch.manual_seed(4)
    return _randomise(ResidualCnn())


def test_residual_additions_become_shortcuts_that_cross_a_layer(tmp_path: Path) -> None:
    model = _residual_cnn()
    x = torch.randn(3, 1, 8, 8)
    path = tmp_path / "residual.pt2"
    torch.export.save(torch.export.export(model, (x,)), path)
    for read in (model, load_model(path)):
        chain = layer_chain(read)
        assert chain.layer_sizes == [1, 8, 8, 8, 16, 16, 10]
        assert [(skip.source, skip.target) for skip in chain.skips] == [(1, 3), (3, 5)]
        assert chain.skips[0].weight is None  # the identity
        assert chain.skips[1].weight is not None
        assert tuple(chain.skips[1].weight.shape) == (16, 8, 1, 1)  # the projection, its batch norm folded in
        torch.testing.assert_close(chain.logits(x), model(x))


def test_importance_of_a_residual_cnn_has_skip_edges() -> None:
    y = torch.arange(10).repeat(6)
    x = torch.rand(60, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    network = importance(_residual_cnn(), (x, y), epochs=1, batch_size=8)
    span = network.edge_span
    assert int((span == 2).sum()) == 8 + 16 * 8  # identity 8 → 8 channels, projection 8 → 16
    assert int((span > 2).sum()) == 0
    starts = network.layer_starts
    identity = (span == 2) & (network.edge_layer == 1)
    np.testing.assert_array_equal(network.edge_source[identity] - starts[1], network.edge_target[identity] - starts[3])
    np.testing.assert_array_equal(network.edge_weight[identity], 1.0)
    assert network.layer_kinds == ("input", "conv", "conv", "add", "conv", "add", "linear")


class PreActivationShortcut(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.out = nn.Conv2d(2, 2, 1), nn.Conv2d(2, 2, 1), nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.b(torch.relu(self.a(x))) + x.relu()  # the shortcut leaves before an activation of its own
        return self.out(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (PreActivationShortcut(), r"shortcut is the identity or one Linear/convolution"),
    ],
    ids=["shortcut-with-activation"],
)
def test_unsupported_merges_are_refused_by_name(model: nn.Module, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        layer_chain(model)


def test_cli_reads_an_exported_residual_cnn_on_digits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The acceptance path: a residual CNN with BatchNorm2d, exported with torch.export, on 1×8×8 digits."""
    path = tmp_path / "residual.pt2"
    torch.export.save(torch.export.export(_residual_cnn(), (torch.rand(2, 1, 8, 8),)), path)
    out = tmp_path / "residual.nnscape"
    assert main(["importance", str(path), "--data", "digits", "--out", str(out), "--epochs", "2", "--quiet"]) == 0
    assert "layers 1,8,8,8,16,16,10, 10 classes, 816 edges" in capsys.readouterr().out
    assert main(["info", str(out)]) == 0
    assert "b1.conv2 (add)" in capsys.readouterr().out


# -- structured pruning curves ---------------------------------------------------------------------------------


def test_evaluate_prunes_whole_channels_of_a_trained_cnn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fit_on_digits: Callable[[nn.Module], float]
) -> None:
    """nnscape evaluate on an exported CNN: channel orders, curves from the model's accuracy down to chance."""
    from nnscape.datasets import load_dataset

    digits = load_dataset("digits")
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, padding=1),
        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10),
    )  # fmt: skip
    accuracy = fit_on_digits(model)
    path = tmp_path / "cnn.pt2"
    torch.export.save(torch.export.export(model, (digits.test_x[:2],)), path)
    out = tmp_path / "report"
    assert main(["evaluate", str(path), "--data", "digits", "--out", str(out), "--epochs", "2", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy at 90% of channels pruned:" in printed
    assert "L1 norm of the filter (Li et al. 2017)" in printed
    rows = np.loadtxt(out / "pruning-curves.csv", delimiter=",", skiprows=1)
    header = (out / "pruning-curves.csv").read_text().splitlines()[0].split(",")
    assert header == ["pruned_fraction", "importance", "l1_filter", "random", "importance_most_first"]
    np.testing.assert_allclose(rows[0, 1:], accuracy, atol=1e-6)  # nothing pruned: the model itself
    assert (rows[-1, 1:] < 0.2).all()  # every hidden channel pruned: near chance (10 classes)
    assert (out / "pruning-per-class.png").stat().st_size > 0
