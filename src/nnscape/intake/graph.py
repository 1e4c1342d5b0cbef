"""Graph walking: a model's layers in forward order, from an fx trace, an exported program or TorchScript.

Any ``nn.Module`` is traced with ``torch.fx`` (a forward with data-dependent control flow cannot be traced and is
refused); an exported program's module is already an fx graph; a TorchScript model must be made of
``nn.Sequential`` containers, whose order is their forward. Values flow along one main path; a side branch
may leave it and come back through a residual addition (an "add" step carrying the shortcut: the identity or
one Linear/convolution with batch norm, the path with fewer layers); earlier values of the main path may be
concatenated with its latest one (a "concat" step naming where each joined value comes from). Any other merge
(a concatenation of parallel branches, a product) or a second input is refused.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch import fx, nn

from nnscape.errors import ModelError
from nnscape.intake.chain import Step
from nnscape.intake.layers import concat, module_step, node_step
from nnscape.intake.layers.registry import describe
from nnscape.intake.onnx_file import OnnxModel

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
    steps: list[Step] = []  # the main path
    current: fx.Node | None = None
    position: dict[fx.Node, int] = {}  # a main-path value: the value after steps[:position]
    branches: dict[fx.Node, tuple[int, list[Step]]] = {}  # a side branch: its fork position and its steps
    helpers: set[fx.Node] = set()  # shape queries and parameter reads: not part of the data flow
    for node in graph_module.graph.nodes:
        if node.op == "placeholder":
            if current is not None:
                raise ModelError(f"{type(model).__name__}.forward takes several inputs; nnscape needs one")
            current = node
            position[node] = 0
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
        if len(inputs) == 2 and node.target in ADD_FUNCTIONS and current in inputs:
            other = inputs[1] if inputs[0] is current else inputs[0]
            fork, shortcut = (position[other], []) if other in position else branches.get(other, (-1, []))
            if fork < 0:
                raise ModelError(f"node {node.name!r} (add): its second value does not branch off the main path")
            steps[fork:], shortcut = _main_and_shortcut(steps[fork:], shortcut, node.name)
            steps.append(Step("add", node.name, fork=fork, shortcut=tuple(shortcut)))
            for value in [value for value, at in position.items() if at > fork]:
                del position[value]  # the path after the fork may have been swapped with the shortcut
            current = node
            position[node] = len(steps)
            continue
        if node.op == "call_function" and node.target in concat.FUNCTIONS:
            step = node_step(graph_module, node)
            assert step is not None
            step.parts = _concat_parts(graph_module, node, current, position)
            steps.append(step)
            current = node
            position[node] = len(steps)
            continue
        if len(inputs) != 1:
            raise ModelError(
                f"node {node.name!r} ({describe(graph_module, node)}) combines several values; nnscape reads "
                "chains of layers with residual additions and concatenations of channels, not other merges"
            )
        step = node_step(graph_module, node)
        if inputs[0] is current:
            if step is not None:
                steps.append(step)
            current = node
            position[node] = len(steps)
        elif inputs[0] in position or inputs[0] in branches:  # a side branch (a shortcut) grows
            fork, branch = (position[inputs[0]], []) if inputs[0] in position else branches[inputs[0]]
            branches[node] = (fork, [*branch, *([step] if step is not None else [])])
        else:
            raise ModelError(
                f"node {node.name!r} ({describe(graph_module, node)}): its input is not on the model's path"
            )
    return steps


def _concat_parts(
    graph_module: fx.GraphModule, node: fx.Node, current: fx.Node | None, position: dict[fx.Node, int]
) -> tuple[int, ...]:
    """Where each value a concatenation joins comes from: -1 for the latest value of the main path, else the
    main path's position (its value after ``steps[:position]``); refuses values from side branches."""
    parts = []
    for value in concat.concatenated(graph_module, node):
        if value is current:
            parts.append(-1)
        elif value in position:
            parts.append(position[value])
        else:
            raise ModelError(
                f"node {node.name!r} (cat): the value {value.name!r} does not come from the model's path; nnscape "
                "reads concatenations of the latest value with earlier values of the path (DenseNet-style), "
                "not of parallel branches"
            )
    if parts.count(-1) != 1:
        raise ModelError(
            f"node {node.name!r} (cat): nnscape reads concatenations that join the latest value of the path "
            "once, with earlier values"
        )
    return tuple(parts)


def _main_and_shortcut(main: list[Step], other: list[Step], name: str) -> tuple[list[Step], list[Step]]:
    """The two paths from a fork to an addition as (main path, shortcut): the shortcut is the path with fewer
    layers, at most one (an identity or a projection), and holds nothing but that layer and batch norms."""

    def layers(path: list[Step]) -> int:
        return sum(step.kind in ("linear", "conv") for step in path)

    if layers(other) > layers(main):
        main, other = other, main
    if layers(other) > 1 or any(step.kind not in ("linear", "conv", "affine") for step in other):
        raise ModelError(
            f"node {name!r} (add): nnscape reads residual additions whose shortcut is the identity or one "
            "Linear/convolution (with batch norm); this shortcut has "
            + ", ".join(f"{step.name} ({step.kind})" for step in other)
        )
    return main, other


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
