"""Convolutions (Conv1d/Conv2d, groups and depthwise included) as modules, functions and ATen ops.

Each channel is a node; the weight ``(out, in / groups, *kernel)`` gives an edge from input channel i to output
channel o for every i in o's group (see :func:`nnscape.importance.gap_edges` for what the edge carries).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import fx, nn

from nnscape.errors import ModelError
from nnscape.intake.chain import Conv, Step
from nnscape.intake.layers.registry import OnnxNode, fetch, reads_functions, reads_modules, reads_onnx

_aten = torch.ops.aten
_DIMS = {"Conv1d": 1, "Conv2d": 2, F.conv1d: 1, F.conv2d: 2, _aten.conv1d.default: 1, _aten.conv2d.default: 2,
         _aten.conv1d.padding: 1, _aten.conv2d.padding: 2}  # fmt: skip


@reads_modules("Conv1d", "Conv2d")
def read_module(name: str, module: Any) -> Step:
    type_name = str(getattr(module, "original_name", type(module).__name__))
    if getattr(module, "padding_mode", "zeros") != "zeros":
        raise ModelError(f"layer {name!r} ({type_name}): padding_mode {module.padding_mode!r}; nnscape reads 'zeros'")
    conv = _settings(_DIMS[type_name], module.stride, module.padding, module.dilation, module.groups)
    return Step("conv", name, module=module, conv=conv)


@reads_functions(*(target for target in _DIMS if not isinstance(target, str)))
def read_function(graph_module: fx.GraphModule, node: fx.Node) -> Step:
    """``conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)`` on parameters of the model."""
    names = ("weight", "bias", "stride", "padding", "dilation", "groups")
    arguments = dict(zip(names, node.args[1:], strict=False)) | {k: v for k, v in node.kwargs.items() if k in names}
    if any(isinstance(arguments.get(key), fx.Node) for key in names[2:]):
        raise ModelError(f"node {node.name!r} (conv): stride, padding, dilation and groups must be constants")
    weight = fetch(graph_module, arguments.get("weight"), node)
    if weight is None:
        raise ModelError(f"node {node.name!r} (conv): no weight")
    bias = fetch(graph_module, arguments.get("bias"), node)
    dims = _DIMS[node.target]
    conv = _settings(
        dims, arguments.get("stride", 1), arguments.get("padding", 0), arguments.get("dilation", 1),
        arguments.get("groups", 1),
    )  # fmt: skip
    module = nn.Module()
    module.register_parameter("weight", nn.Parameter(weight.detach(), requires_grad=False))
    module.register_parameter("bias", None if bias is None else nn.Parameter(bias.detach(), requires_grad=False))
    weight_node = arguments["weight"]
    assert isinstance(weight_node, fx.Node)  # fetch refuses anything but a get_attr node
    return Step("conv", str(weight_node.target).removesuffix(".weight"), module=module, conv=conv)


@reads_onnx("Conv")
def read_onnx(node: OnnxNode) -> Step:
    """ONNX ``Conv(X, W, B)`` with symmetric ``pads`` (begins equal ends) and no ``auto_pad``."""
    weight, bias = node.constant(0), node.constant(1)
    if weight is None or weight.ndim not in (3, 4):
        raise ModelError(f"node {node.name!r} (ONNX Conv): expected a constant 1-D or 2-D kernel")
    dims = weight.ndim - 2
    attributes = node.attributes
    if attributes.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise ModelError(f"node {node.name!r} (ONNX Conv): auto_pad {attributes['auto_pad']!r} is not supported")
    pads = list(attributes.get("pads", [0] * 2 * dims))
    if pads[:dims] != pads[dims:]:
        raise ModelError(f"node {node.name!r} (ONNX Conv): asymmetric pads {pads} are not supported")
    conv = _settings(dims, attributes.get("strides", 1), pads[:dims], attributes.get("dilations", 1),
                     attributes.get("group", 1))  # fmt: skip
    module = nn.Module()
    module.register_parameter("weight", nn.Parameter(weight, requires_grad=False))
    module.register_parameter("bias", None if bias is None else nn.Parameter(bias, requires_grad=False))
    return Step("conv", node.name, module=module, conv=conv)


def _settings(dims: int, stride: Any, padding: Any, dilation: Any, groups: Any) -> Conv:
    def spread(value: Any) -> tuple[int, ...]:
        values = tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),)
        return values * dims if len(values) == 1 else values

    return Conv(dims, spread(stride), padding if isinstance(padding, str) else spread(padding), spread(dilation),
                int(groups))  # fmt: skip
