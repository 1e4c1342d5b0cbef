"""Edge phase (docs/processing.md, "Edge phase"): class-aware advection of edge samples, all layer gaps at once.

Every edge starts straight between its (already bundled) nodes. Each iteration k, with bandwidth
``h_k = 0.5 · layer_width · edge_bandwidth_reduction^k`` until ``h_k < h_min``:

1. resample every polyline at spacing ``max(s, h_k / 2)`` (coarse while the kernel is wide: the density is
   the same, the sample count far smaller);
2. deposit each sample's weight × unit class vector (by ``edge_importance_type``) into a C-channel grid,
   one box per layer gap, so gaps never see each other's density, and blur it with bandwidth h_k; skip edges
   (crossing several gaps) get one box per (first layer, last layer) pair, spanning their z range, so they
   bundle among themselves and never into the ordinary edges they pass;
3. move every interior sample by up to h_k up the gradient of the class potential
   (:mod:`nnscape.processing.potential`); ends never move; samples stay inside their box's domain;
4. if ``smoothing``: ``smoothing_iterations`` Laplacian passes with window
   ``max(1, ⌊0.08 · points · edge_bandwidth_reduction^k⌋)`` along each edge.

The result is resampled at spacing s. All work is tensor operations over every sample of every gap; the only
Python loop is over iterations.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import torch

from nnscape.config import ProcessingConfig
from nnscape.processing.grid import Grid
from nnscape.processing.polylines import Polylines, resample, smooth, straight
from nnscape.processing.potential import (
    bandwidths,
    cell_size,
    class_vectors,
    class_weight,
    density_slopes,
    gradient_step,
    potential_gradient,
)
from nnscape.progress import ProgressCallback, check_cancelled, report

__all__ = [
    "COARSE_SPACING_FRACTION",
    "DOMAIN_MARGIN",
    "EDGE_START_BANDWIDTH",
    "SMOOTHING_WINDOW",
    "EdgeClasses",
    "bundle_edges",
    "edge_boxes",
]

# h_0 as a fraction of the layer width.
EDGE_START_BANDWIDTH = 0.5
# Sample spacing while the kernel is wide: max(s, COARSE_SPACING_FRACTION · h).
COARSE_SPACING_FRACTION = 0.5
# Laplacian window as a fraction of an edge's point count (shrinks by edge_bandwidth_reduction each iteration).
SMOOTHING_WINDOW = 0.08
# How far (fraction of the layer width) samples may leave the network's box on every side (along z at most
# one layer distance).
DOMAIN_MARGIN = 0.375


@dataclass(frozen=True)
class EdgeClasses:
    """Class vectors and weights at both ends of every edge, by ``edge_importance_type``.

    A sample at arc fraction t gets the unit vector in the direction of ``lerp(start, end, t)`` and the weight
    ``lerp(start_weight, end_weight, t)`` (docs/processing.md, "Sample class vector"; types 1-3 have equal ends).

    Attributes
    ----------
    start, end : (E, C) float32
        Unit class vectors at the source and target end.
    start_weight, end_weight : (E,) float32
        Deposit weights at both ends.
    """

    start: torch.Tensor
    end: torch.Tensor
    start_weight: torch.Tensor
    end_weight: torch.Tensor

    @classmethod
    def build(
        cls,
        importance: torch.Tensor,
        edges: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        importance_type: int,
    ) -> EdgeClasses:
        """From node importance ``(N, C)`` and (source, target, edge importance) ``(E,)`` each.

        With S, E the end nodes' importance and a the edge importance: 0: S/|S| → E/|E|, weight
        mean S·a → mean E·a; 1: S, mean S·a; 2: S + E, (mean S + mean E)·a; 3: E, mean E·a.
        """
        source, target, a = edges
        units = class_vectors(importance)
        mean = importance.mean(dim=1)
        if importance_type == 0:
            return cls(units[source], units[target], mean[source] * a, mean[target] * a)
        if importance_type == 1:
            vectors, weight = units[source], mean[source] * a
        elif importance_type == 2:
            vectors = class_vectors(importance[source] + importance[target])
            weight = (mean[source] + mean[target]) * a
        else:
            vectors, weight = units[target], mean[target] * a
        return cls(vectors, vectors, weight, weight)

    def at(self, lines: Polylines) -> tuple[torch.Tensor, torch.Tensor]:
        """Unit class vector ``(P, C)`` and weight ``(P,)`` of every point of ``lines``."""
        if self.start is self.end:
            return self.start[lines.edge], self.start_weight[lines.edge]
        t = lines.t.unsqueeze(1)
        vectors = torch.lerp(self.start[lines.edge], self.end[lines.edge], t)
        # Both ends are non-negative unit vectors, so the blend has norm ≥ 1/√2: safe to divide.
        vectors.div_(vectors.norm(dim=1, keepdim=True))
        weight = torch.lerp(self.start_weight[lines.edge], self.end_weight[lines.edge], lines.t)
        return vectors, weight


def bundle_edges(
    nodes: torch.Tensor,
    importance: torch.Tensor,
    edges: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    layers: tuple[torch.Tensor, torch.Tensor],
    layer_z: torch.Tensor,
    config: ProcessingConfig,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Polylines:
    """Bundle the edges; returns polylines resampled at spacing s = layer_width / sampling_rate.

    Parameters
    ----------
    nodes : (N, 3) float32
        Node positions (the ends of every polyline).
    importance : (N, C) float32
        Node importance.
    edges : tuple of three (E,) tensors
        Source and target node (int64) and edge importance (float32).
    layers : tuple of two (E,) int64 tensors
        The layer of each edge's source and of its target (the next layer, or a later one for a skip edge).
    layer_z : (L,) float32
        z of each layer.
    """
    source, target, _ = edges
    width = config.layer_width
    spacing = width / config.sampling_rate
    lines = straight(nodes[source], nodes[target])
    if source.shape[0] == 0:
        return lines
    half = width / 2 + DOMAIN_MARGIN * width
    # Along z no further than one layer distance, so closely spaced layers stay a flat slab.
    depth = min(DOMAIN_MARGIN * width, config.layer_distance)
    edge_box, low, high = edge_boxes(*layers, layer_z, half, depth)
    channels = importance.shape[1] + 1
    first = EDGE_START_BANDWIDTH * width
    finest = 2 * spacing / 3
    schedule = bandwidths(first, config.edge_bandwidth_reduction, finest)
    classes = EdgeClasses.build(importance, edges, config.edge_importance_type)
    for k, h in enumerate(schedule):
        check_cancelled(cancel)
        lines = resample(lines, max(spacing, COARSE_SPACING_FRACTION * h))
        box = edge_box[lines.edge]
        vectors, weight = classes.at(lines)
        cell = cell_size(h, spacing)
        grid = Grid.around(lines.points, box, (low, high), h + cell, cell, channels)
        index = grid.cell_index(lines.points, box)
        slopes = density_slopes(grid, index, vectors * weight.unsqueeze(1), h)
        gradient = potential_gradient(slopes, vectors, class_weight(h, first, finest))
        move = gradient_step(gradient, slopes[:, :, -1], h).index_fill_(0, lines.ends(), 0.0)
        points = lines.points.add_(move)
        points[:, :2].clamp_(-half, half)
        points[:, 2].clamp_(min=low[box, 2], max=high[box, 2])
        if config.smoothing and config.smoothing_iterations > 0:
            scale = SMOOTHING_WINDOW * config.edge_bandwidth_reduction**k
            window = torch.floor(lines.counts.double() * scale).long().clamp_min(1)
            lines = replace(lines, points=smooth(lines, window, config.smoothing_iterations))
        report(progress, "edges", k + 1, len(schedule), bandwidth=h, samples=float(lines.points.shape[0]))
    return resample(lines, spacing)


def edge_boxes(
    first: torch.Tensor, last: torch.Tensor, layer_z: torch.Tensor, half: float, depth: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The density box of every edge: one per distinct (source layer, target layer) pair.

    Returns the box id of each edge ``(E,)`` and the boxes' lower and upper corners ``(G, 3)``: ``half`` on
    either side of the axis in x and y, from the source layer's z − ``depth`` to the target layer's z +
    ``depth``. Without skip edges the boxes are the layer gaps that hold edges.
    """
    pairs, box = torch.unique(torch.stack([first, last], 1), dim=0, return_inverse=True)
    side = torch.full((pairs.shape[0],), half, dtype=layer_z.dtype, device=layer_z.device)
    low = torch.stack([-side, -side, layer_z[pairs[:, 0]] - depth], 1)
    high = torch.stack([side, side, layer_z[pairs[:, 1]] + depth], 1)
    return box, low, high
