"""Graph walking: a model's layers in forward order, from an fx trace, an exported program or TorchScript.

Any ``nn.Module`` is traced with ``torch.fx`` (a forward with data-dependent control flow cannot be traced and is
refused); an exported program's module is already an fx graph; a TorchScript model must be made of
``nn.Sequential`` containers, whose order is their forward. Every value must flow through one chain: a node
that combines two values (a residual addition, a concatenation) or a second input is refused.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch import fx, nn

from nnscape.errors import ModelError
from nnscape.intake.chain import Step
from nnscape.intake.layers import module_step, node_step
from nnscape.intake.layers.registry import describe
from nnscape.intake.onnx_file import OnnxModel

__all__ = ["graph_steps", "model_steps", "script_steps"]

HELPER_METHODS = frozenset({"size", "dim"})  # shape queries feeding a view/reshape


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
    """Steps of an fx graph (a traced module or an exported program's module), checking it is one chain."""
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
    steps: list[Step] = []
    current: fx.Node | None = None
    helpers: set[fx.Node] = set()  # shape queries and parameter reads: not part of the data flow
    for node in graph_module.graph.nodes:
        if node.op == "placeholder":
            if current is not None:
                raise ModelError(f"{type(model).__name__}.forward takes several inputs; nnscape needs one")
            current = node
            continue
        if node.op == "get_attr" or _is_helper(node, helpers):
            helpers.add(node)
            continue
        if node.op == "output":
            result = node.args[0]
            while isinstance(result, (tuple, list)) and len(result) == 1:
                result = result[0]
            if result is not current:
                raise ModelError(f"{type(model).__name__}: the output is not the end of a single chain of layers")
            break
        if not node.users and node.op == "call_module":
            continue  # e.g. torch.export's guard function: its result is never used
        inputs = [arg for arg in node.all_input_nodes if arg not in helpers]
        if inputs != [current]:
            raise ModelError(
                f"node {node.name!r} ({describe(graph_module, node)}) combines several values; nnscape reads "
                "single chains of layers, not branches or residual connections"
            )
        step = node_step(graph_module, node)
        if step is not None:
            steps.append(step)
        current = node
    return steps


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
