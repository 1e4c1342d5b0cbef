"""Linear layers: ``nn.Linear``, ``F.linear`` on parameters, torch.export's ``aten.linear``, ONNX Gemm and MatMul."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import fx, nn

from nnscape.errors import ModelError
from nnscape.intake.chain import Step
from nnscape.intake.layers.registry import OnnxNode, fetch, reads_functions, reads_modules, reads_onnx

__all__ = ["wrap_linear"]


@reads_modules("Linear")
def read_module(name: str, module: Any) -> Step:
    linear = module if isinstance(module, nn.Linear) else wrap_linear(module.weight, module.bias)
    return Step("linear", name, module=linear)


@reads_functions(F.linear, torch.ops.aten.linear.default)
def read_function(graph_module: fx.GraphModule, node: fx.Node) -> Step:
    """``F.linear(x, weight, bias)`` or ``aten.linear`` whose weight and bias are parameters of the module."""
    arguments = [*node.args[1:], *node.kwargs.values()]
    if not arguments or arguments[0] is None:
        raise ModelError(f"node {node.name!r} (linear): no weight")
    weight_node = arguments[0]
    weight = fetch(graph_module, weight_node, node)
    bias = fetch(graph_module, arguments[1], node) if len(arguments) > 1 else None
    assert weight is not None  # checked above; fetch refuses anything but a get_attr node
    assert isinstance(weight_node, fx.Node)
    name = str(weight_node.target).removesuffix(".weight")
    return Step("linear", name, module=wrap_linear(weight, bias))


@reads_onnx("Gemm")
def read_gemm(node: OnnxNode) -> Step:
    """``alpha · A · op(B) + beta · C`` with A the data and B, C constants (``transB=1`` as torch exports)."""
    attributes = node.attributes
    weight, bias = node.constant(0), node.constant(1)
    if attributes.get("transA", 0) or weight is None or weight.ndim != 2:
        raise ModelError(f"node {node.name!r} (ONNX Gemm): expected the data as A and a constant 2-D B")
    weight = (weight if attributes.get("transB", 0) else weight.T) * float(attributes.get("alpha", 1.0))
    if bias is not None:
        bias = (bias * float(attributes.get("beta", 1.0))).reshape(-1).expand(weight.shape[0])
    return Step("linear", node.name, module=wrap_linear(weight, bias))


@reads_onnx("MatMul")
def read_matmul(node: OnnxNode) -> Step:
    """``x @ W`` with a constant 2-D ``W`` (a bias, if any, follows as an ``Add``)."""
    weight = node.constant(0)
    if weight is None or weight.ndim != 2:
        raise ModelError(f"node {node.name!r} (ONNX MatMul): expected a constant 2-D second operand")
    return Step("linear", node.name, module=wrap_linear(weight.T, None))


def wrap_linear(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    """An ``nn.Linear`` sharing the given tensors (for functional or TorchScript linears)."""
    linear = nn.Linear(int(weight.shape[1]), int(weight.shape[0]), bias=bias is not None, device="meta")
    linear.weight = nn.Parameter(weight.detach(), requires_grad=False)
    if bias is not None:
        linear.bias = nn.Parameter(bias.detach(), requires_grad=False)
    return linear
