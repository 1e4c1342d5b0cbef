"""Layers that do nothing at inference: Dropout, Identity, copies; and flattening, which marks a bridge.

A flatten (``Flatten``, ``x.flatten(1)``, ``x.view(n, -1)``) only matters after a convolution, where it turns
channels into a Linear's features (:class:`~nnscape.intake.chain.LayerChain` flattens itself); nnscape reads
every ``view``/``reshape`` in the chain as such a flatten.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import fx

from nnscape.intake.chain import Step
from nnscape.intake.layers.registry import OnnxNode, reads_functions, reads_methods, reads_modules, reads_onnx

_aten = torch.ops.aten


@reads_modules("Identity", "Dropout", "Dropout1d", "Dropout2d", "AlphaDropout")
def read_module(name: str, module: Any) -> None:
    return None


@reads_functions(
    F.dropout, F.dropout1d, F.dropout2d, _aten.dropout.default, _aten.clone.default, _aten.alias.default,
)  # fmt: skip
@reads_methods("contiguous", "float")
def read_node(graph_module: fx.GraphModule, node: fx.Node) -> None:
    return None


@reads_onnx("Dropout", "Identity")
def read_onnx(node: OnnxNode) -> None:
    return None


@reads_onnx("Flatten", "Reshape")
def read_onnx_flatten(node: OnnxNode) -> Step:
    return Step("flatten", node.name)


@reads_modules("Flatten")
def read_flatten_module(name: str, module: Any) -> Step:
    return Step("flatten", name)


@reads_functions(
    torch.flatten, _aten.view.default, _aten.reshape.default, _aten.flatten.using_ints, _aten._unsafe_view.default,
)  # fmt: skip
@reads_methods("view", "reshape", "flatten")
def read_flatten_node(graph_module: fx.GraphModule, node: fx.Node) -> Step:
    return Step("flatten", node.name)
