"""The class-aware potential both bundling phases climb, and the step they take along it.

The method's first form of the potential, ``Φ = v·D − σ‖D‖`` with σ rising to 1,
fails: ``‖D‖(cos∠(v, D) − σ)`` is negative everywhere once σ nears 1, so late iterations push samples out of
every bundle whose class mix is not exactly their own, and a full step ``h`` along the normalised gradient
turns even a faint push into a jump. We keep the schedule and the step but change the potential so that a
sample is only ever pushed away by density of *other* classes. With ``v`` the sample's unit class vector,
``v·D`` is the density of its own class and ``‖D‖ − v·D ≥ 0`` the part that is not::

    Φ = v·D − σ_k (‖D‖ − v·D) = (1 + σ_k) v·D − σ_k ‖D‖,
    σ_k = CLASS_REPULSION · sqrt(max(0, 1 − (h_k − h_min) / (h_0 − h_min))).

Pure own-class density attracts at full strength (Φ = ‖D‖) at every σ; pure other-class density repels
(Φ = −σ‖D‖); a mixed bundle attracts while ``cos∠(v, D) > σ / (1 + σ)`` (1/2 at the end of the run), so a
sample leaves a bundle only when other classes dominate it. Early iterations (σ ≈ 0) bundle by plain density;
late ones sort bundles by class. Every point moves ``step`` along the normalised gradient; a slope below
``SLOPE_FLOOR`` times the largest one counts as flat (rounding noise of the blurred grid), and a flat or
empty neighbourhood means no movement, never NaN.

Also tried, and rejected with numbers (docs/processing.md): capping σ at 0.5 (bundles as well, separates
classes about half as much) and scaling the step by the gradient's strength relative to the mean slope
(keeps points in place but bundles far less on 784-81-49-10: ink 0.75-0.91 of straight instead of 0.36).
"""

from __future__ import annotations

import math

import torch

from nnscape.processing.grid import Grid
from nnscape.processing.polylines import row_norm

__all__ = [
    "CELLS_PER_BANDWIDTH",
    "CLASS_REPULSION",
    "bandwidths",
    "cell_size",
    "class_vectors",
    "class_weight",
    "gradient_step",
    "largest_slope",
    "potential_gradient",
    "slope_field",
]

# Final σ, the weight of other-class repulsion (safe at 1 in this form; the first form failed at 1).
CLASS_REPULSION = 1.0
# The grid cell is h / CELLS_PER_BANDWIDTH while that exceeds FINEST_CELL_FRACTION · s: the kernel (σ = h/2)
# spans 1.5 cells.
CELLS_PER_BANDWIDTH = 3.0
# Finest cell as a fraction of the sample spacing s: 0.4 s, so that the finest kernel (h_min = 2s/3, radius
# 1.7 cells, σ = 0.83 cell) is still resolved. Against s/3, benchmarks/bench_quality.py's networks gave ink
# −1.1 %, class separation +0.3 %, and trained Fashion-MNIST networks, whose samples fill the layers' squares
# so that the grid takes a quarter of their time, ink −0.7 %, separation +0.4 % in 10 % less time
# (docs/processing.md, "Speed and memory").
FINEST_CELL_FRACTION = 0.4
# Slopes below this fraction of the density's largest slope are rounding noise, not a direction.
SLOPE_FLOOR = 1e-6
# Below this a norm or a slope counts as zero.
_TINY = 1e-12


def bandwidths(first: float, reduction: float, last: float) -> list[float]:
    """The schedule ``h_k = first · reduction^k`` while ``h_k ≥ last`` (at least one iteration)."""
    schedule = [first]
    while schedule[-1] * reduction >= last:
        schedule.append(schedule[-1] * reduction)
    return schedule


def cell_size(bandwidth: float, spacing: float) -> float:
    """Grid cell side for bandwidth h and sample spacing s: ``max(0.4 s, h/3)`` (the grid may grow it further,
    see :meth:`~nnscape.processing.grid.Grid.around`)."""
    return max(spacing * FINEST_CELL_FRACTION, bandwidth / CELLS_PER_BANDWIDTH)


