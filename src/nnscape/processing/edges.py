"""Edge phase (docs/processing.md, "Edge phase"): class-aware advection of edge samples, all layer gaps at once.

Every edge starts straight between its (already bundled) nodes. Each iteration k, with bandwidth
``h_k = 0.5 · layer_width · edge_bandwidth_reduction^k`` until ``h_k < h_min``:

1. resample every polyline at spacing ``max(s, h_k / 2)`` (coarse while the kernel is wide: the density is
   the same, the sample count far smaller; once the spacing stays at s, every second iteration only);
2. deposit each sample's weight × unit class vector (by ``edge_importance_type``) into a C-channel grid,
   one box per layer gap, so gaps never see each other's density, and blur it with bandwidth h_k; skip edges
   (crossing several gaps) get one box per (first layer, last layer) pair, spanning their z range, so they
   bundle among themselves and never into the ordinary edges they pass;
3. move every interior sample by up to h_k up the gradient of the class potential
   (:mod:`nnscape.processing.potential`); ends never move (so their deposit, summed per node, is fixed:
   :class:`FixedEnds`, and they need no gradient); samples stay inside their box's domain;
4. if ``smoothing``: ``smoothing_iterations`` Laplacian passes with window
   ``max(1, ⌊0.08 · points · edge_bandwidth_reduction^k⌋)`` along each edge.

The result is resampled at spacing s. The per-sample work runs on fixed ranges of edges of about
``PART_SAMPLES`` points each, in three passes per iteration (deposit all parts; then each part's potential
gradient; then move, smooth and resample each): a part's temporaries stay in the CPU's cache and memory grows
with the points only, never with the per-sample temporaries (the gradient's weights and cell rows alone are
22 values per point). Every range lies within one box,
so its points share one origin, z range and bounds, with no box id per point. Within a part every
operation is one tensor operation over all its points; the parts' deposits add up in the same order as one
pass would (the fixed ends' last), so the result does not depend on the part size.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import torch

from nnscape.config import ProcessingConfig
from nnscape.processing.grid import Grid
from nnscape.processing.polylines import Polylines, edge_ranges, resample, row_norm, smooth, straight
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

__all__ = [
    "COARSE_SPACING_FRACTION",
    "DEVICE_PART_SAMPLES",
    "DOMAIN_MARGIN",
    "EDGE_START_BANDWIDTH",
    "FINE_RESAMPLE_INTERVAL",
    "PART_SAMPLES",
    "SLOPE_MEMORY_GROWTH",
    "SMOOTHING_WINDOW",
    "EdgeClasses",
    "FixedEnds",
    "bundle_edges",
    "edge_boxes",
]

# h_0 as a fraction of the layer width.
EDGE_START_BANDWIDTH = 0.5
# Sample spacing while the kernel is wide: max(s, COARSE_SPACING_FRACTION · h).
COARSE_SPACING_FRACTION = 0.5
# While the spacing no longer changes (the fine iterations, h < 2s), the polylines are resampled every this
# many iterations instead of every one: samples may then drift along their edge for an iteration. On the
# networks of benchmarks/bench_quality.py that gave 4.6 % less ink, the same class separation and 5 % less
# time (docs/processing.md, "Speed and memory").
FINE_RESAMPLE_INTERVAL = 2
# Laplacian window as a fraction of an edge's point count (shrinks by edge_bandwidth_reduction each iteration).
SMOOTHING_WINDOW = 0.08
# How far (fraction of the layer width) samples may leave the network's box on every side (along z at most
# one layer distance).
DOMAIN_MARGIN = 0.375
# The slopes' memory is kept from one iteration to the next, grown by this factor when a field needs more: a
# fresh block over glibc's mmap threshold (32 MiB; the slopes of a field that fills the layers' squares reach
# 40-50 MiB) costs 10 000 page faults, about 10 ms, every iteration.
SLOPE_MEMORY_GROWTH = 1.25
# Samples whose per-sample work (class vectors, deposit, look-up, move, smoothing, resampling) runs at once.
# On the CPU a part's temporaries then stay in cache (about twice as fast as whole-array passes on
# 784-81-49-10); on a GPU larger parts keep the kernels few. Either way memory no longer grows with the
# samples' temporaries (22 values per sample for the gradient's weights and cell rows alone).
PART_SAMPLES = 1 << 17
DEVICE_PART_SAMPLES = 1 << 22


@dataclass(frozen=True)
class EdgeClasses:
    """Class vectors and weights at both ends of every edge, by ``edge_importance_type``.

    A sample at arc fraction t gets the unit vector in the direction of ``lerp(start, end, t)`` and the weight
    ``lerp(start_weight, end_weight, t)`` (docs/processing.md, "Sample class vector"; types 1-3 have equal ends,
    and ``change`` is then None).

    Attributes
    ----------
    start : (E, C) float32
        Unit class vector at the source end.
    change : (E, C) float32 or None
        Unit class vector at the target end minus ``start``.
    start_weight, end_weight : (E,) float32
        Deposit weights at both ends.
    """

    start: torch.Tensor
    change: torch.Tensor | None
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
            start = units[source]
            return cls(start, units[target] - start, mean[source] * a, mean[target] * a)
        if importance_type == 1:
            vectors, weight = units[source], mean[source] * a
        elif importance_type == 2:
            vectors = class_vectors(importance[source] + importance[target])
            weight = (mean[source] + mean[target]) * a
        else:
            vectors, weight = units[target], mean[target] * a
        return cls(vectors, None, weight, weight)

    def part(self, first: int, last: int) -> EdgeClasses:
        """The classes of edges ``first`` to ``last - 1`` (views), for :meth:`Polylines.part`."""
        change = None if self.change is None else self.change[first:last]
        return EdgeClasses(self.start[first:last], change, self.start_weight[first:last], self.end_weight[first:last])

    def at(self, edge: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Class direction ``(P, C)``, its inverse norm ``(P,)`` and weight ``(P,)`` of points at arc fractions
        ``t`` ``(P,)`` of edges ``edge`` ``(P,) int64``.

        The direction times the inverse norm is the point's unit class vector; callers fold that scale into
        their own per-point factors rather than normalising C values per point.
        """
        start = self.start.index_select(0, edge)
        if self.change is None:
            return start, torch.ones_like(t), self.start_weight.index_select(0, edge)
        # start + t · (end − start) (torch.lerp broadcasts t over the classes several times slower).
        direction = start.addcmul_(self.change.index_select(0, edge), t.unsqueeze(1))
        weight = torch.lerp(self.start_weight.index_select(0, edge), self.end_weight.index_select(0, edge), t)
        # Both ends are non-negative unit vectors, so the blend has norm ≥ 1/√2: safe to divide.
        return direction, row_norm(direction).reciprocal_(), weight


