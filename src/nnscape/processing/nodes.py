"""Node phase (docs/processing.md, "Node phase"): class-aware advection of the nodes in the x-y plane.

All layers share one 2-D density (a node of class k is drawn towards class-k nodes of every layer, so the
edges between them start out short and parallel); z never changes. Bandwidth ``h_k = 0.75 · layer_width ·
node_bandwidth_reduction^k`` until ``h_k < h_min``; each iteration moves every node by up to ``0.2 · h_k`` up
the class potential of :mod:`nnscape.processing.potential`; nodes stay within their slice plus a margin and
within ``NODE_REACH`` of their grid position.
"""

from __future__ import annotations

import threading

import torch

from nnscape.config import ProcessingConfig
from nnscape.processing.grid import Grid
from nnscape.processing.potential import (
    bandwidths,
    cell_size,
    class_vectors,
    class_weight,
    gradient_step,
    largest_slope,
    potential_gradient,
    slope_field,
)
from nnscape.progress import ProgressCallback, check_cancelled, report

__all__ = ["NODE_MARGIN", "NODE_START_BANDWIDTH", "NODE_STEP", "bundle_nodes"]

# h_0 as a fraction of the layer width.
NODE_START_BANDWIDTH = 0.75
# Step length as a fraction of the bandwidth.
NODE_STEP = 0.2
# How far (fraction of the layer width) nodes may leave their slice on every side.
NODE_MARGIN = 0.125
# How far (fraction of the layer width) a node may end from its grid position. Unanchored, the wide early
# kernels (h_0 = 0.75 · width, 56 steps adding up to 3 widths) pull every node of every layer into a few
# points, which leaves nothing for the edges to show.
NODE_REACH = 0.25


def bundle_nodes(
    positions: torch.Tensor,
    importance: torch.Tensor,
    config: ProcessingConfig,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> torch.Tensor:
    """``(N, 3)`` float32 node positions after the node phase, from the grid layout ``positions`` ``(N, 3)``.

    ``importance`` ``(N, C)``: each node deposits its mean importance × its unit class vector.
    """
    width = config.layer_width
    spacing = width / config.sampling_rate
    vectors = class_vectors(importance)
    values = (vectors * importance.mean(dim=1, keepdim=True)).t().contiguous()  # (C, N): one row per class
    half = width / 2 + NODE_MARGIN * width
    low = torch.full((1, 2), -half, device=positions.device)
    high = torch.full((1, 2), half, device=positions.device)
    start = positions[:, :2]
    xy = start.clone()
    reach = NODE_REACH * width
    first = NODE_START_BANDWIDTH * width
    finest = 2 * spacing / 3
    schedule = bandwidths(first, config.node_bandwidth_reduction, finest)
    for k, h in enumerate(schedule):
        check_cancelled(cancel)
        cell = cell_size(h, spacing)
        grid = Grid.around(xy, 0, (low, high), h + cell, cell, values.shape[0] + 1)
        index = grid.cell_index(xy, 0)
        slopes = slope_field(grid, grid.deposit(index, values), h)
        gradient = potential_gradient(grid, slopes, index, vectors, class_weight(h, first, finest))
        xy.add_(gradient_step(gradient, largest_slope(slopes), NODE_STEP * h)).clamp_(-half, half)
        offset = xy - start
        xy = start + offset * (reach / offset.norm(dim=1, keepdim=True).clamp_min(reach))
        report(progress, "nodes", k + 1, len(schedule), bandwidth=h)
    return torch.cat([xy, positions[:, 2:]], dim=1)
