"""ONNX intake: torch's ONNX export of a CNN, hand-built graphs (MatMul + Add, Clip), refusals, the CLI."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from nnscape.cli import main
from nnscape.errors import ModelError
from nnscape.intake import layer_chain, load_model

onnx = pytest.importorskip("onnx")  # an optional dependency: pip install 'nnscape[onnx]'
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _export(model: nn.Module, x: torch.Tensor, path: Path) -> Path:
    """torch's TorchScript-based ONNX exporter (the torch.export-based one needs onnxscript), as a user runs it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's own deprecation and tracer warnings
        torch.onnx.export(model, (x,), path, dynamo=False)
    return path


def _cnn() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU6(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3, groups=4),
        nn.LeakyReLU(0.1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(), nn.Linear(8, 10), nn.Softmax(1),
    )  # fmt: skip
    with torch.no_grad():
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.5, 2)
    return model.eval()


def _graph(path: Path, nodes: list[onnx.NodeProto], initializers: dict[str, np.ndarray], n_in: int) -> Path:
    graph = helper.make_graph(
        nodes, "hand", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, n_in])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
        [numpy_helper.from_array(value, name) for name, value in initializers.items()],
    )  # fmt: skip
    onnx.save(helper.make_model(graph), path)
    return path


def test_torch_onnx_export_of_a_cnn_gives_the_same_logits(tmp_path: Path) -> None:
    model = _cnn()
    x = torch.randn(3, 1, 8, 8)
    loaded = load_model(_export(model, x, tmp_path / "cnn.onnx"))
    chain = layer_chain(loaded)
    assert chain.layer_sizes == [1, 4, 8, 10]
    assert [conv is None for conv in chain.convs] == [False, False, True]
    torch.testing.assert_close(chain.logits(x).softmax(1), model(x))
    torch.testing.assert_close(loaded(x).softmax(1), model(x))


def test_matmul_add_and_clip_graph(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    w1, b1, w2 = (rng.normal(size=shape).astype(np.float32) for shape in ((4, 3), (3,), (3, 2)))
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="dense"),
        helper.make_node("Add", ["h", "b1"], ["hb"], name="bias"),
        helper.make_node("Constant", [], ["low"], value=numpy_helper.from_array(np.array(0.0, np.float32))),
        helper.make_node("Clip", ["hb", "low", ""], ["r"], name="relu"),
        helper.make_node("MatMul", ["r", "w2"], ["logits"], name="out"),
    ]
    model = load_model(_graph(tmp_path / "mlp.onnx", nodes, {"w1": w1, "b1": b1, "w2": w2}, 4))
    chain = layer_chain(model)
    assert chain.layer_sizes == [4, 3, 2]
    assert chain.names == ("dense", "out")
    x = rng.normal(size=(5, 4)).astype(np.float32)
    expected = np.maximum(x @ w1 + b1, 0) @ w2
    np.testing.assert_allclose(chain.logits(torch.from_numpy(x)).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_onnx_refusals_name_the_node_or_the_file(tmp_path: Path) -> None:
    weight = np.ones((4, 4), np.float32)
    residual = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="dense"),
        helper.make_node("Add", ["h", "x"], ["sum"], name="skip"),
    ]
    with pytest.raises(ModelError, match=r"node 'skip' \(ONNX Add\) combines several values"):
        load_model(_graph(tmp_path / "residual.onnx", residual, {"w": weight}, 4))
    unknown = [helper.make_node("MatMul", ["x", "w"], ["h"], name="dense"), helper.make_node("Erf", ["h"], ["e"])]
    with pytest.raises(ModelError, match=r"layer 'Erf_1' \(ONNX Erf\) is not supported"):
        load_model(_graph(tmp_path / "erf.onnx", unknown, {"w": weight}, 4))
    external = _graph(tmp_path / "external.onnx", [helper.make_node("MatMul", ["x", "w"], ["h"])], {"w": weight}, 4)
    proto = onnx.load(str(external))
    proto.graph.initializer[0].data_location = TensorProto.EXTERNAL  # a path outside the file is never read
    proto.graph.initializer[0].external_data.add(key="location", value="../../etc/passwd")
    external.write_bytes(proto.SerializeToString())
    with pytest.raises(ModelError, match=r"initializer 'w' is stored in an external file"):
        load_model(external)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\xff" * 64)
    with pytest.raises(ModelError, match=r"garbage\.onnx: not an ONNX model") as refusal:
        load_model(garbage)
    assert "\n" not in str(refusal.value)


def test_cli_importance_of_an_onnx_cnn_on_digits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _export(_cnn(), torch.rand(2, 1, 8, 8), tmp_path / "cnn.onnx")
    out = tmp_path / "cnn.nnscape"
    assert main(["importance", str(path), "--data", "digits", "--out", str(out), "--epochs", "2", "--quiet"]) == 0
    assert "layers 1,4,8,10, 10 classes, 92 edges" in capsys.readouterr().out
