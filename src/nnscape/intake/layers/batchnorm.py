"""BatchNorm1d/2d, used with its running statistics (inference semantics) as a per-channel affine step.

:func:`nnscape.intake.chain.build_chain` folds the step into the adjacent Linear where it can.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import fx, nn

from nnscape.errors import ModelError
from nnscape.intake.chain import Step, cpu_copy
from nnscape.intake.layers.registry import OnnxNode, fetch, reads_functions, reads_modules, reads_onnx


@reads_modules("BatchNorm1d", "BatchNorm2d")
def read_module(name: str, module: Any) -> Step:
    mean, var = module.running_mean, module.running_var
    if mean is None or var is None:
        raise ModelError(f"layer {name!r} (batch norm) has no running statistics (track_running_stats=False)")
    scale = 1.0 / torch.sqrt(cpu_copy(var) + float(module.eps))
    shift = -cpu_copy(mean) * scale
    gamma, beta = torch.ones_like(scale), torch.zeros_like(shift)
    if module.weight is not None:
        gamma, beta = cpu_copy(module.weight), cpu_copy(module.bias)
        scale = scale * gamma
        shift = shift * gamma + beta
    return Step("affine", name, scale=scale, shift=shift, norm=(gamma, beta))


@reads_onnx("BatchNormalization")
def read_onnx(node: OnnxNode) -> Step:
    """ONNX ``BatchNormalization(X, scale, B, mean, var)`` in inference mode."""
    scale, shift, mean, var = (node.constant(index) for index in range(4))
    if node.attributes.get("training_mode", 0) or scale is None or shift is None or mean is None or var is None:
        raise ModelError(f"node {node.name!r} (ONNX BatchNormalization): expected inference mode and constants")
    module = nn.BatchNorm1d(int(mean.shape[0]), eps=float(node.attributes.get("epsilon", 1e-5)))
    module.running_mean, module.running_var = mean, var
    module.weight, module.bias = nn.Parameter(scale), nn.Parameter(shift)
    return read_module(node.name, module)


@reads_onnx("Add")
def read_bias(node: OnnxNode) -> Step:
    """ONNX ``Add`` of a constant per-channel bias (as after a ``MatMul``): an affine step that folds."""
    bias = node.constant(0)
    if bias is None or bias.numel() != max(bias.shape, default=1):
        raise ModelError(f"node {node.name!r} (ONNX Add): nnscape reads the addition of a constant bias vector")
    bias = bias.reshape(-1).float()
    return Step("affine", node.name, scale=torch.ones_like(bias), shift=bias)


@reads_functions(torch.ops.aten.batch_norm.default)  # torch.export of an eval-mode BN
def read_function(graph_module: fx.GraphModule, node: fx.Node) -> Step:
    """``aten.batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps, cudnn)``."""
    weight, bias, mean, var, training, _momentum, eps = node.args[1:8]
    if training:
        raise ModelError(f"node {node.name!r} (batch_norm): exported in training mode; export the model in eval()")
    scale, shift, running_mean, running_var = (fetch(graph_module, arg, node) for arg in (weight, bias, mean, var))
    if running_mean is None or running_var is None:
        raise ModelError(f"node {node.name!r} (batch_norm) has no running statistics")
    module = nn.BatchNorm1d(int(running_mean.shape[0]), eps=float(cast(float, eps)), affine=scale is not None)
    module.running_mean, module.running_var = running_mean, running_var
    if scale is not None and shift is not None:
        module.weight, module.bias = nn.Parameter(scale), nn.Parameter(shift)
    return read_module(node.name, module)
