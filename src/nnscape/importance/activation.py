"""Activation-weighted magnitude, "activation": a node matters for class k as much as it varies on class k.

Zeroing the edge from node j to node i changes node i's input by ``w_ij · a_j``; over the examples of class k
that change is as large as ``|w_ij|`` times the spread of ``a_j`` on class k. The front end's pruning score,
edge importance × the source node's importance, is then ``|w|`` × that spread (each layer scaled to peak 1).
Spread is measured against the mean over all training examples, ``sqrt(mean_k (a_j − mean_all a_j)²)``: the
bias can absorb a constant, so a node that is constant over the data set (a black border pixel, a dead ReLU)
scores 0, and a node that is switched on or off by class k scores high for k even when it is constant within
class k. A convolution's channel counts each of its positions as a sample. One pass over the data, no
training (the product of weight magnitude and activation is the pruning criterion of Molchanov et al. 2017
without the gradient).
"""

from __future__ import annotations

import threading

import torch

from nnscape.importance.method import MethodResult, class_means, layer_inputs
from nnscape.intake import LayerChain
from nnscape.progress import ProgressCallback

__all__ = ["NAME", "node_importance"]

NAME = "activation"


@torch.no_grad()
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
    """Per-class spread of every node entering a layer around its overall mean (see the module docstring)."""
    del seed  # deterministic: nothing is drawn
    n_classes = chain.layer_sizes[-1]

    def moments(x_chunk: torch.Tensor, y_chunk: torch.Tensor) -> list[torch.Tensor]:
        inputs, _ = layer_inputs(chain, x_chunk)  # a channel's positions are samples of it
        return [*(a.mean(dim=2) for a in inputs), *(a.square().mean(dim=2) for a in inputs)]

    means = class_means(moments, x, y, n_classes=n_classes, device=device, progress=progress, cancel=cancel)
    weights = torch.bincount(y, minlength=n_classes).to(device, torch.float64)[:, None] / y.shape[0]
    n_layers = len(means) // 2
    layers = []
    for first, second in zip(means[:n_layers], means[n_layers:], strict=True):
        overall = (weights * first).sum(dim=0)  # (n_l,) mean over all examples
        deviation = second - 2 * overall * first + overall.square()  # mean_k (a − m)²
        layers.append(deviation.clamp_min(0).sqrt().T.float().cpu())
    return MethodResult(layers, {"statistic": "rms deviation from the overall mean", "passes": 1})
