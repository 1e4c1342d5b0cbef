"""Every importance method of the registry: hand-checkable values, shared invariants, the file, the CLI."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.test_importance import FAST, N_CLASSES, _wired_data, _wired_model
from torch import nn

import nnscape
from nnscape.cli import main
from nnscape.cli.importance import BATCH_NORM_CHOICES, DEFAULT_METHOD, METHOD_HELP, PRECISION_CHOICES
from nnscape.errors import Cancelled, ConfigError
from nnscape.importance import METHODS, importance, method, method_settings
from nnscape.importance.bn_gamma import BATCH_NORMS, PRECISIONS
from nnscape.io import load
from nnscape.network import Network
from nnscape.progress import ProgressEvent

SETTINGS: dict[str, dict[str, object]] = {DEFAULT_METHOD: FAST}  # the others have no settings to speed up


def _importance(name: str, model: nn.Module, data: object, **options: object) -> Network:
    return importance(model, data, method=name, **{**SETTINGS.get(name, {}), **options})  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=list(METHODS))
def wired(request: pytest.FixtureRequest) -> tuple[str, Network]:
    return request.param, _importance(request.param, _wired_model(), _wired_data())


def test_the_registry_is_public_and_the_default_comes_first() -> None:
    assert nnscape.IMPORTANCE_METHODS == tuple(METHODS) == ("batchnorm-gamma", "activation", "taylor")
    assert nnscape.IMPORTANCE_METHODS[0] == DEFAULT_METHOD
    for name in METHODS:  # the CLI's help, written without importing torch, names every method
        assert name in METHOD_HELP
    assert method_settings("taylor") == {}
    assert method_settings("batchnorm-gamma")["epochs"] == 20


def test_every_method_finds_the_wired_units(wired: tuple[str, Network]) -> None:
    name, network = wired
    hidden = network.node_importance[N_CLASSES + 2 : 2 * N_CLASSES + 3]
    for k in range(N_CLASSES):  # class k's own unit dominates its class
        assert int(np.argmax(hidden[:, k])) == k, name
    assert hidden[N_CLASSES].max() < 0.05, name  # the dead unit
    assert network.node_importance[N_CLASSES].max() < 0.05, name  # the constant input


def test_every_method_gives_the_same_network_shape_and_records_itself(wired: tuple[str, Network]) -> None:
    name, network = wired
    reference = _importance(DEFAULT_METHOD, _wired_model(), _wired_data(), epochs=1)
    np.testing.assert_array_equal(network.layer_sizes, reference.layer_sizes)
    np.testing.assert_array_equal(network.edge_weight, reference.edge_weight)
    np.testing.assert_array_equal(network.edge_importance, reference.edge_importance)
    assert network.node_importance.shape == reference.node_importance.shape
    assert network.node_importance.min() >= 0
    starts = network.layer_starts
    for layer in range(network.n_layers - 1):
        assert network.node_importance[starts[layer] : starts[layer + 1]].max() == pytest.approx(1.0)
    np.testing.assert_array_equal(network.node_importance[starts[-2] :], np.eye(N_CLASSES, dtype=np.float32))
    recorded = json.loads(network.metadata["importance_config"])
    assert recorded["method"] == name
    assert recorded["seed"] == 0
    assert {*method_settings(name)} <= {*recorded}
    assert float(network.metadata["importance_seconds"]) >= 0


def _linear_data() -> tuple[nn.Sequential, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 1.5]]))
        model[0].bias.copy_(torch.tensor([0.1, -0.1]))
    x = torch.rand(50, 3, generator=generator)
    return model, x, torch.arange(2).repeat(25)


def test_activation_is_the_rms_deviation_from_the_overall_mean() -> None:
    model, x, y = _linear_data()
    network = importance(model, (x, y), method="activation")
    expected = np.stack([np.sqrt(((x[y == k] - x.mean(0)) ** 2).mean(0).numpy()) for k in (0, 1)], axis=1)
    np.testing.assert_allclose(network.node_importance[:3], expected / expected.max(), rtol=1e-5)


def test_taylor_is_activation_times_the_loss_gradient() -> None:
    model, x, y = _linear_data()
    network = importance(model, (x, y), method="taylor")
    # one Linear: dL/dx = Wᵀ (softmax(z) − onehot(y)) for the cross-entropy of each example's own label
    weight = model[0].weight.detach()
    error = torch.softmax(model(x).detach(), dim=1) - nn.functional.one_hot(y, 2)
    per_example = (x * (error @ weight)).abs()
    expected = torch.stack([per_example[y == k].mean(0) for k in (0, 1)], dim=1).numpy()
    np.testing.assert_allclose(network.node_importance[:3], expected / expected.max(), rtol=1e-5)


@pytest.mark.parametrize("name", ["activation", "taylor"])
def test_chunks_do_not_change_the_result(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _wired_data()
    whole = importance(_wired_model(), data, method=name)
    monkeypatch.setattr(method, "CHUNK", 7)
    pieces = importance(_wired_model(), data, method=name)
    np.testing.assert_allclose(pieces.node_importance, whole.node_importance, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ["activation", "taylor"])
def test_one_pass_methods_leave_the_model_alone_report_and_stop(name: str) -> None:
    model = _wired_model().train()
    before = copy.deepcopy(model.state_dict())
    events: list[ProgressEvent] = []
    first = importance(model, _wired_data(), method=name, progress=events.append)
    second = importance(model, _wired_data(), method=name, seed=9)
    np.testing.assert_array_equal(first.node_importance, second.node_importance)  # nothing is drawn
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])
    assert [(e.phase, e.step, e.total) for e in events] == [("importance", 1, 1)]
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        importance(model, _wired_data(), method=name, cancel=stop)


def test_settings_of_another_method_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"epochs: not a setting of the taylor method \(it has none\)"):
        importance(_wired_model(), _wired_data(), method="taylor", epochs=3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", ["activation", "taylor"])
def test_cuda_matches_cpu(name: str) -> None:
    cpu = importance(_wired_model(), _wired_data(), method=name, device="cpu")
    cuda = importance(_wired_model(), _wired_data(), method=name, device="cuda")
    np.testing.assert_allclose(cuda.node_importance, cpu.node_importance, rtol=1e-4, atol=1e-6)


# -- the command line -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "digits.pt"
    assert main(["train", "--data", "digits", "--layers", "16", "--epochs", "3", "--out", str(path), "--quiet"]) == 0
    return path


def test_cli_method_is_written_into_the_file(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "taylor.nnscape"
    assert main(["importance", str(checkpoint), "--data", "digits", "--method", "taylor", "--out", str(out),
                 "--quiet"]) == 0  # fmt: skip
    assert json.loads(load(out).metadata["importance_config"])["method"] == "taylor"


@pytest.mark.parametrize(
    ("option", "key", "value", "choices", "allowed"),
    [
        ("--precision", "precision", "float32", PRECISION_CHOICES, PRECISIONS),
        ("--batch-norm", "batch_norm", "existing", BATCH_NORM_CHOICES, BATCH_NORMS),
    ],
)
def test_cli_fine_tuning_choices_are_batchnorm_gammas_and_recorded(
    checkpoint: Path, tmp_path: Path, option: str, key: str, value: str, choices: tuple[str, ...],
    allowed: tuple[str, ...],
) -> None:  # fmt: skip
    assert choices == allowed  # the command's list (it may not import torch) is the method's
    out = tmp_path / f"{value}.nnscape"
    assert main(["importance", str(checkpoint), "--data", "digits", option, value, "--epochs", "1",
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    assert json.loads(load(out).metadata["importance_config"])[key] == value


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--method", "conductance"], "method 'conductance': expected one of batchnorm-gamma, activation, taylor"),
        (["--method", "activation", "--epochs", "5"], "epochs: not a setting of the activation method (it has none)"),
    ],
)
def test_cli_method_errors_are_one_line(
    arguments: list[str], message: str, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.nnscape"
    assert main(["importance", str(checkpoint), "--data", "digits", *arguments, "--out", str(out), "--quiet"]) == 1
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("name", ["activation", "taylor"])
def test_convolution_channels_are_nodes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 2))  # fmt: skip
    torch.manual_seed(0)
    with torch.no_grad():  # channel 2 of the first convolution is dead: ReLU of a negative constant
        model[0].weight[2] = 0
        model[0].bias[2] = -1
    x, y = torch.rand(30, 1, 8, 8), torch.arange(2).repeat(15)
    network = importance(model, (x, y), method=name)
    assert network.layer_sizes.tolist() == [1, 3, 4, 2]
    assert np.isfinite(network.node_importance).all()
    assert network.node_importance[1 + 2].max() == 0  # the dead channel
    assert network.node_importance[1:4].max() == pytest.approx(1.0)
    monkeypatch.setattr(method, "CHUNK", 4)
    np.testing.assert_allclose(importance(model, (x, y), method=name).node_importance, network.node_importance,
                               rtol=1e-5, atol=1e-7)  # fmt: skip
