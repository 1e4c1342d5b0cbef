"""Element-wise activations (ReLU, GELU, Tanh, …) as modules, functions, ATen ops and tensor methods."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, cast

import torch
import torch.nn.functional as F  # noqa: N812
from torch import fx, nn

from nnscape.intake.chain import Step
from nnscape.intake.layers.registry import no_tensor_arguments, reads_functions, reads_methods, reads_modules

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


@reads_methods(*METHODS)
def read_method(graph_module: fx.GraphModule, node: fx.Node) -> Step:
    no_tensor_arguments(graph_module, node)
    return Step("elementwise", node.name, function=Elementwise(getattr(torch, str(node.target)), (), {}))