def class_weight(bandwidth: float, first: float, last: float) -> float:
    """σ_k for bandwidth ``h_k`` on a schedule running from ``first`` (h_0) down to ``last`` (h_min)."""
    if first <= last:
        return CLASS_REPULSION
    progress = 1.0 - (bandwidth - last) / (first - last)
    return CLASS_REPULSION * math.sqrt(min(1.0, max(0.0, progress)))


def class_vectors(importance: torch.Tensor) -> torch.Tensor:
    """``(N, C)`` unit class vectors: importance rows divided by their norm; an all-zero row → uniform."""
    norm = importance.norm(dim=1, keepdim=True)
    uniform = torch.full_like(importance, 1.0 / math.sqrt(importance.shape[1]))
    return torch.where(norm > _TINY, importance / norm.clamp_min(_TINY), uniform)


def slope_field(
    grid: Grid, deposit: torch.Tensor, bandwidth: float, memory: torch.Tensor | None = None
) -> torch.Tensor:
    """``(G, *shape, C + 1, d)``: slopes of the blurred class density and of its norm in every cell.

    ``deposit`` ``(C, G, *shape)``: what the points deposited (:meth:`Grid.deposit`); ``memory``: where to
    write the slopes (:meth:`Grid.gradient`).
    """
    density = grid.blur(deposit, bandwidth)
    channels = density.shape[0]
    with_norm = density.new_empty((channels + 1, *density.shape[1:]))
    with_norm[:channels] = density
    # A sum over the channel axis (a norm over it reduces several times slower).
    torch.sum(density.square(), 0, out=with_norm[channels]).sqrt_()
    return grid.gradient(with_norm, memory)


def potential_gradient(
    grid: Grid,
    slopes: torch.Tensor,
    index: torch.Tensor,
    vectors: torch.Tensor,
    sigma: float,
    inverse_norm: torch.Tensor | None = None,
) -> torch.Tensor:
    """``(P, d)`` gradient of Φ = (1 + σ) v·D − σ‖D‖ at points in the cells ``index`` ``(P,)``.

    ``slopes``: the :func:`slope_field`; ``vectors`` ``(P, C)``: unit class vectors, or directions whose unit
    vectors are ``vectors · inverse_norm`` ``(P,)``. The gradient is the slopes of the points' cells weighted by
    ((1 + σ) v, −σ) and summed over the channels.
    """
    n_classes = vectors.shape[1]
    scale = (1.0 + sigma) if inverse_norm is None else (inverse_norm * (1.0 + sigma)).unsqueeze(1)
    weights = vectors.new_empty((vectors.shape[0], n_classes + 1))
    torch.mul(vectors, scale, out=weights[:, :n_classes])
    weights[:, n_classes].fill_(-sigma)
    return grid.weighted_lookup(slopes, index, weights)


def largest_slope(slopes: torch.Tensor) -> float:
    """The largest component of the density's slope over the cells of a :func:`slope_field` (its last
    channel, the slope of ‖D‖; 0 for no cells): the scale that :func:`gradient_step` measures flatness by."""
    norm_slopes = slopes.select(-2, -1)
    return float(norm_slopes.abs().max()) if norm_slopes.numel() else 0.0


def gradient_step(gradient: torch.Tensor, largest: float, step: float) -> torch.Tensor:
    """``(P, d)`` move of length ``step`` along ``gradient`` ``(P, d)``; zero where it is flat.

    "Flat" is relative: below ``SLOPE_FLOOR`` times ``largest``, the largest component of the density's
    slopes (:func:`largest_slope`; the same for every part of one iteration).
    """
    length = row_norm(gradient)
    moving = length > max(SLOPE_FLOOR * largest, _TINY)
    return gradient.mul_(torch.where(moving, step / length.clamp_min(_TINY), 0.0).unsqueeze(1))
