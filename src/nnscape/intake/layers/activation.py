"""Element-wise activations (ReLU, GELU, Tanh, …) as modules, functions, ATen ops and tensor methods."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, cast

import torch
import torch.nn.functional as F  # noqa: N812
from torch import fx, nn

from nnscape.intake.chain import Step
from nnscape.intake.layers.registry import (
    OnnxNode,
    no_tensor_arguments,
    reads_functions,
    reads_methods,
    reads_modules,
    reads_onnx,
)  # fmt: skip

_aten = torch.ops.aten

MODULES = (
    "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Tanh", "Sigmoid", "Hardtanh",
    "Hardsigmoid", "Hardswish", "Softplus", "Softsign", "LogSigmoid", "Tanhshrink", "Softshrink", "Hardshrink",
    "Threshold",
)  # fmt: skip
FUNCTIONS = (
    torch.relu, torch.tanh, torch.sigmoid, F.relu, F.relu6, F.leaky_relu, F.elu, F.selu, F.celu, F.gelu,
    F.silu, F.mish, F.softplus, F.softsign, F.hardtanh, F.hardswish, F.hardsigmoid, F.logsigmoid, F.tanh,
    F.sigmoid, F.tanhshrink,
    _aten.relu.default, _aten.tanh.default, _aten.sigmoid.default, _aten.gelu.default, _aten.silu.default,
    _aten.leaky_relu.default, _aten.elu.default, _aten.softplus.default, _aten.hardtanh.default,
    _aten.mish.default, _aten.hardswish.default, _aten.hardsigmoid.default,
)  # fmt: skip
METHODS = ("relu", "tanh", "sigmoid")
# ONNX op → (torch function, its keyword arguments from the node's attributes with ONNX's defaults)
ONNX: dict[str, tuple[Callable[..., torch.Tensor], Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "Relu": (F.relu, lambda a: {}),
    "Tanh": (torch.tanh, lambda a: {}),
    "Sigmoid": (torch.sigmoid, lambda a: {}),
    "LeakyRelu": (F.leaky_relu, lambda a: {"negative_slope": float(a.get("alpha", 0.01))}),
    "Elu": (F.elu, lambda a: {"alpha": float(a.get("alpha", 1.0))}),
    "Selu": (F.selu, lambda a: {}),
    "Softplus": (F.softplus, lambda a: {}),
    "Softsign": (F.softsign, lambda a: {}),
    "Gelu": (F.gelu, lambda a: {"approximate": str(a.get("approximate", "none"))}),
    "HardSwish": (F.hardswish, lambda a: {}),
    "Mish": (F.mish, lambda a: {}),
}


class Elementwise(nn.Module):
    """A functional element-wise call from a traced graph, with its constant extra arguments."""

    def __init__(self, function: Callable[..., torch.Tensor], args: tuple[Any, ...], kwargs: dict[str, Any]):
        super().__init__()
        self.function = function
        self.args = args
        self.kwargs = {**kwargs, "inplace": False} if "inplace" in kwargs else kwargs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x, *self.args, **self.kwargs)


@reads_modules(*MODULES)
def read_module(name: str, module: Any) -> Step:
    function = copy.deepcopy(module)  # ours to move between devices; in-place would break autograd
    if hasattr(function, "inplace") and not isinstance(function, torch.jit.ScriptModule):
        setattr(function, "inplace", False)  # noqa: B010 (an attribute of some activation types only)
    return Step("elementwise", name, function=function)


@reads_functions(*FUNCTIONS)
def read_function(graph_module: fx.GraphModule, node: fx.Node) -> Step:
    constants = no_tensor_arguments(graph_module, node)
    function = cast(Callable[..., torch.Tensor], node.target)
    return Step("elementwise", node.name, function=Elementwise(function, constants, dict(node.kwargs)))


@reads_onnx(*ONNX)
def read_onnx(node: OnnxNode) -> Step:
    function, settings = ONNX[node.op_type]
    return Step("elementwise", node.name, function=Elementwise(function, (), settings(node.attributes)))


@reads_onnx("Clip")
def read_clip(node: OnnxNode) -> Step:
    """ONNX ``Clip(x, min, max)`` with constant bounds (ReLU6 and Hardtanh export as this)."""
    low, high = node.constant(0), node.constant(1)
    bounds = {"min": None if low is None else float(low), "max": None if high is None else float(high)}
    return Step("elementwise", node.name, function=Elementwise(torch.clamp, (), bounds))


@reads_methods(*METHODS)
def read_method(graph_module: fx.GraphModule, node: fx.Node) -> Step:
    no_tensor_arguments(graph_module, node)
    return Step("elementwise", node.name, function=Elementwise(getattr(torch, str(node.target)), (), {}))
