"""ONNX intake: torch's ONNX export of a CNN, a residual and a concatenating CNN (read as through fx), hand-built
graphs (MatMul + Add, Clip), refusals of merges nnscape cannot draw, the CLI."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from nnscape.cli import main
from nnscape.errors import ModelError
from nnscape.importance import importance
from nnscape.intake import layer_chain, load_model
from nnscape.network import Network
from test_intake_concat import _dense_cnn
from test_intake_conv import _residual_cnn

onnx = pytest.importorskip("onnx")  # an optional dependency: pip install 'nnscape[onnx]'
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _export(model: nn.Module, x: torch.Tensor, path: Path, *, fold: bool = True) -> Path:
    """torch's TorchScript-based ONNX exporter (the torch.export-based one needs onnxscript), as a user runs it;
    ``fold=False`` keeps the batch norms as BatchNormalization nodes instead of folding them into convolutions."""
    options = {} if fold else {"do_constant_folding": False, "training": torch.onnx.TrainingMode.PRESERVE}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's own deprecation and tracer warnings
        torch.onnx.export(model, (x,), path, dynamo=False, **options)
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


def _merging(path: Path, merge: onnx.NodeProto, branches: list[list[str]]) -> Path:
    """A graph of 1×1 convolutions (4 channels) on ``x`` ``(n, 4, 2, 2)``: each branch a chain of convolutions
    from ``x``, the branches' ends given to ``merge`` (inputs ``b0``, ``b1``, …), then pooling and a Linear."""
    nodes, value = [], ""
    for b, branch in enumerate(branches):
        value = "x"
        for name in branch:
            nodes.append(helper.make_node("Conv", [value, "k"], [name], name=name))
            value = name
        nodes.append(helper.make_node("Identity", [value], [f"b{b}"], name=f"end{b}"))
    channels = 4 * len(merge.input) if merge.op_type == "Concat" and merge.attribute[0].i == 1 else 4
    nodes += [
        merge, helper.make_node("Conv", ["m", f"k{channels}"], ["c"], name="after"),
        helper.make_node("GlobalAveragePool", ["c"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "w"], ["logits"], name="fc", transB=1),
    ]  # fmt: skip
    ones = {"k": np.ones((4, 4, 1, 1), np.float32), f"k{channels}": np.ones((4, channels, 1, 1), np.float32)}
    graph = helper.make_graph(
        nodes, "merging", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4, 2, 2])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(value, name) for name, value in {**ones, "w": np.ones((2, 4), np.float32)}.items()],
    )  # fmt: skip
    onnx.save(helper.make_model(graph), path)
    return path


@pytest.mark.parametrize(
    ("merge", "branches", "message"),
    [
        (helper.make_node("Add", ["b0", "b1"], ["m"], name="sum"), [["a1", "a2"], ["c1", "c2"]],
         r"node 'sum' \(add\): nnscape reads residual additions whose shortcut is the identity or one"),
        (helper.make_node("Add", ["b0", "x"], ["m"], name="sum"), [["a1"]],
         r"node 'sum' \(add\): the shortcut skips no layer"),
        (helper.make_node("Mul", ["b0", "x"], ["m"], name="gate"), [["a1", "a2"]],
         r"node 'gate' \(ONNX Mul\) combines several values; nnscape reads chains of layers with residual"),
        (helper.make_node("Concat", ["b0", "x"], ["m"], name="cat", axis=2), [["a1", "a2"]],
         r"node 'cat' \(ONNX Concat\) joins along axis 2; nnscape reads concatenations of channels"),
        (helper.make_node("Concat", ["b0", "b1"], ["m"], name="cat", axis=1), [["a1"], ["c1"]],
         r"node 'cat' \(cat\): the value 'b1' does not come from the model's path; .* not of parallel branches"),
    ],
    ids=["parallel-branches", "skips-no-layer", "product", "concat-positions", "concat-parallel-branches"],
)  # fmt: skip
def test_merges_nnscape_cannot_draw_are_refused_naming_file_and_node(
    tmp_path: Path, merge: onnx.NodeProto, branches: list[list[str]], message: str
) -> None:
    path = _merging(tmp_path / "merging.onnx", merge, branches)
    with pytest.raises(ModelError, match=rf"^{re.escape(str(path))}: {message}") as refusal:
        load_model(path)
    assert "\n" not in str(refusal.value)


