"""One reader per layer kind behind a small registry; importing this package registers every kind.

A new layer kind is one module here that registers its readers with the decorators of
:mod:`nnscape.intake.layers.registry`, plus its name in the import below.
"""

from __future__ import annotations

from nnscape.intake.layers import activation, batchnorm, concat, conv, linear, output, passthrough, pooling
from nnscape.intake.layers.registry import module_step, node_step, onnx_step

__all__ = [
    "activation", "batchnorm", "concat", "conv", "linear", "module_step", "node_step", "onnx_step", "output",
    "passthrough", "pooling",
]  # fmt: skip
