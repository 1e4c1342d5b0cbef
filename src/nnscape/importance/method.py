"""What an importance method is: the registry's entry type, what a method returns, and the pass they share."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from nnscape.intake import LayerChain
from nnscape.progress import ProgressCallback, check_cancelled, report

__all__ = ["CHUNK", "PHASE", "Method", "MethodResult", "class_means", "layer_inputs"]

# Examples per forward pass in the methods that read activations: bounds memory (60 000 MNIST images at once
# would hold ~200 MB per layer) while keeping each matrix product large.
CHUNK = 8192
PHASE = "importance"  # the progress phase of every method


@dataclass(frozen=True)
class MethodResult:
    """Per-class node importance of every layer but the output, and the settings to record in the file.

    ``layers[l]`` is a ``(n_l, C)`` float tensor of non-negative values on any scale (the caller divides each
    layer by its maximum); ``options`` become the file's ``importance_config`` beside the method's name.
    """

    layers: list[torch.Tensor]
    options: dict[str, Any]


# ``(chain, x (n, n_0) float32, y (n,) int64 with every class present, *, seed, device, progress, cancel,
# **settings) → MethodResult``: the settings are keyword parameters with defaults (the front end refuses names
# the method does not have); a bad value raises ConfigError. Long work reports progress and stops with
# Cancelled when ``cancel`` is set.
Method = Callable[..., MethodResult]


def layer_inputs(chain: LayerChain, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The nodes entering every layer, and the logits, for inputs ``x`` ``(n, *input shape)`` (inference).

    Returns ``[(n, n_l, positions_l) per layer l]`` — the features of a Linear (1 position), the channels of a
    convolution or of a flatten bridge with their positions — after the layer's ``pre`` functions, and the
    ``(n, C)`` logits; autograd follows them when ``x`` requires grad.
    """
    inputs = []
    h = x
    for layer, functions in enumerate(chain.pre):
        h = chain.flatten_before_nodes(layer, h)
        for function in functions:
            h = function(h)
        nodes = h.reshape(h.shape[0], h.shape[1], -1)
        inputs.append(nodes)
        h = chain.apply(layer, chain.flatten_after_nodes(layer, nodes.view(h.shape)))  # gradients reach ``nodes``
    return inputs, h


def class_means(
    values: Callable[[torch.Tensor, torch.Tensor], Sequence[torch.Tensor]],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    n_classes: int,
    device: torch.device,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> list[torch.Tensor]:
    """Mean over each class's examples of per-example values, in one pass over the data in chunks.

    ``values(x_chunk, y_chunk)`` maps ``(b, *input shape)`` inputs and ``(b,)`` labels (on ``device``) to tensors of
    shape ``(b, m_i)``; returns ``[(C, m_i) float64]``: row k is the mean over the examples of class k (every
    class has examples). Reports one progress event per chunk and stops with Cancelled when asked.
    """
    counts = torch.bincount(y, minlength=n_classes).to(device, torch.float64)[:, None]
    sums: list[torch.Tensor] = []
    total = -(-x.shape[0] // CHUNK)
    for step, start in enumerate(range(0, x.shape[0], CHUNK), start=1):
        check_cancelled(cancel)
        x_chunk, y_chunk = x[start : start + CHUNK].to(device), y[start : start + CHUNK].to(device)
        for index, value in enumerate(values(x_chunk, y_chunk)):
            if index == len(sums):
                sums.append(torch.zeros(n_classes, value.shape[1], dtype=torch.float64, device=device))
            sums[index].index_add_(0, y_chunk, value.detach().double())
        report(progress, PHASE, step, total)
    return [total_k / counts for total_k in sums]