def test_the_merge_graphs_are_read_when_the_merge_is_one_nnscape_draws(tmp_path: Path) -> None:
    """The refusals above are about the merge alone: the same graphs with a drawable merge are read."""
    residual = helper.make_node("Add", ["b0", "x"], ["m"], name="sum")
    chain = layer_chain(load_model(_merging(tmp_path / "residual.onnx", residual, [["a1", "a2"]])))
    assert [(skip.source, skip.target, skip.merge) for skip in chain.skips] == [(0, 2, "add")]
    dense = helper.make_node("Concat", ["b0", "x"], ["m"], name="cat", axis=1)
    chain = layer_chain(load_model(_merging(tmp_path / "dense.onnx", dense, [["a1", "a2"]])))
    assert [(skip.source, skip.target, skip.merge) for skip in chain.skips] == [(0, 3, "concat")]
    x = torch.randn(2, 4, 2, 2)
    total = x.sum(1).mean((1, 2))  # all weights 1: a1 gives Σx per channel, a2 4Σx, "after" 4·4Σx + Σx, fc 4×
    torch.testing.assert_close(chain.logits(x), (4 * 17 * total)[:, None].expand(2, 2))


def _skip_pairs(network: Network) -> list[tuple[int, int, int]]:
    """(source layer, target layer, edges) of every pair of layers an edge joins."""
    pairs = np.stack([network.node_layer[network.edge_source], network.node_layer[network.edge_target]], 1)
    unique, counts = np.unique(pairs, axis=0, return_counts=True)
    return [(int(a), int(b), int(n)) for (a, b), n in zip(unique, counts, strict=True)]


@pytest.mark.parametrize(
    ("make", "fold", "skips"),
    [(_residual_cnn, True, 8 + 16 * 8), (_residual_cnn, False, 8 + 16 * 8), (_dense_cnn, True, 4 * 5 + 4 * 8 + 6 * 8)],
    ids=["residual", "residual-batch-norm-nodes", "concat"],
)
def test_onnx_export_of_a_merging_cnn_reads_as_through_fx(
    tmp_path: Path, make: type[nn.Module], fold: bool, skips: int
) -> None:
    """Residual additions and concatenations of channels in an ONNX file: the same logits as the model, the same
    layers, shortcuts and edges (skip edges included) as reading the model itself through fx."""
    model = make()
    x = torch.randn(3, 1, 8, 8)
    path = _export(model, x, tmp_path / "merging.onnx", fold=fold)
    assert ("BatchNormalization" in {node.op_type for node in onnx.load(str(path)).graph.node}) is not fold
    loaded = load_model(path)
    torch.testing.assert_close(loaded(x), model(x))
    read, traced = layer_chain(loaded), layer_chain(model)
    assert read.layer_sizes == traced.layer_sizes
    assert [(s.source, s.target, s.merge) for s in read.skips] == [(s.source, s.target, s.merge) for s in traced.skips]
    for ours, theirs in zip(read.skips, traced.skips, strict=True):
        assert (ours.weight is None) == (theirs.weight is None)
        if ours.weight is not None and theirs.weight is not None:
            torch.testing.assert_close(ours.weight, theirs.weight)
    y = torch.arange(10).repeat(2)
    data = (torch.rand(20, 1, 8, 8, generator=torch.Generator().manual_seed(0)), y)
    from_onnx, from_fx = (importance(m, data, epochs=1, batch_size=10) for m in (loaded, model))
    assert from_onnx.layer_kinds == from_fx.layer_kinds
    assert _skip_pairs(from_onnx) == _skip_pairs(from_fx)
    assert from_onnx.n_edges == from_fx.n_edges
    assert int((from_onnx.edge_span > 1).sum()) == skips


def test_cli_importance_of_an_onnx_cnn_on_digits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _export(_cnn(), torch.rand(2, 1, 8, 8), tmp_path / "cnn.onnx")
    out = tmp_path / "cnn.nnscape"
    assert main(["importance", str(path), "--data", "digits", "--out", str(out), "--epochs", "2", "--quiet"]) == 0
    assert "layers 1,4,8,10, 10 classes, 92 edges" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("make", "summary"),
    [
        (_residual_cnn, "layers 1,8,8,8,16,16,10, 10 classes, 816 edges"),
        (_dense_cnn, "layers 1,4,6,5,8,10, 10 classes, 278 edges"),
    ],
    ids=["residual", "concat"],
)  # fmt: skip
def test_cli_importance_of_an_onnx_merging_cnn_on_digits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: type[nn.Module], summary: str
) -> None:
    path = _export(make(), torch.rand(2, 1, 8, 8), tmp_path / "merging.onnx")
    out = tmp_path / "merging.nnscape"
    assert main(["importance", str(path), "--data", "digits", "--out", str(out), "--epochs", "1", "--quiet"]) == 0
    assert summary in capsys.readouterr().out
