"""Graph walking: a model's layers in forward order, from an fx trace, an exported program or TorchScript.

Any ``nn.Module`` is traced with ``torch.fx`` (a forward with data-dependent control flow cannot be traced and is
refused); an exported program's module is already an fx graph. Its nodes are given to the one walk of a data
flow (:mod:`nnscape.intake.walk`: a main path, residual additions, concatenations of channels), leaving out shape
queries and parameter reads. A TorchScript model must be made of ``nn.Sequential`` containers, whose order is
their forward.
"""

from __future__ import annotations

import operator
from functools import partial
from typing import Any

import torch
from torch import fx, nn

from nnscape.errors import ModelError
from nnscape.intake.chain import Step
from nnscape.intake.layers import concat, module_step, node_step
from nnscape.intake.layers.registry import describe
from nnscape.intake.onnx_file import OnnxModel
from nnscape.intake.walk import Flow, walk_steps

__all__ = ["graph_steps", "model_steps", "script_steps"]

HELPER_METHODS = frozenset({"size", "dim"})  # shape queries feeding a view/reshape
ADD_FUNCTIONS: frozenset[object] = frozenset(
    {operator.add, operator.iadd, torch.add, torch.ops.aten.add.Tensor, torch.ops.aten.add_.Tensor, "add", "add_"}
)  # a residual addition: a function, or a tensor method by name


def model_steps(model: nn.Module) -> list[Step]:
    """The steps of any supported model, in forward order."""
    if isinstance(model, OnnxModel):
        return list(model.steps)
    return script_steps(model) if isinstance(model, torch.jit.ScriptModule) else graph_steps(model)


def script_steps(model: torch.jit.ScriptModule) -> list[Step]:
    """Leaves of a TorchScript model made of Sequentials, in order (a Sequential's forward is its order)."""
    steps: list[Step] = []

    def walk(prefix: str, module: Any) -> None:
        type_name = str(module.original_name)
        if type_name == "Sequential":
            for child_name, child in module.named_children():
                walk(f"{prefix}.{child_name}" if prefix else child_name, child)
            return
        if not prefix:
            raise ModelError(
                f"TorchScript model ({type_name}) has a custom forward nnscape cannot read; script an "
                "nn.Sequential, or pass the nn.Module itself"
            )
        step = module_step(prefix, module, type_name)
        if step is not None:
            steps.append(step)

    walk("", model)
    return steps


def graph_steps(model: nn.Module) -> list[Step]:
    """Steps of an fx graph (a traced module or an exported program's module), walked by :func:`walk_steps`."""
    if isinstance(model, fx.GraphModule):
        graph_module = model
    else:
        try:
            graph_module = fx.symbolic_trace(model)
        except Exception as exc:  # tracing fails in many ways on dynamic Python; report them all alike
            raise ModelError(
                f"cannot trace the forward of {type(model).__name__} ({str(exc).splitlines()[0]}); nnscape needs "
                "a forward without data-dependent control flow, e.g. an nn.Sequential"
            ) from exc
    owner = type(model).__name__
    start: fx.Node | None = None
    end: object = None
    flows: list[Flow] = []
    helpers: set[fx.Node] = set()  # shape queries and parameter reads: not part of the data flow
    for node in graph_module.graph.nodes:
        if node.op == "placeholder":
            if start is not None:
                raise ModelError(f"{owner}.forward takes several inputs; nnscape needs one")
            start = node
        elif node.op == "get_attr" or _is_helper(node, helpers):
            helpers.add(node)
        elif node.op == "output":
            end = node.args[0]
            while isinstance(end, (tuple, list)) and len(end) == 1:
                end = end[0]
            break
        elif node.users or node.op != "call_module":  # e.g. torch.export's guard function: its result is unused
            flows.append(_flow(graph_module, node, helpers))
    return walk_steps(start, flows, end, owner)


def _flow(graph_module: fx.GraphModule, node: fx.Node, helpers: set[fx.Node]) -> Flow:
    """An fx node as the walk sees it."""
    what = describe(graph_module, node)
    read = partial(node_step, graph_module, node)
    if node.op == "call_function" and node.target in concat.FUNCTIONS:
        return Flow(node.name, what, tuple(concat.concatenated(graph_module, node)), node, read, "concat")
    inputs = tuple(arg for arg in node.all_input_nodes if arg not in helpers)
    return Flow(node.name, what, inputs, node, read, "add" if node.target in ADD_FUNCTIONS else None)


def _is_helper(node: fx.Node, helpers: set[fx.Node]) -> bool:
    """Shape queries (``x.size(0)``, ``x.shape[0]``) that only feed a ``view``: not part of the data flow."""
    if node.op == "call_method":
        return node.target in HELPER_METHODS
    if node.op != "call_function":
        return False
    if node.target is getattr:
        attribute = node.args[1]
        return isinstance(attribute, str) and attribute == "shape"  # a plain str compare, never a SymBool
    return node.target is operator.getitem and node.args[0] in helpers
