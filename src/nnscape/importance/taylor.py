"""First-order Taylor, "taylor": how much class k's loss would change, to first order, if a node were zeroed.

Removing node j (setting its activation ``a_j`` to 0) changes the loss L by about ``−a_j · ∂L/∂a_j``
(Molchanov et al., "Pruning Convolutional Neural Networks for Resource Efficient Inference", ICLR 2017). The
importance of node j for class k is the mean of ``|a_j · ∂L/∂a_j|`` over the training examples of class k,
with L the cross-entropy of the example's own label, so one forward and one backward pass over the data give
every class at once. For a convolution's channel, ``a · ∂L/∂a`` is summed over its positions before the
absolute value: zeroing the channel zeroes it everywhere. The front end multiplies by ``|w|`` for the edges.
"""

from __future__ import annotations

import threading

import torch
import torch.nn.functional as F  # noqa: N812

from nnscape.importance.method import MethodResult, class_means, layer_inputs
from nnscape.intake import LayerChain
from nnscape.progress import ProgressCallback

__all__ = ["NAME", "node_importance"]

NAME = "taylor"


def node_importance(
    chain: LayerChain,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    seed: int,
    device: torch.device,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> MethodResult:
    """Mean ``|a · ∂L/∂a|`` of every node entering a layer over each class's examples (see the module docstring)."""
    del seed  # deterministic: nothing is drawn

    def saliency(x_chunk: torch.Tensor, y_chunk: torch.Tensor) -> list[torch.Tensor]:
        inputs, logits = layer_inputs(chain, x_chunk.requires_grad_())
        # Summed, not averaged: each example's gradient is then its own loss's, whatever the chunk size.
        gradients = torch.autograd.grad(F.cross_entropy(logits, y_chunk, reduction="sum"), inputs)
        # A channel is zeroed at all its positions at once: its loss change sums over them.
        return [(a.detach() * gradient).sum(dim=2).abs() for a, gradient in zip(inputs, gradients, strict=True)]

    means = class_means(
        saliency, x, y, n_classes=chain.layer_sizes[-1], device=device, progress=progress, cancel=cancel
    )
    return MethodResult(
        [mean.T.float().cpu() for mean in means], {"loss": "cross-entropy of the own label", "passes": 1}
    )
