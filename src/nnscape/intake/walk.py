"""The walk of a model's data flow into steps: one main path, side branches, residual additions, concatenations.

Every graph nnscape reads (an fx trace, an exported program, an ONNX file) is turned by its reader into
:class:`Flow` nodes in forward order, and walked here once, by the same rules. Values flow along one main path;
a side branch may leave it and come back through a residual addition (an "add" step carrying the shortcut: the
identity or one Linear/convolution with batch norm, the path with fewer layers); earlier values of the main
path may be concatenated with its latest one (a "concat" step naming where each joined value comes from). Any
other merge (a concatenation of parallel branches, a product) is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Literal

from nnscape.errors import ModelError
from nnscape.intake.chain import Step

__all__ = ["Flow", "walk_steps"]


@dataclass(frozen=True)
class Flow:
    """One node of a graph as the walk sees it.

    ``inputs`` are the data values it reads, in order (for a concatenation, the values it joins, repeats
    included); ``output`` the value it gives; ``read`` its step (``None`` for a node that does nothing at
    inference), called only where the walk needs it, so that a refusal names the first node it cannot read.
    """

    name: str
    what: str  # its type, for messages
    inputs: tuple[Hashable, ...]
    output: Hashable
    read: Callable[[], Step | None]
    merge: Literal["add", "concat"] | None = None  # a residual addition or a concatenation of channels


def walk_steps(start: Hashable, flows: Iterable[Flow], end: object, owner: str) -> list[Step]:
    """The main path's steps from the value ``start`` (the one input) to ``end`` (the output) of ``owner``."""
    steps: list[Step] = []  # the main path
    current = start
    position: dict[Hashable, int] = {start: 0}  # a main-path value: the value after steps[:position]
    branches: dict[Hashable, tuple[int, list[Step]]] = {}  # a side branch: its fork position and its steps
    for flow in flows:
        inputs = flow.inputs
        if flow.merge == "add" and len(inputs) == 2 and current in inputs:
            other = inputs[1] if inputs[0] == current else inputs[0]
            fork, shortcut = (position[other], []) if other in position else branches.get(other, (-1, []))
            if fork < 0:
                raise ModelError(f"node {flow.name!r} (add): its second value does not branch off the main path")
            steps[fork:], shortcut = _main_and_shortcut(steps[fork:], shortcut, flow.name)
            steps.append(Step("add", flow.name, fork=fork, shortcut=tuple(shortcut)))
            for value in [value for value, at in position.items() if at > fork]:
                del position[value]  # the path after the fork may have been swapped with the shortcut
        elif flow.merge == "concat":
            step = flow.read()
            assert step is not None
            step.parts = _concat_parts(flow, current, position)
            steps.append(step)
        elif len(inputs) != 1:
            raise ModelError(
                f"node {flow.name!r} ({flow.what}) combines several values; nnscape reads chains of layers with "
                "residual additions and concatenations of channels, not other merges"
            )
        elif inputs[0] == current:
            step = flow.read()
            if step is not None:
                steps.append(step)
        elif inputs[0] in position or inputs[0] in branches:  # a side branch (a shortcut) grows
            step = flow.read()
            fork, branch = (position[inputs[0]], []) if inputs[0] in position else branches[inputs[0]]
            branches[flow.output] = (fork, [*branch, *([step] if step is not None else [])])
            continue
        else:
            raise ModelError(f"node {flow.name!r} ({flow.what}): its input is not on the model's path")
        current = flow.output
        position[current] = len(steps)
    if end != current:
        raise ModelError(f"{owner}: the output is not the end of the model's main path")
    return steps


def _concat_parts(flow: Flow, current: Hashable, position: dict[Hashable, int]) -> tuple[int, ...]:
    """Where each value a concatenation joins comes from: -1 for the latest value of the main path, else the
    main path's position (its value after ``steps[:position]``); refuses values from side branches."""
    parts = []
    for value in flow.inputs:
        if value == current:
            parts.append(-1)
        elif value in position:
            parts.append(position[value])
        else:
            raise ModelError(
                f"node {flow.name!r} (cat): the value {getattr(value, 'name', value)!r} does not come from the "
                "model's path; nnscape reads concatenations of the latest value with earlier values of the path "
                "(DenseNet-style), not of parallel branches"
            )
    if parts.count(-1) != 1:
        raise ModelError(
            f"node {flow.name!r} (cat): nnscape reads concatenations that join the latest value of the path "
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
