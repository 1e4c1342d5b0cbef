"""Concatenation of channels (``torch.cat([a, b], dim=1)``, DenseNet-style): a merge of main-path values.

The readers (fx ``cat`` and ONNX ``Concat``) check that channels are joined (dim 1); the walk
(:mod:`nnscape.intake.walk`) finds where each joined value comes from, and the chain
(:mod:`nnscape.intake.chain`) splits the weight of the layer reading the concatenation by those parts: the part
of the latest value stays the layer's weight, every earlier value's part becomes a shortcut from that value's
channels.
"""

from __future__ import annotations

import torch
from torch import fx

from nnscape.errors import ModelError
from nnscape.intake.chain import Step
from nnscape.intake.layers.registry import OnnxNode, describe, reads_functions, reads_onnx

__all__ = ["FUNCTIONS", "concatenated"]

FUNCTIONS = (torch.cat, torch.concat, torch.concatenate, torch.ops.aten.cat.default)


@reads_functions(*FUNCTIONS)
def read_node(graph_module: fx.GraphModule, node: fx.Node) -> Step:
    concatenated(graph_module, node)
    return Step("concat", node.name)


def concatenated(graph_module: fx.GraphModule, node: fx.Node) -> list[fx.Node]:
    """The values a concatenation node joins, in order; refuses any dimension but the channels (1)."""
    values = node.args[0] if node.args else node.kwargs.get("tensors")
    dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", node.kwargs.get("axis", 0))
    if not isinstance(values, (list, tuple)) or not all(isinstance(value, fx.Node) for value in values):
        raise ModelError(f"node {node.name!r} ({describe(graph_module, node)}): expected a list of tensors")
    if dim != 1:
        raise ModelError(
            f"node {node.name!r} ({describe(graph_module, node)}) joins along dim {dim!r}; nnscape reads "
            "concatenations of channels (dim=1)"
        )
    return list(values)


@reads_onnx("Concat")
def read_onnx(node: OnnxNode) -> Step:
    """ONNX ``Concat``: the walk names the values it joins; only the channels (axis 1) are read."""
    axis = node.attributes.get("axis")
    if axis != 1:
        raise ModelError(
            f"node {node.name!r} (ONNX Concat) joins along axis {axis!r}; nnscape reads concatenations of channels "
            "(axis=1)"
        )
    return Step("concat", node.name)
