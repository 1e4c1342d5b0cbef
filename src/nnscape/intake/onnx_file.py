"""ONNX intake: an ``.onnx`` file read by nnscape's own graph reader, never executed.

The file is parsed with the ``onnx`` package (protobuf only; no runtime, no custom operators, external data
refused so that a file never makes nnscape read another path). Its nodes are given, in order, to the same walk
as an fx graph (:mod:`nnscape.intake.walk`: a main path, residual additions, concatenations of channels): an
``Add`` of two data values is a residual addition, a ``Concat`` joins its inputs, and any other node takes its
data as the first input, its other inputs being constants (initializers or ``Constant`` nodes); each node is
read by the layer kind registered for its ``op_type`` (:func:`~nnscape.intake.layers.registry.reads_onnx`). The
result is an :class:`OnnxModel`, an ``nn.Module`` that runs the chain it was read into.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nnscape.errors import ModelError
from nnscape.intake.chain import LayerChain, Step, build_chain
from nnscape.intake.layers import onnx_step
from nnscape.intake.layers.registry import OnnxNode
from nnscape.intake.walk import Flow, walk_steps

__all__ = ["MAX_ONNX_BYTES", "OnnxModel", "load_onnx"]

MAX_ONNX_BYTES = 2 << 30  # protobuf's own limit for one message


class OnnxModel(nn.Module):
    """A model read from an ONNX file: its steps, and the chain they form, as a module."""

    def __init__(self, name: str, steps: list[Step]) -> None:
        super().__init__()
        self.name = name
        self.steps = steps
        self.chain: LayerChain = build_chain(steps, name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.chain.logits(x)


def load_onnx(file: Path) -> OnnxModel:
    """Read ``file`` as an ONNX classifier; :class:`ModelError` names the node or the reason it cannot."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as exc:
        raise ModelError(f"{file}: reading ONNX needs the onnx package (pip install onnx)") from exc
    size = file.stat().st_size
    if size > MAX_ONNX_BYTES:
        raise ModelError(f"{file}: {size} bytes; nnscape reads ONNX files of at most {MAX_ONNX_BYTES} bytes")
    try:
        model = onnx.load(str(file), load_external_data=False)
    except Exception as exc:  # protobuf raises its own DecodeError and friends
        raise ModelError(
            f"{file}: not an ONNX model ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from exc
    graph = model.graph
    constants: dict[str, torch.Tensor] = {}
    for initializer in graph.initializer:
        if initializer.data_location == onnx.TensorProto.EXTERNAL:
            raise ModelError(f"{file}: initializer {initializer.name!r} is stored in an external file; nnscape reads "
                             "self-contained ONNX files only")  # fmt: skip
        constants[initializer.name] = _tensor(numpy_helper.to_array(initializer))
    inputs = [value.name for value in graph.input if value.name not in constants]
    if len(inputs) != 1:
        raise ModelError(f"{file}: the graph takes {len(inputs)} inputs ({', '.join(inputs)}); nnscape needs one")
    flows: list[Flow] = []
    for index, node in enumerate(graph.node):
        name = node.name or f"{node.op_type}_{index}"
        attributes = {attribute.name: _value(onnx.helper.get_attribute_value(attribute), numpy_helper)
                      for attribute in node.attribute}  # fmt: skip
        if node.op_type == "Constant":
            value = attributes.get("value")
            if not isinstance(value, torch.Tensor):
                raise ModelError(f"{file}: node {name!r} (ONNX Constant): only tensor constants are read")
            constants[node.output[0]] = value
            continue
        flows.append(_flow(OnnxNode(name, node.op_type, (), attributes), list(node.input), node.output[0], constants))
    outputs = [value.name for value in graph.output]
    end = outputs[0] if len(outputs) == 1 else outputs
    try:
        return OnnxModel(graph.name or file.stem, walk_steps(inputs[0], flows, end, "ONNX graph"))
    except ModelError as exc:
        raise ModelError(f"{file}: {exc}") from exc


def _flow(node: OnnxNode, inputs: list[str], output: str, constants: dict[str, torch.Tensor]) -> Flow:
    """An ONNX node as the walk sees it: a Concat joins all its inputs; an Add of two data values is a residual
    addition; any other node reads its data as the first input, its other inputs being constants."""
    what = f"ONNX {node.op_type}"
    if node.op_type == "Concat":
        return Flow(node.name, what, tuple(inputs), output, partial(onnx_step, node), "concat")
    data = tuple(value for value in inputs if value and value not in constants)
    if node.op_type == "Add" and len(data) == 2:
        return Flow(node.name, what, data, output, lambda: None, "add")

    def read() -> Step | None:
        if inputs[0] != data[0]:
            raise ModelError(f"node {node.name!r} ({what}): its first input is a constant; nnscape reads the data "
                             "as the first input")  # fmt: skip
        node_constants = tuple(constants.get(value) if value else None for value in inputs[1:])
        return onnx_step(replace(node, constants=node_constants))

    return Flow(node.name, what, data, output, read)


def _tensor(array: np.ndarray) -> torch.Tensor:
    if array.dtype.kind not in "biuf":
        raise ModelError(f"an ONNX tensor of {array.dtype}: nnscape reads numeric tensors only")
    return torch.from_numpy(np.array(array, dtype=np.float32 if array.dtype.kind == "f" else array.dtype))


def _value(value: Any, numpy_helper: Any) -> Any:
    """An attribute as a plain value: tensors become torch tensors, bytes strings, repeated fields lists."""
    if hasattr(value, "dims") and hasattr(value, "data_type"):  # a TensorProto
        return _tensor(numpy_helper.to_array(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return [item.decode("utf-8", "replace") if isinstance(item, bytes) else item for item in value]
    return value
