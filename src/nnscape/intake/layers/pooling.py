"""Pooling (max, average, adaptive, global mean): channels stay apart, positions are pooled."""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import fx

from nnscape.errors import ModelError
from nnscape.intake.chain import Step
from nnscape.intake.layers.activation import Elementwise
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
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
)  # fmt: skip
FUNCTIONS = (
    F.max_pool1d, F.max_pool2d, F.avg_pool1d, F.avg_pool2d, F.adaptive_avg_pool1d, F.adaptive_avg_pool2d,
    F.adaptive_max_pool1d, F.adaptive_max_pool2d, _aten.max_pool1d.default, _aten.max_pool2d.default,
    _aten.avg_pool1d.default, _aten.avg_pool2d.default, _aten.adaptive_avg_pool1d.default,
    _aten.adaptive_avg_pool2d.default,
)  # fmt: skip
MEANS = (torch.mean, _aten.mean.dim)


@reads_modules(*MODULES)
def read_module(name: str, module: Any) -> Step:
    if getattr(module, "return_indices", False):
        raise ModelError(f"layer {name!r} ({type(module).__name__}): return_indices=True is not supported")
    return Step("pool", name, function=copy.deepcopy(module))


@reads_functions(*FUNCTIONS)
def read_function(graph_module: fx.GraphModule, node: fx.Node) -> Step:
    constants = no_tensor_arguments(graph_module, node)
    if node.kwargs.get("return_indices"):
        raise ModelError(f"node {node.name!r}: return_indices=True is not supported")
    return Step("pool", node.name, function=Elementwise(node.target, constants, dict(node.kwargs)))  # type: ignore[arg-type]


@reads_functions(*MEANS)
@reads_methods("mean")
def read_mean(graph_module: fx.GraphModule, node: fx.Node) -> Step:
    """A global average over positions, ``x.mean((2, 3))``; a mean over examples or channels is refused."""
    constants = no_tensor_arguments(graph_module, node)
    dims = constants[0] if constants else node.kwargs.get("dim")
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    if not all(isinstance(d, int) and d >= 2 for d in dims):
        raise ModelError(f"node {node.name!r} (mean over {dims}): nnscape reads a mean over positions (dims >= 2)")
    function = torch.mean if node.op == "call_method" else node.target
    return Step("pool", node.name, function=Elementwise(function, constants, dict(node.kwargs)))  # type: ignore[arg-type]


def global_average(x: torch.Tensor) -> torch.Tensor:
    """The mean over all positions of each channel, kept as positions of size 1 (ONNX GlobalAveragePool)."""
    return x.mean(dim=tuple(range(2, x.ndim)), keepdim=True)


def global_maximum(x: torch.Tensor) -> torch.Tensor:
    """The maximum over all positions of each channel (ONNX GlobalMaxPool)."""
    return x.amax(dim=tuple(range(2, x.ndim)), keepdim=True)


@reads_onnx("GlobalAveragePool", "GlobalMaxPool")
def read_onnx_global(node: OnnxNode) -> Step:
    function = global_average if node.op_type == "GlobalAveragePool" else global_maximum
    return Step("pool", node.name, function=Elementwise(function, (), {}))


@reads_onnx("MaxPool", "AveragePool")
def read_onnx(node: OnnxNode) -> Step:
    """ONNX ``MaxPool``/``AveragePool`` with symmetric pads, 1-D or 2-D."""
    attributes = node.attributes
    kernel = list(attributes["kernel_shape"])
    dims = len(kernel)
    pads = list(attributes.get("pads", [0] * 2 * dims))
    if dims not in (1, 2) or pads[:dims] != pads[dims:] or attributes.get("auto_pad", "NOTSET") != "NOTSET":
        raise ModelError(f"node {node.name!r} (ONNX {node.op_type}): nnscape reads 1-D/2-D pools with symmetric pads")
    settings: dict[str, Any] = {
        "kernel_size": kernel, "stride": list(attributes.get("strides", [1] * dims)), "padding": pads[:dims],
        "ceil_mode": bool(attributes.get("ceil_mode", 0)),
    }  # fmt: skip
    function: Callable[..., torch.Tensor]
    if node.op_type == "MaxPool":
        function = F.max_pool1d if dims == 1 else F.max_pool2d
        settings["dilation"] = list(attributes.get("dilations", [1] * dims))
    else:
        function = F.avg_pool1d if dims == 1 else F.avg_pool2d
        settings["count_include_pad"] = bool(attributes.get("count_include_pad", 0))
    return Step("pool", node.name, function=Elementwise(function, (), settings))


@reads_functions(operator.getitem)
def read_getitem(graph_module: fx.GraphModule, node: fx.Node) -> None:
    """Item 0 of a single-output op (torch.export's ``max_pool2d_with_indices`` gives ``(values, indices)``)."""
    if node.args[1] != 0:
        raise ModelError(f"node {node.name!r}: only item 0 of a layer's result is read")
    return None
