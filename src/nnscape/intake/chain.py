"""The chain a model is read into, and batch-norm folding: steps in forward order become ``pre + Linear`` groups.

An existing BatchNorm is used with its running statistics (inference semantics) and folded into the adjacent
Linear — into the one before it when it directly follows a Linear (the usual Linear → BN → activation), else
into the one after it — so that edge weights are the weights the model really applies. A BN between two
element-wise functions stays in the chain as a per-feature affine step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from nnscape.errors import ModelError

__all__ = ["Affine", "MlpChain", "Step", "build_chain", "cpu_copy", "unsupported"]

StepKind = Literal["linear", "affine", "elementwise", "output"]


@dataclass(frozen=True)
class MlpChain:
    """A model read as ``x → pre[0] → Linear 0 → pre[1] → Linear 1 → … → logits``.

    Attributes
    ----------
    names : tuple of str
        Qualified name of each Linear layer in the model.
    linears : tuple of nn.Linear
        The model's own Linear modules (or wrappers sharing the tensors of a functional ``linear``).
    weights : tuple of (n_{l+1}, n_l) float32 CPU tensors
        Detached copies of the weights, existing batch norms folded in.
    biases : tuple of (n_{l+1},) float32 CPU tensors
        Detached copies of the biases (zeros where a layer has none), batch norms folded in.
    pre : tuple of tuples of nn.Module
        Element-wise functions applied to the input of Linear ``l``; they act on any shape ``(..., n_l)``.
    """

    names: tuple[str, ...]
    linears: tuple[nn.Linear, ...]
    weights: tuple[torch.Tensor, ...]
    biases: tuple[torch.Tensor, ...]
    pre: tuple[tuple[nn.Module, ...], ...]

    @property
    def layer_sizes(self) -> list[int]:
        """Nodes per layer, input first: ``[n_0, n_1, …, n_outputs]``."""
        return [int(self.weights[0].shape[1])] + [int(w.shape[0]) for w in self.weights]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., n_outputs)`` logits of flat inputs ``x`` of shape ``(..., n_0)`` (inference semantics)."""
        h = x
        for pre, weight, bias in zip(self.pre, self.weights, self.biases, strict=True):
            for function in pre:
                h = function(h)
            h = F.linear(h, weight.to(h.device), bias.to(h.device))
        return h


@dataclass
class Step:
    """One layer of the model as a layer reader saw it (see :mod:`nnscape.intake.layers`)."""

    kind: StepKind
    name: str
    linear: nn.Linear | None = None
    function: nn.Module | None = None
    scale: torch.Tensor | None = None
    shift: torch.Tensor | None = None


class Affine(nn.Module):
    """A frozen per-feature ``x * scale + shift`` (an inference-mode BatchNorm1d that could not be folded)."""

    def __init__(self, scale: torch.Tensor, shift: torch.Tensor):
        super().__init__()
        self.register_buffer("scale", scale)
        self.register_buffer("shift", shift)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale, shift = self.scale, self.shift
        assert isinstance(scale, torch.Tensor)
        assert isinstance(shift, torch.Tensor)
        return x * scale + shift


def cpu_copy(tensor: torch.Tensor) -> torch.Tensor:
    """A detached float32 CPU copy: the chain never shares memory or a device with the caller's model."""
    return tensor.detach().to("cpu", torch.float32, copy=True)


def unsupported(name: str, type_name: str) -> ModelError:
    """The one refusal of a layer no reader handles."""
    return ModelError(
        f"layer {name!r} ({type_name}) is not supported: nnscape reads chains of Linear layers with element-wise "
        "activations, Dropout, Flatten, Identity and BatchNorm1d"
    )


def build_chain(steps: list[Step], model_name: str) -> MlpChain:
    """Group the steps into ``pre[l] + Linear l``, folding batch norms into the adjacent Linear."""
    linear_positions = [i for i, step in enumerate(steps) if step.kind == "linear"]
    if not linear_positions:
        raise ModelError(f"{model_name}: no Linear layer found; nnscape needs at least one")
    last = linear_positions[-1]
    for step in steps[last + 1 :]:
        if step.kind == "affine" and steps[last + 1] is step:
            continue  # folded into the output layer below
        if step.kind not in ("output", "elementwise"):
            raise unsupported(step.name, "layer after the class output")
    for step in steps[:last]:
        if step.kind == "output":
            raise ModelError(f"layer {step.name!r} (softmax) is only allowed after the last Linear layer")

    names: list[str] = []
    linears: list[nn.Linear] = []
    weights: list[torch.Tensor] = []
    biases: list[torch.Tensor] = []
    pre: list[tuple[nn.Module, ...]] = []
    pending: list[nn.Module] = []
    forward_fold: tuple[torch.Tensor, torch.Tensor] | None = None  # a BN just before the next Linear
    for index, step in enumerate(steps):
        previous = steps[index - 1] if index else None
        following = steps[index + 1] if index + 1 < len(steps) else None
        if step.kind == "linear":
            assert step.linear is not None
            weight = cpu_copy(step.linear.weight)
            bias = cpu_copy(step.linear.bias) if step.linear.bias is not None else torch.zeros(weight.shape[0])
            if forward_fold is not None:  # W (s x + t) + b = (W diag s) x + (W t + b)
                scale, shift = forward_fold
                bias = bias + weight @ shift
                weight = weight * scale
                forward_fold = None
            names.append(step.name)
            linears.append(step.linear)
            weights.append(weight)
            biases.append(bias)
            pre.append(tuple(pending))
            pending = []
        elif step.kind == "affine":
            assert step.scale is not None
            assert step.shift is not None
            if previous is not None and previous.kind == "linear":  # s (W x + b) + t
                weights[-1] = weights[-1] * step.scale[:, None]
                biases[-1] = biases[-1] * step.scale + step.shift
            elif following is not None and following.kind == "linear":
                forward_fold = (step.scale, step.shift)
            else:
                pending.append(Affine(step.scale, step.shift))
        elif step.kind == "elementwise" and index < last:
            assert step.function is not None
            pending.append(step.function)
    _check_sizes(names, weights)
    return MlpChain(tuple(names), tuple(linears), tuple(weights), tuple(biases), tuple(pre))


def _check_sizes(names: list[str], weights: list[torch.Tensor]) -> None:
    for layer in range(1, len(weights)):
        if weights[layer].shape[1] != weights[layer - 1].shape[0]:
            raise ModelError(
                f"layer {names[layer]!r} takes {weights[layer].shape[1]} inputs but {names[layer - 1]!r} gives "
                f"{weights[layer - 1].shape[0]}; nnscape needs consecutive Linear layers to fit"
            )