@dataclass(frozen=True)
class FixedEnds:
    """What the edges' end points deposit, summed per node and box: ends never move, so this is the same in
    every iteration, and a node's edges share one position (docs/processing.md, "Edge phase").

    Depositing these few rows instead of two samples per edge, and leaving the ends out of the gradient
    look-up, saves a quarter of the per-sample work on 784-81-49-10 (half of the samples of the first
    iterations are ends).

    Attributes
    ----------
    points : (M, 3) float32
        Position of each (node, box) pair: the node's.
    box : (M,) int64
        Its box.
    values : (C, M) float32
        The summed deposit of the ends of that node's edges in that box: unit class vector × weight at t = 0
        (sources) or t = 1 (targets), as :meth:`EdgeClasses.at` gives for a sample there.
    """

    points: torch.Tensor
    box: torch.Tensor
    values: torch.Tensor

    @classmethod
    def build(
        cls, nodes: torch.Tensor, ends: tuple[torch.Tensor, torch.Tensor], edge_box: torch.Tensor, classes: EdgeClasses
    ) -> FixedEnds:
        """From node positions ``(N, 3)``, the (source, target) nodes ``(E,)`` and box ``(E,)`` of every edge."""
        n_edges = edge_box.shape[0]
        edge = torch.arange(n_edges, device=edge_box.device).repeat(2)
        t = torch.cat([nodes.new_zeros(n_edges), nodes.new_ones(n_edges)])
        direction, inverse_norm, weight = classes.at(edge, t)
        # One key per (box, node): the ends of a node's edges in one box share their cell in every grid.
        keys, pair = torch.unique(edge_box.repeat(2) * nodes.shape[0] + torch.cat(ends), return_inverse=True)
        values = direction.new_zeros((direction.shape[1], keys.shape[0]))
        values.index_add_(1, pair, direction.t() * weight.mul_(inverse_norm))
        return cls(nodes.index_select(0, keys % nodes.shape[0]), keys // nodes.shape[0], values)

    def deposit(self, grid: Grid, density: torch.Tensor | None) -> torch.Tensor:
        """``density`` (:meth:`Grid.deposit`) plus the ends' deposit."""
        return grid.deposit(grid.cell_index(self.points, self.box), self.values, density)


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
    width = config.layer_width
    spacing = width / config.sampling_rate
    half = width / 2 + DOMAIN_MARGIN * width
    # Along z no further than one layer distance, so closely spaced layers stay a flat slab.
    depth = min(DOMAIN_MARGIN * width, config.layer_distance)
    edge_box, low, high = edge_boxes(*layers, layer_z, half, depth)
    # Every part holds the edges of one box, so its points share one origin, z range and bounds (no per-point
    # box ids). Edges out of box order (skip edges between ordinary ones) are sorted for the phase and put
    # back at the end.
    order = None
    if edge_box.shape[0] > 1 and bool((edge_box[1:] < edge_box[:-1]).any()):
        order = torch.argsort(edge_box, stable=True)
        edges = (edges[0][order], edges[1][order], edges[2][order])
        edge_box = edge_box[order]
    source, target, _ = edges
    lines = straight(nodes[source], nodes[target])
    if source.shape[0] == 0:
        return lines
    channels = importance.shape[1] + 1
    first = EDGE_START_BANDWIDTH * width
    finest = 2 * spacing / 3
    schedule = bandwidths(first, config.edge_bandwidth_reduction, finest)
    # Each iteration's sample spacing, then the output's.
    spacings = [max(spacing, COARSE_SPACING_FRACTION * h) for h in schedule] + [spacing]
    classes = EdgeClasses.build(importance, edges, config.edge_importance_type)
    passes = config.smoothing_iterations if config.smoothing else 0
    # Fixed edge ranges of about PART_SAMPLES points at the output's spacing, estimated from the straight lines
    # (bundled lines grow somewhat longer; coarse iterations hold fewer points), cut where the box changes.
    estimate = torch.ceil(row_norm(nodes[target] - nodes[source]) / spacing).long() + 1
    box_starts = (torch.nonzero(edge_box[1:] != edge_box[:-1]).squeeze(1) + 1).tolist()
    ranges = edge_ranges(estimate, PART_SAMPLES if nodes.device.type == "cpu" else DEVICE_PART_SAMPLES, box_starts)
    part_box = edge_box[[a for a, _ in ranges]].tolist()
    part_classes = [classes.part(a, b) for a, b in ranges]
    ends = FixedEnds.build(nodes, (source, target), edge_box, classes)
    parts = [resample(lines.part(a, b), spacings[0]) for a, b in ranges]
    interiors = [part.interior() for part in parts]  # the samples that move, of each part
    z_range = list(zip(low[:, 2].tolist(), high[:, 2].tolist(), strict=True))
    slope_memory = nodes.new_empty(0)
    for k, h in enumerate(schedule):
        check_cancelled(cancel)
        cell = cell_size(h, spacing)
        bounds = Grid.bounds([(part.points, box) for part, box in zip(parts, part_box, strict=True)], low.shape[0])
        grid = Grid.fitted(bounds, (low, high), h + cell, cell, channels)
        # Pass 1: every interior sample deposits into the density; its cell and class direction are kept for
        # pass 2. Then the fixed ends deposit.
        density: torch.Tensor | None = None
        kept: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        for part, box, part_class, inner in zip(parts, part_box, part_classes, interiors, strict=True):
            edge, t, points = (values.index_select(0, inner) for values in (part.edge, part.t, part.points))
            direction, inverse_norm, weight = part_class.at(edge, t)
            index = grid.cell_index(points, box)
            density = grid.deposit(index, direction.t() * weight.mul_(inverse_norm), density)
            kept.append((index, direction, inverse_norm))
        density = ends.deposit(grid, density)
        if slope_memory.numel() < grid.slope_values(channels):
            slope_memory = nodes.new_empty(int(SLOPE_MEMORY_GROWTH * grid.slope_values(channels)))
        slopes = slope_field(grid, density, h, slope_memory)
        sigma = class_weight(h, first, finest)
        largest = largest_slope(slopes)  # the scale the step measures flatness by, the same for every part
        # Pass 2: every interior sample's potential gradient. Three floats per sample stay for pass 3.
        gradients = [
            potential_gradient(grid, slopes, index, direction, sigma, inverse_norm)
            for index, direction, inverse_norm in kept
        ]
        kept.clear()
        window = SMOOTHING_WINDOW * config.edge_bandwidth_reduction**k
        samples = float(sum(part.points.shape[0] for part in parts))
        # Pass 3: move, keep in the domain, smooth, resample for the next iteration (or the output). While the
        # spacing stays at s, every second resampling is skipped (FINE_RESAMPLE_INTERVAL).
        held = k + 1 < len(schedule) and spacings[k + 1] == spacings[k] and k % FINE_RESAMPLE_INTERVAL != 0
        for i, box in enumerate(part_box):
            part = parts[i]
            points = part.points.index_add_(0, interiors[i], gradient_step(gradients[i], largest, h))
            points[:, :2].clamp_(-half, half)
            points[:, 2].clamp_(*z_range[box])
            if passes > 0:
                widths = torch.floor(part.counts.double() * window).long().clamp_min(1)
                part = replace(part, points=smooth(part, widths, passes))
            if not held:
                part = resample(part, spacings[k + 1])
                interiors[i] = part.interior()
            parts[i] = part
        report(progress, "edges", k + 1, len(schedule), bandwidth=h, samples=samples)
    result = Polylines.join(parts)
    if order is None:
        return result
    return result.take(torch.argsort(order))  # the inverse permutation: each edge back in its place


def edge_boxes(
    first: torch.Tensor, last: torch.Tensor, layer_z: torch.Tensor, half: float, depth: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The density box of every edge: one per distinct (source layer, target layer) pair.

    Returns the box id of each edge ``(E,)`` and the boxes' lower and upper corners ``(G, 3)``: ``half`` on
    either side of the axis in x and y, from the source layer's z − ``depth`` to the target layer's z +
    ``depth``. Without skip edges the boxes are the layer gaps that hold edges.
    """
    # One key per pair, in the pairs' lexicographic order (a 1-D unique is many times faster than dim=0's).
    n_layers = layer_z.shape[0]
    keys, box = torch.unique(first * n_layers + last, return_inverse=True)
    side = torch.full((keys.shape[0],), half, dtype=layer_z.dtype, device=layer_z.device)
    low = torch.stack([-side, -side, layer_z[keys // n_layers] - depth], 1)
    high = torch.stack([side, side, layer_z[keys % n_layers] + depth], 1)
    return box, low, high
