"""Model intake: chains read from Sequentials, custom forwards, TorchScript and torch.export files; refusals."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from nnscape.errors import ModelError
from nnscape.intake import build_mlp, linear_layers, load_model, mlp_chain


def _save_script(model: nn.Module, path: Path) -> None:
    """Write a TorchScript file as a user would; torch warns that the format is deprecated (DeprecationWarning up
    to torch 2.13, FutureWarning from 2.14), but users still have such files and nnscape reads them without a
    warning (the tests run with warnings as errors)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is")
        torch.jit.save(torch.jit.script(model), path)


def _randomise_batchnorm(norm: nn.BatchNorm1d) -> None:
    """Running statistics and affine parameters far from the identity, so folding errors show."""
    with torch.no_grad():
        norm.running_mean.uniform_(-1, 1)
        norm.running_var.uniform_(0.5, 2)
        norm.weight.uniform_(-2, 2)
        norm.bias.uniform_(-1, 1)


class FunctionalNet(nn.Module):
    """A custom forward: view, functional activations, a Softmax after the logits."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(12, 7), nn.Dropout(0.5))
        self.out = nn.Linear(7, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(x.shape[0], -1)
        x = F.leaky_relu(self.hidden(x), negative_slope=0.2)
        return torch.softmax(self.out(torch.tanh(x)), dim=-1)


class RawParameters(nn.Module):
    """Weights as bare parameters used through ``F.linear``, activations as tensor methods."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden_weight = nn.Parameter(torch.randn(5, 4))
        self.out_weight = nn.Parameter(torch.randn(2, 5))
        self.out_bias = nn.Parameter(torch.randn(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(F.linear(x, self.hidden_weight).relu(), self.out_weight, self.out_bias)


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(x + self.a(x))


class Branching(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) if x.sum() > 0 else -self.a(x)


def test_nested_sequential_gives_names_sizes_and_the_same_logits() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(), nn.Sequential(nn.Linear(6, 5), nn.GELU()), nn.Identity(), nn.Linear(5, 4, bias=False), nn.SiLU(),
        nn.Linear(4, 3),
    )  # fmt: skip
    chain = mlp_chain(model)
    x = torch.randn(9, 6)
    assert chain.names == ("1.0", "3", "5")
    assert chain.layer_sizes == [6, 5, 4, 3]
    torch.testing.assert_close(chain.logits(x), model(x))


def test_custom_forward_is_traced_and_softmax_after_the_logits_ignored() -> None:
    torch.manual_seed(0)
    model = FunctionalNet().eval()
    chain = mlp_chain(model)
    x = torch.randn(5, 3, 4)
    assert chain.names == ("hidden.0", "out")
    assert chain.layer_sizes == [12, 7, 3]
    torch.testing.assert_close(chain.logits(x.flatten(1)).softmax(-1), model(x))


def test_functional_linear_on_parameters_is_read() -> None:
    torch.manual_seed(0)
    model = RawParameters()
    chain = mlp_chain(model)
    x = torch.randn(3, 4)
    assert chain.names == ("hidden_weight", "out_weight")
    torch.testing.assert_close(chain.logits(x), model(x))
    torch.testing.assert_close(chain.biases[0], torch.zeros(5))


@pytest.mark.parametrize(
    "layers",
    [
        lambda: [nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3)],  # folds into the Linear before
        lambda: [nn.Linear(6, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Linear(5, 3)],  # folds into the Linear after
        lambda: [nn.BatchNorm1d(6), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)],  # on the raw inputs
        lambda: [nn.Linear(6, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 3)],  # kept as a step
    ],
    ids=["after-linear", "before-linear", "on-inputs", "between-activations"],
)
def test_batchnorm_is_used_with_running_statistics(layers: object) -> None:
    torch.manual_seed(1)
    model = nn.Sequential(*layers())  # type: ignore[operator]
    for module in model:
        if isinstance(module, nn.BatchNorm1d):
            _randomise_batchnorm(module)
    model.eval()
    x = torch.randn(8, 6)
    chain = mlp_chain(model)
    assert chain.layer_sizes == [6, 5, 3]
    torch.testing.assert_close(chain.logits(x), model(x))
    assert not model.training


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (nn.Sequential(nn.Conv3d(1, 2, 3), nn.Flatten(), nn.Linear(2, 2)), r"layer '0' \(Conv3d\) is not supported"),
        (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Linear(6, 2)), r"layer '1' \(Linear\) follows a convolution without"),
        (nn.Sequential(nn.Linear(4, 9), nn.Unflatten(1, (1, 3, 3)), nn.Conv2d(1, 2, 3)), r"'1' \(Unflatten\)"),
        (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(5, 2)), r"takes 5 inputs, not a multiple of the 2"),
        (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(3, 2, 1), nn.Flatten(), nn.Linear(2, 2)), r"'1' takes 3 chan"),
        (nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.MultiheadAttention(4, 1))), r"'1\.0' \(MultiheadAttention\)"),
        (Residual(), r"node 'add' \(add\): the shortcut skips no layer"),
        (Branching(), r"cannot trace the forward of Branching"),
        (nn.Sequential(nn.ReLU(), nn.Dropout()), r"no Linear or convolution layer found"),
        (nn.Sequential(nn.Linear(4, 3), nn.Softmax(-1), nn.Linear(3, 2)), r"'1' \(softmax\) is only allowed after"),
        (nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(5, 2)), r"'2' takes 5 channels or inputs but '0' gives 3"),
    ],
    ids=[
        "conv3d",
        "conv-to-linear",
        "unflatten",
        "bridge-size",
        "channels",
        "attention",
        "residual",
        "control-flow",
        "no-linear",
        "early-softmax",
        "size-mismatch",
    ],
)
def test_unsupported_models_are_refused_by_name(model: nn.Module, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        mlp_chain(model)


def test_not_a_module_is_refused() -> None:
    with pytest.raises(ModelError, match=r"expected a torch\.nn\.Module, got dict"):
        mlp_chain({"weight": torch.zeros(2, 2)})  # type: ignore[arg-type]


def test_linear_layers_are_the_models_own_modules_and_the_model_is_untouched() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(inplace=True), nn.Linear(3, 2))
    before = [p.clone() for p in model.parameters()]
    layers = linear_layers(model)
    assert layers[0] is model[0]
    assert layers[1] is model[2]
    chain = mlp_chain(model)
    assert model[1].inplace  # the chain works on a copy
    chain.weights[0].add_(1.0)
    for old, new in zip(before, model.parameters(), strict=True):
        torch.testing.assert_close(old, new)


