"""Softmax and LogSoftmax, allowed after the last Linear only and ignored: importance works on the logits."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import fx

from nnscape.intake.chain import Step
from nnscape.intake.layers.registry import OnnxNode, no_tensor_arguments, reads_functions, reads_modules, reads_onnx

_aten = torch.ops.aten


@reads_modules("Softmax", "LogSoftmax")
def read_module(name: str, module: Any) -> Step:
    return Step("output", name)


@reads_onnx("Softmax", "LogSoftmax")
def read_onnx(node: OnnxNode) -> Step:
    return Step("output", node.name)


@reads_functions(
    torch.softmax, torch.log_softmax, F.softmax, F.log_softmax, _aten._softmax.default, _aten._log_softmax.default,
    _aten.softmax.int, _aten.log_softmax.int,
)  # fmt: skip
def read_function(graph_module: fx.GraphModule, node: fx.Node) -> Step:
    no_tensor_arguments(graph_module, node)
    return Step("output", node.name)
