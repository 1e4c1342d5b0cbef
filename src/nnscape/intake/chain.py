"""The chain a model is read into, and batch-norm folding: steps in forward order become ``pre + layer`` groups.

A chain is ``x → pre[0] → layer 0 → pre[1] → layer 1 → … → logits`` where every layer is a Linear or a
convolution (Conv1d/Conv2d, groups included) and every ``pre`` function keeps the channels apart (element-wise
activations, pooling, a per-channel affine). The nodes nnscape draws are the *channels* entering each layer:
the features of a Linear, the channels of a convolution, and for a Linear that reads the flattened output of a
convolution (the "bridge") the channels before flattening.

An existing batch norm (BatchNorm1d/2d) is used with its running statistics (inference semantics) and folded
into the adjacent layer — into the one before it when it directly follows a layer (the usual layer → BN →
activation), else into the one after it where that is exact (a Linear, or an ungrouped convolution without
padding: padding would add zeros the shift never reaches) — so that edge weights are the weights the model
really applies. Any other BN stays in the chain as a per-channel affine step.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from nnscape.errors import ModelError

__all__ = ["Affine", "Conv", "LayerChain", "NodeHook", "Skip", "Step", "build_chain", "cpu_copy", "unsupported"]

StepKind = Literal["linear", "conv", "affine", "elementwise", "pool", "flatten", "output", "add", "concat"]
SUPPORTED = "Linear, Conv1d/Conv2d, element-wise activations, pooling, Dropout, Flatten, Identity and BatchNorm1d/2d"
Merge = Literal["add", "concat"]


@dataclass(frozen=True)
class Conv:
    """How a convolution layer applies its weight ``(out, in / groups, *kernel)``."""

    dims: int
    stride: tuple[int, ...]
    padding: tuple[int, ...] | str
    dilation: tuple[int, ...]
    groups: int

    def __call__(self, h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        convolve = F.conv1d if self.dims == 1 else F.conv2d
        return convolve(h, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    @property
    def padded(self) -> bool:
        return self.padding != "valid" and (isinstance(self.padding, str) or any(self.padding))


@dataclass(frozen=True)
class Skip:
    """A shortcut from node layer ``source`` to node layer ``target`` (``target > source + 1``): its output is
    added to the raw output of the layer producing ``target``, before that layer's activation.

    ``weight`` is ``None`` for the identity (channel i → channel i), else a projection (``(out, in)`` Linear or
    ``(out, in, *kernel)`` convolution applied as ``conv``), batch norm folded into it and ``bias``. ``merge``
    says where it comes from: a residual ``"add"``, or a ``"concat"``, whose weight is the slice of the layer
    producing ``target`` that reads ``source``'s channels (the layer keeps the slice of its latest input).
    """

    name: str
    source: int
    target: int
    weight: torch.Tensor | None = None
    bias: torch.Tensor | None = None
    conv: Conv | None = None
    merge: Merge = "add"

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        if self.weight is None:
            return h
        weight, bias = self.weight.to(h.device), self.bias.to(h.device) if self.bias is not None else None
        if self.conv is None:
            return F.linear(h, weight, bias)
        return self.conv(h, weight, bias if bias is not None else torch.zeros(weight.shape[0], device=h.device))


NodeHook = Callable[[int, torch.Tensor], torch.Tensor]  # (node layer, activation) → what its edges carry


@dataclass(frozen=True)
class LayerChain:
    """A model read as ``x → pre[0] → layer 0 → pre[1] → layer 1 → … → logits``.

    Attributes
    ----------
    names : tuple of str
        Qualified name of each layer in the model.
    modules : tuple of nn.Module
        The model's own Linear/Conv modules (or wrappers sharing the tensors of a functional call).
    weights : tuple of float32 CPU tensors
        Detached copies of the weights, batch norms folded in: ``(out, in)`` for a Linear, ``(out, in / groups,
        *kernel)`` for a convolution.
    biases : tuple of (out,) float32 CPU tensors
        Detached copies of the biases (zeros where a layer has none), batch norms folded in.
    pre : tuple of tuples of nn.Module
        Functions applied to the input of layer ``l``; they keep channels apart and act on ``(n, channels,
        *positions)`` or ``(n, features)``.
    convs : tuple of (Conv or None)
        How each convolution applies its weight; ``None`` for a Linear.
    channels : tuple of int
        Nodes entering each layer: features of a Linear, channels of a convolution or of a bridge.
    bridges : tuple of bool
        Whether each layer is a Linear reading the flattened channels of a convolution (``in = channels ×
        positions``; 1 position after global pooling).
    skips : tuple of Skip
        Shortcuts between node layers that are not consecutive (residual additions, concatenated channels).
    norms : tuple of ((γ, β) or None)
        Per layer, the own ``(out,)`` scale γ and shift β of the batch norm folded into the layer's output (layer
        → BN), ``None`` where there is none: fine-tuning that γ is one way to score the channels it produces.
    """

    names: tuple[str, ...]
    modules: tuple[nn.Module, ...]
    weights: tuple[torch.Tensor, ...]
    biases: tuple[torch.Tensor, ...]
    pre: tuple[tuple[nn.Module, ...], ...]
    convs: tuple[Conv | None, ...] = field(default=())
    channels: tuple[int, ...] = field(default=())
    bridges: tuple[bool, ...] = field(default=())
    skips: tuple[Skip, ...] = field(default=())
    norms: tuple[tuple[torch.Tensor, torch.Tensor] | None, ...] = field(default=())

    @property
    def layer_sizes(self) -> list[int]:
        """Nodes per layer, input first: ``[n_0, n_1, …, n_outputs]``."""
        return [*self.channels, int(self.weights[-1].shape[0])]

    @property
    def is_mlp(self) -> bool:
        """Whether every layer is a Linear on plain features (no convolution, no shortcut)."""
        return all(conv is None for conv in self.convs) and not self.skips

    def positions(self, layer: int) -> int:
        """Input positions each edge of layer ``layer`` aggregates: kernel size, flattened positions, or 1."""
        weight = self.weights[layer]
        if self.convs[layer] is not None:
            return math.prod(weight.shape[2:])
        return int(weight.shape[1]) // self.channels[layer]

    def filter_norms(self, layer: int) -> torch.Tensor:
        """``(out,)`` L1 norm of each filter of layer ``layer`` over all its inputs, the slices a concatenation
        moved into shortcuts included (the layer's whole weight, as the model holds it)."""
        norms = self.weights[layer].abs().flatten(1).sum(dim=1)
        for skip in self.skips:
            if skip.merge == "concat" and skip.target == layer + 1:
                assert skip.weight is not None
                norms = norms + skip.weight.abs().flatten(1).sum(dim=1)
        return norms

    def apply(self, layer: int, h: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """Layer ``layer`` on its input ``h`` (after ``pre`` and the input's flattening), with ``weight`` if given."""
        weight = self.weights[layer] if weight is None else weight
        bias = self.biases[layer].to(h.device)
        conv = self.convs[layer]
        if conv is None:
            return F.linear(h, weight.to(h.device), bias)
        return conv(h, weight.to(h.device), bias)

    def flatten_before_nodes(self, layer: int, h: torch.Tensor) -> torch.Tensor:
        """A plain Linear's input flattened to its features (MLPs take images too); others as they are."""
        if self.convs[layer] is None and not self.bridges[layer] and h.ndim > 2:
            return h.flatten(1)
        return h

    def flatten_after_nodes(self, layer: int, h: torch.Tensor) -> torch.Tensor:
        """A bridge's channels flattened into its Linear's features."""
        return h.flatten(1) if self.bridges[layer] else h

    def logits(
        self,
        x: torch.Tensor,
        weights: tuple[torch.Tensor, ...] | None = None,
        node_hook: NodeHook | None = None,
        output_hook: NodeHook | None = None,
    ) -> torch.Tensor:
        """``(n, n_outputs)`` logits of inputs ``x`` ``(n, *input shape)`` (inference semantics).

        ``weights`` replaces the chain's weights (same shapes), e.g. masked copies. ``node_hook(l, a)``
        replaces the activation ``a`` of node layer ``l`` (channels on dim 1) before its layer and its
        shortcuts read it, e.g. to scale every node. ``output_hook(l, z)`` replaces the output ``z`` of layer
        ``l`` (batch norm folded in, concatenated parts included, before residual shortcuts join and before the
        activation), e.g. to change the γ of the batch norm in :attr:`norms`.
        """
        sources = {skip.source for skip in self.skips}
        saved: dict[int, torch.Tensor] = {}
        h = x
        for layer, pre in enumerate(self.pre):
            h = self.flatten_before_nodes(layer, h)
            for function in pre:
                h = function(h)
            if node_hook is not None:
                h = node_hook(layer, h)
            if layer in sources:
                saved[layer] = h
            h = self.apply(layer, self.flatten_after_nodes(layer, h), None if weights is None else weights[layer])
            joining = [skip for skip in self.skips if skip.target == layer + 1]
            # Concatenated parts belong to the layer's own output (its batch norm acts on their sum); residual
            # additions join after the norm.
            for skip in joining:
                if skip.merge == "concat":
                    h = h + skip(saved[skip.source])
            if output_hook is not None:
                h = output_hook(layer, h)
            for skip in joining:
                if skip.merge == "add":
                    h = h + skip(saved[skip.source])
        return h


@dataclass
class Step:
    """One layer of the model as a layer reader saw it (see :mod:`nnscape.intake.layers`)."""

    kind: StepKind
    name: str
    module: nn.Module | None = None  # linear and conv: the module whose weight and bias are read
    conv: Conv | None = None
    function: nn.Module | None = None  # elementwise and pool
    scale: torch.Tensor | None = None  # affine
    shift: torch.Tensor | None = None
    norm: tuple[torch.Tensor, torch.Tensor] | None = None  # affine from a batch norm: its own γ and β
    fork: int = -1  # add: the main path's value after steps[:fork] is the shortcut's input
    shortcut: tuple[Step, ...] = ()  # add: the shortcut's steps (none for the identity)
    parts: tuple[int, ...] = ()  # concat: per joined value, -1 for the latest, else its fork (as for add)


class Affine(nn.Module):
    """A frozen per-channel ``x * scale + shift`` (an inference-mode batch norm that could not be folded)."""

    def __init__(self, scale: torch.Tensor, shift: torch.Tensor):
        super().__init__()
        self.register_buffer("scale", scale)
        self.register_buffer("shift", shift)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale, shift = self.scale, self.shift
        assert isinstance(scale, torch.Tensor)
        assert isinstance(shift, torch.Tensor)
        shape = (-1,) + (1,) * (x.ndim - 2)  # channels on dim 1, then positions
        return x * scale.view(shape) + shift.view(shape)


def cpu_copy(tensor: torch.Tensor) -> torch.Tensor:
    """A detached float32 CPU copy: the chain never shares memory or a device with the caller's model."""
    return tensor.detach().to("cpu", torch.float32, copy=True)


def unsupported(name: str, type_name: str) -> ModelError:
    """The one refusal of a layer no reader handles."""
    return ModelError(f"layer {name!r} ({type_name}) is not supported: nnscape reads chains of {SUPPORTED}")


def build_chain(steps: list[Step], model_name: str) -> LayerChain:
    """Group the steps into ``pre[l] + layer l``, folding batch norms into the adjacent layer."""
    layer_positions = [i for i, step in enumerate(steps) if step.kind in ("linear", "conv")]
    if not layer_positions:
        raise ModelError(f"{model_name}: no Linear or convolution layer found; nnscape needs at least one")
    last = layer_positions[-1]
    if steps[last].kind != "linear":
        raise ModelError(f"layer {steps[last].name!r}: the class logits must come from a Linear layer")
    for step in steps[last + 1 :]:
        if step.kind == "affine" and steps[last + 1] is step:
            continue  # folded into the output layer below
        if step.kind not in ("output", "elementwise"):
            raise unsupported(step.name, "layer after the class output")
    for step in steps[:last]:
        if step.kind == "output":
            raise ModelError(f"layer {step.name!r} (softmax) is only allowed after the last Linear layer")
    builder = _Builder(steps)
    for index, step in enumerate(steps):
        previous = steps[index - 1] if index else None
        following = steps[index + 1] if index + 1 < len(steps) else None
        builder.add(step, previous, following, last_layer=index >= last)
    return builder.chain()


class _Builder:
    """Collects the layers of a chain, in order, while folding batch norms."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        self.skips: list[Skip] = []
        self.names: list[str] = []
        self.modules: list[nn.Module] = []
        self.weights: list[torch.Tensor] = []
        self.biases: list[torch.Tensor] = []
        self.pre: list[tuple[nn.Module, ...]] = []
        self.convs: list[Conv | None] = []
        self.channels: list[int] = []
        self.bridges: list[bool] = []
        self.norms: list[tuple[torch.Tensor, torch.Tensor] | None] = []
        self.pending: list[nn.Module] = []
        self.flattened = False  # a flatten since the last convolution
        self.forward_fold: tuple[torch.Tensor, torch.Tensor] | None = None  # a BN just before the next layer
        self.concat: tuple[Step, int] | None = None  # a concatenation for the next layer, and len(pending) then

    def add(self, step: Step, previous: Step | None, following: Step | None, *, last_layer: bool) -> None:
        if step.kind in ("linear", "conv"):
            self._layer(step)
        elif step.kind == "affine":
            assert step.scale is not None
            assert step.shift is not None
            if previous is not None and previous.kind in ("linear", "conv"):  # s (W x + b) + t
                shape = (-1,) + (1,) * (self.weights[-1].ndim - 1)
                self.weights[-1] = self.weights[-1] * step.scale.view(shape)
                self.biases[-1] = self.biases[-1] * step.scale + step.shift
                self.norms[-1] = step.norm
                self._scale_concat_parts(step.scale)
            elif following is not None and _folds_forward(following):
                self.forward_fold = (step.scale, step.shift)
            else:
                self.pending.append(Affine(step.scale, step.shift))
        elif step.kind == "flatten":
            self.flattened = True
        elif step.kind == "add":
            self._skip(step)
        elif step.kind == "concat":
            if self.concat is not None:
                raise ModelError(f"node {step.name!r} (cat): a second concatenation before the next layer")
            self.concat = (step, len(self.pending))
        elif step.kind in ("elementwise", "pool") and not last_layer:
            assert step.function is not None
            self.pending.append(step.function)

    def _layer(self, step: Step) -> None:
        module = step.module
        assert module is not None
        weight = cpu_copy(module.weight)  # type: ignore[arg-type]
        bias_value: Any = module.bias
        bias = cpu_copy(bias_value) if bias_value is not None else torch.zeros(weight.shape[0])
        if self.forward_fold is not None:  # W (s x + t) + b = (W diag s) x + (W t + b)
            scale, shift = self.forward_fold
            shape = (1, -1) + (1,) * (weight.ndim - 2)
            bias = bias + (weight * shift.view(shape)).flatten(1).sum(dim=1)
            weight = weight * scale.view(shape)
            self.forward_fold = None
        if self.concat is not None:
            weight = self._split_concat(step, weight)
        channels = self._input_channels(step, weight)
        self.names.append(step.name)
        self.modules.append(module)
        self.weights.append(weight)
        self.biases.append(bias)
        self.pre.append(tuple(self.pending))
        self.convs.append(step.conv)
        self.channels.append(channels)
        self.bridges.append(step.conv is None and bool(self.convs[:-1]) and self.convs[-2] is not None)
        self.norms.append(None)
        self.pending = []
        if step.kind == "conv":
            self.flattened = False

    def _skip(self, step: Step) -> None:
        """A residual addition after the last layer: a shortcut from the node layer at the fork."""
        if self.pending or self.forward_fold is not None or not self.weights:
            raise ModelError(
                f"node {step.name!r} (add): nnscape reads additions right after a layer (and its batch norm), "
                "before the activation"
            )
        source = _node_layer_at(self.steps, step.fork, step.name)
        target = len(self.weights)
        if target <= source + 1:
            raise ModelError(f"node {step.name!r} (add): the shortcut skips no layer")
        weight: torch.Tensor | None = None
        bias: torch.Tensor | None = None
        conv: Conv | None = None
        for part in step.shortcut:
            if part.kind in ("linear", "conv"):
                assert part.module is not None
                weight = cpu_copy(part.module.weight)  # type: ignore[arg-type]
                bias_value: Any = part.module.bias
                bias = cpu_copy(bias_value) if bias_value is not None else torch.zeros(weight.shape[0])
                conv = part.conv
            elif weight is None or bias is None:
                raise ModelError(f"node {step.name!r} (add): a batch norm before the shortcut's layer")
            else:  # a batch norm after the projection: s (W x + b) + t
                assert part.scale is not None
                assert part.shift is not None
                weight = weight * part.scale.view((-1,) + (1,) * (weight.ndim - 1))
                bias = bias * part.scale + part.shift
        channels_in = self.channels[source]
        channels_out = int(self.weights[-1].shape[0])
        given = (channels_in, channels_out) if weight is None else (int(weight.shape[1]), int(weight.shape[0]))
        if given != (channels_in, channels_out):
            raise ModelError(
                f"node {step.name!r} (add): the shortcut maps {given[0]} to {given[1]} channels, but it leaves "
                f"{channels_in} and joins {channels_out}"
            )
        self.skips.append(Skip(step.name, source, target, weight, bias, conv))

    def _split_concat(self, step: Step, weight: torch.Tensor) -> torch.Tensor:
        """The slice of ``step``'s weight that reads the latest value of a concatenation; every other value's
        slice becomes a shortcut from its node layer (a layer is a sum over its input channels)."""
        assert self.concat is not None
        merge, mark = self.concat
        self.concat = None
        bridge = step.conv is None and bool(self.convs) and self.convs[-1] is not None
        if len(self.pending) != mark or bridge or (step.conv is not None and step.conv.groups != 1):
            raise ModelError(
                f"node {merge.name!r} (cat): nnscape reads concatenations that feed a Linear or an ungrouped "
                f"convolution directly; {step.name!r} reads it through other layers or in groups"
            )
        if not self.weights:
            raise ModelError(f"node {merge.name!r} (cat): nnscape needs a layer before a concatenation")
        sources = [-1 if fork < 0 else _node_layer_at(self.steps, fork, merge.name) for fork in merge.parts]
        sizes = [int(self.weights[-1].shape[0]) if s < 0 else self.channels[s] for s in sources]
        if sum(sizes) != int(weight.shape[1]):
            raise ModelError(
                f"node {merge.name!r} (cat): joins {' + '.join(map(str, sizes))} channels but {step.name!r} "
                f"reads {int(weight.shape[1])}"
            )
        ends = [0, *itertools.accumulate(sizes)]
        target = len(self.weights) + 1
        for source, begin, end in zip(sources, ends, ends[1:], strict=False):
            if source >= 0:
                self.skips.append(Skip(merge.name, source, target, weight[:, begin:end], None, step.conv, "concat"))
        latest = sources.index(-1)
        return weight[:, ends[latest] : ends[latest + 1]].contiguous()

    def _scale_concat_parts(self, scale: torch.Tensor) -> None:
        """A batch norm folded into a layer that reads a concatenation scales the slices that became shortcuts
        too: the norm acts on the layer's whole output, the sum over every part."""
        target = len(self.weights)
        for index, skip in enumerate(self.skips):
            if skip.merge == "concat" and skip.target == target:
                assert skip.weight is not None
                shape = (-1,) + (1,) * (skip.weight.ndim - 1)
                self.skips[index] = replace(skip, weight=skip.weight * scale.view(shape))

    def _input_channels(self, step: Step, weight: torch.Tensor) -> int:
        if step.conv is not None:
            return int(weight.shape[1]) * step.conv.groups
        features = int(weight.shape[1])
        after_conv = bool(self.convs) and self.convs[-1] is not None
        if not after_conv:
            return features
        if not self.flattened:
            raise ModelError(
                f"layer {step.name!r} (Linear) follows a convolution without a flatten; nnscape reads a Linear on "
                "flattened (or globally pooled and flattened) channels"
            )
        channels = int(self.weights[-1].shape[0])
        if features % channels:
            raise ModelError(
                f"layer {step.name!r} takes {features} inputs, not a multiple of the {channels} channels of "
                f"{self.names[-1]!r}"
            )
        return channels

    def chain(self) -> LayerChain:
        for layer in range(1, len(self.weights)):
            given = int(self.weights[layer - 1].shape[0])
            if self.channels[layer] != given:
                raise ModelError(
                    f"layer {self.names[layer]!r} takes {self.channels[layer]} channels or inputs but "
                    f"{self.names[layer - 1]!r} gives {given}; nnscape needs consecutive layers to fit"
                )
        return LayerChain(
            tuple(self.names), tuple(self.modules), tuple(self.weights), tuple(self.biases), tuple(self.pre),
            tuple(self.convs), tuple(self.channels), tuple(self.bridges), tuple(self.skips), tuple(self.norms),
        )  # fmt: skip


def _node_layer_at(steps: list[Step], fork: int, name: str) -> int:
    """The node layer whose activation is the main path's value after ``steps[:fork]``: the fork must lie
    right before a layer, where the layer's nodes are."""
    for step in steps[fork:]:
        if step.kind in ("linear", "conv"):
            return sum(earlier.kind in ("linear", "conv") for earlier in steps[:fork])
        if step.kind not in ("flatten", "concat"):  # a concatenation's latest value is its layer's input
            break
    raise ModelError(
        f"node {name!r} (add): the shortcut leaves the main path at a value that is not a layer's input "
        "(nnscape draws shortcuts between the channels entering layers)"
    )


def _folds_forward(step: Step) -> bool:
    """Whether a batch norm right before ``step`` folds into it exactly."""
    if step.kind == "linear":
        return True
    return step.kind == "conv" and step.conv is not None and step.conv.groups == 1 and not step.conv.padded