def test_torchscript_sequential_round_trips(tmp_path: Path) -> None:
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(5, 4), nn.LeakyReLU(0.3), nn.Sequential(nn.Dropout(), nn.Linear(4, 2))).eval()
    path = tmp_path / "model.pt"
    _save_script(model, path)
    loaded = load_model(path)
    chain = mlp_chain(loaded)
    x = torch.randn(6, 5)
    assert chain.names == ("0", "2.1")
    torch.testing.assert_close(chain.logits(x), model(x))


def test_torchscript_with_a_custom_forward_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    _save_script(Residual(), path)
    with pytest.raises(ModelError, match=r"TorchScript model \(Residual\) has a custom forward"):
        load_model(path)


def test_torch_export_file_round_trips_with_batchnorm(tmp_path: Path) -> None:
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3))
    _randomise_batchnorm(model[1])
    model.eval()
    x = torch.randn(4, 6)
    path = tmp_path / "model.pt2"
    torch.export.save(torch.export.export(model, (x,)), path)
    chain = mlp_chain(load_model(path))
    assert chain.names == ("0", "3")
    torch.testing.assert_close(chain.logits(x), model(x))


def test_plain_state_dict_and_foreign_files_are_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.pt"
    torch.save(build_mlp([4, 3, 2]).state_dict(), state)
    with pytest.raises(ModelError, match="a plain state_dict has no layer list"):
        load_model(state)
    text = tmp_path / "model.txt"
    text.write_text("not a model")
    with pytest.raises(ModelError, match="not a model file nnscape reads"):
        load_model(text)
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "missing.pt")


def test_build_mlp_refuses_bad_layers_and_activations() -> None:
    with pytest.raises(ModelError, match=r"need at least an input and an output layer"):
        build_mlp([4])
    with pytest.raises(ModelError, match="activation 'swish'"):
        build_mlp([4, 2], "swish")


def test_a_layer_kind_is_registered_once() -> None:
    from nnscape.intake.layers.registry import reads_modules

    with pytest.raises(ValueError, match="two readers for the layer kind 'Linear'"):
        reads_modules("Linear")(lambda name, module: None)
