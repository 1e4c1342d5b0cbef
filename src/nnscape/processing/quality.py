"""Bundling-quality figures of a processed network, bundled against straight edges between the same nodes.

- ``ink``: cells of a fixed grid (``INK_CELLS_PER_WIDTH`` per layer width, over the node box widened by a
  quarter layer width) that the polylines pass through, divided by the cells straight edges pass through.
  Below 1 means bundling gathers edges into less space; ``ink_bundled`` / ``ink_straight`` are the fractions
  of the grid's cells.
- ``spread``: RMS distance of the polyline points from the layer axis (x = y = 0); ``spread_straight`` the
  same for straight edges sampled at the same spacing.
- ``visible_ink``: what the viewer's default Independent view shows, as a fraction of the ink grid's cells:
  each cell counts with the largest opacity ``clamp(I · score − (I − 1), 0, 1)`` of the polyline pieces
  through it, where score = ``min(1, lerp(‖S‖, ‖E‖, t) · a)`` is the viewer's sample score (end nodes'
  importance norms S, E, edge importance a, arc fraction t) and I the default edge importance opacity (1.1,
  so scores below 0.09 are not drawn). A network whose edges all matter shows a cloud; one with a few strong
  pathways shows little ink.
- ``drawn_spread``: the spread of the picture the viewer draws: RMS distance of the polyline points from the
  layer axis, each squared distance times the point's default opacity (as for ``visible_ink``), averaged over
  all points, so a hidden point counts as on the axis. The demo's untrained > basic > L1 claim is measured by
  it: ``spread`` counts hidden edges as much as drawn ones.
- ``inside``: fraction of polyline points inside the node box widened by a quarter layer width.
- ``class_separation``: for random pairs of edges in the same box of the edge phase (the same layer gap, or
  for skip edges the same first and last layer), the mean distance between their
  midpoints (halfway along their points by index: half their arc length, as processing writes equally
  spaced points), pairs of different classes over pairs of one class. Only edges whose
  two end nodes have the same strongest class take part (mixed edges belong to both); above 1 means classes
  run apart. ``class_separation_straight`` is the same for straight edges between the same nodes (what the
  edge phase adds), ``class_separation_grid`` for straight edges between the plain grid layout (what the
  class-aware layout, the node phase and the edge phase add together).
"""

from __future__ import annotations

import json
import math

import numpy as np
import torch

from nnscape.config import RenderConfig
from nnscape.errors import FormatError
from nnscape.layout import grid_layout
from nnscape.network import Network
from nnscape.processing.polylines import Polylines, row_norm, segment_counts, straight
from nnscape.processing.potential import class_vectors

__all__ = ["INK_CELLS_PER_WIDTH", "quality"]

INK_CELLS_PER_WIDTH = 32
# Rasterising samples every half cell marks every cell a polyline passes through (up to corner clips).
_INK_SAMPLES_PER_CELL = 2
# Box margin, as a fraction of the layer width, for "inside" and the ink grid.
BOX_MARGIN = 0.25
# Segments rasterised at once, to bound memory on networks with millions of edges.
_INK_CHUNK = 1 << 15
# Edge pairs compared for the class separation.
_PAIRS = 20_000


def quality(network: Network, *, layer_width: float | None = None, seed: int = 0) -> dict[str, float]:
    """Bundling figures of a processed ``network`` (see the module docstring); JSON-ready floats.

    ``layer_width`` defaults to the one in the network's ``processing_config`` metadata, else 1.
    """
    if network.edge_offsets is None or network.edge_points is None:
        raise FormatError("quality: the network is not processed (it has no edge polylines)")
    width = layer_width if layer_width is not None else _layer_width(network)
    nodes = torch.from_numpy(network.node_position)
    source = torch.from_numpy(network.edge_source.astype(np.int64))
    target = torch.from_numpy(network.edge_target.astype(np.int64))
    points = torch.from_numpy(network.edge_points)
    offsets = torch.from_numpy(network.edge_offsets)
    counts = offsets[1:] - offsets[:-1]
    edge = torch.repeat_interleave(counts)
    # Point index over the edge's last index, as the viewer takes it (points are equally spaced along the arc).
    t = (torch.arange(points.shape[0]) - offsets[:-1][edge]) / (counts[edge] - 1).clamp_min(1)
    bundled = Polylines(offsets, points, edge, t.float())
    lines = straight(nodes[source], nodes[target])

    low = nodes.amin(dim=0) - BOX_MARGIN * width
    high = nodes.amax(dim=0) + BOX_MARGIN * width
    figures: dict[str, float] = {}
    opacity = _opacity(network, bundled)
    ink_bundled, visible_ink = _ink(bundled, low, high, width, opacity)
    ink_straight, _ = _ink(lines, low, high, width)
    figures["ink"] = ink_bundled / max(ink_straight, 1e-12)
    figures["ink_bundled"] = ink_bundled
    figures["ink_straight"] = ink_straight
    figures["visible_ink"] = visible_ink
    figures["spread"] = _rms_radius(points)
    figures["drawn_spread"] = _rms_radius(points, opacity)
    spacing = _median_spacing(bundled)
    figures["spread_straight"] = _straight_rms_radius(lines, spacing) if spacing > 0 else _rms_radius(points)
    figures["inside"] = float(((points >= low) & (points <= high)).all(dim=1).double().mean()) if len(points) else 1.0
    favourite = class_vectors(torch.from_numpy(network.node_importance)).argmax(dim=1)
    pure = torch.nonzero(favourite[source] == favourite[target]).squeeze(1)
    classes = favourite[source[pure]]
    # An edge's box in the edge phase: its gap, or for a skip edge its (first layer, last layer) pair.
    box = torch.from_numpy(network.edge_layer * network.n_layers + network.edge_span)
    first, second = _pairs(box[pure], seed)
    pairs = (pure[first], pure[second])
    # Pairs share their end layers, so z cancels out of their distances and any layer distance will do.
    grid = torch.from_numpy(grid_layout(network.layer_sizes.tolist(), layer_width=width, layer_distance=width))
    unbundled = straight(grid[source], grid[target])
    for name, polylines in (
        ("class_separation", bundled),
        ("class_separation_straight", lines),
        ("class_separation_grid", unbundled),
    ):
        ratio = _separation(polylines, classes[first] == classes[second], pairs)
        if ratio is not None:
            figures[name] = ratio
    return {key: round(value, 6) for key, value in figures.items()}


def _layer_width(network: Network) -> float:
    try:
        return float(json.loads(network.metadata["processing_config"])["layer_width"])
    except (KeyError, ValueError, TypeError):
        return 1.0


def _ink(
    lines: Polylines, low: torch.Tensor, high: torch.Tensor, width: float, opacity: torch.Tensor | None = None
) -> tuple[float, float]:
    """The fraction of the fixed ink grid's cells the polylines pass through, and the mean over its cells of
    the largest opacity of the polylines through each (``opacity`` ``(P,)`` per point; 1 everywhere if None).

    A segment has the larger of its ends' opacities. Every segment is cut into equal pieces no longer than
    half a cell and the cells of the cut points are marked (segments are processed in chunks, so memory stays
    bounded on millions of edges).
    """
    cell = width / INK_CELLS_PER_WIDTH
    shape = [max(1, math.ceil(float(extent) / cell)) for extent in high - low]
    covered = torch.zeros(math.prod(shape), dtype=torch.float32)
    first_cell = torch.zeros(3, 1)
    last_cell = torch.tensor([[n - 1.0] for n in shape])
    # Cell ids are exact in float32 below 2^24 cells (every default network; far layers could exceed it).
    exact = torch.float32 if covered.shape[0] < 2**24 else torch.float64
    strides = torch.tensor([float(shape[1] * shape[2]), float(shape[2]), 1.0], dtype=exact)
    drawn = None if opacity is None else torch.zeros_like(covered)
    within = torch.ones(lines.points.shape[0] - 1, dtype=torch.bool)
    within[lines.offsets[1:-1] - 1] = False  # the jump from one edge's end to the next edge's start
    peak = None if opacity is None else torch.maximum(opacity[:-1], opacity[1:])
    for begin in range(0, within.shape[0], _INK_CHUNK):
        keep = torch.nonzero(within[begin : begin + _INK_CHUNK]).squeeze(1).add_(begin)
        # In cell units (a point's cell is the floor of its coordinates), one row per axis: every step below
        # is a contiguous operation over the chunk.
        starts = lines.points.index_select(0, keep)
        steps = lines.points.index_select(0, keep + 1).sub_(starts).div_(cell)
        starts = starts.sub_(low).div_(cell).t().contiguous()
        values = None if peak is None else peak.index_select(0, keep)
        pieces = max(1, math.ceil(float(row_norm(steps).max()) * _INK_SAMPLES_PER_CELL)) if len(keep) else 1
        steps = steps.t().contiguous()
        for piece in range(pieces + 1):
            cells = torch.add(starts, steps, alpha=piece / pieces).floor_()
            # Each axis into its range, then the flat id as one product with the strides.
            torch.clamp(cells, min=first_cell, max=last_cell, out=cells)
            index = torch.matmul(strides, cells.to(exact)).long()
            covered.index_fill_(0, index, 1.0)
            if drawn is not None and values is not None:
                drawn.scatter_reduce_(0, index, values, "amax")
    fraction = float(covered.double().mean())
    return fraction, fraction if drawn is None else float(drawn.double().mean())


def _opacity(network: Network, lines: Polylines) -> torch.Tensor:
    """``(P,)`` the viewer's default edge opacity at every point of ``lines`` (see ``visible_ink``)."""
    node = torch.from_numpy(network.node_importance).norm(dim=1).clamp_max(1.0)
    source = node[torch.from_numpy(network.edge_source.astype(np.int64))].index_select(0, lines.edge)
    target = node[torch.from_numpy(network.edge_target.astype(np.int64))].index_select(0, lines.edge)
    edge_importance = torch.from_numpy(network.edge_importance).index_select(0, lines.edge)
    score = torch.lerp(source, target, lines.t.float()) * edge_importance
    strength = RenderConfig().edges_importance_opacity
    return (strength * score.clamp_max(1.0) - (strength - 1.0)).clamp(0.0, 1.0)


def _rms_radius(points: torch.Tensor, opacity: torch.Tensor | None = None) -> float:
    """RMS distance of ``points`` from the layer axis; with ``opacity``, each squared distance times its point's
    opacity (a hidden point counts as on the axis)."""
    if not len(points):
        return 0.0
    squared = points[:, 0].square().addcmul_(points[:, 1], points[:, 1])
    if opacity is not None:
        squared.mul_(opacity)
    return math.sqrt(float(squared.sum(dtype=torch.float64)) / len(points))


def _straight_rms_radius(lines: Polylines, spacing: float) -> float:
    """:func:`_rms_radius` of the two-point ``lines`` after ``resample(lines, spacing)``, without the points.

    An edge from a to b resampled into n equal segments has the points a + (k/n)(b − a), k = 0 … n, whose
    squared distances from the axis sum to (n + 1)|a|² + 2 a·d Σt + |d|² Σt², with d = b − a (x and y only),
    Σt = (n + 1)/2 and Σt² = (n + 1)(2n + 1)/(6n).
    """
    start, end = lines.points[0::2].double(), lines.points[1::2].double()
    chord = row_norm(end - start)
    n = segment_counts(chord, chord, spacing).double()
    a, d = start[:, :2], (end - start)[:, :2]
    sum_t, sum_t2 = (n + 1) / 2, (n + 1) * (2 * n + 1) / (6 * n)
    squared = (n + 1) * a.square().sum(dim=1) + 2 * (a * d).sum(dim=1) * sum_t + d.square().sum(dim=1) * sum_t2
    return math.sqrt(float(squared.sum()) / float((n + 1).sum())) if len(n) else 0.0


def _middles(lines: Polylines, edges: torch.Tensor) -> torch.Tensor:
    """``(Q, 3)``: the point halfway along the points of each of ``edges`` ``(Q,)`` by index (the middle point,
    or the mean of the middle two): half the arc length where the points are equally spaced, as processing
    writes them (a look-up per edge instead of measuring every polyline's arc)."""
    start, count = lines.offsets.index_select(0, edges), lines.counts.index_select(0, edges)
    before, after = start + (count - 1) // 2, start + count // 2
    return lines.points.index_select(0, before).add_(lines.points.index_select(0, after)).mul_(0.5)


def _median_spacing(lines: Polylines) -> float:
    step = row_norm(lines.points[1:] - lines.points[:-1])
    keep = torch.ones_like(step, dtype=torch.bool)
    keep[lines.offsets[1:-1] - 1] = False
    return float(step[keep].median()) if bool(keep.any()) else 0.0


def _pairs(box: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random edge pairs ``(Q,), (Q,)`` within one box (``box`` ``(E,)``: each edge's box id)."""
    n_edges = box.shape[0]
    if n_edges < 2:
        return torch.zeros(0, dtype=torch.int64), torch.zeros(0, dtype=torch.int64)
    generator = torch.Generator().manual_seed(seed)
    order = torch.sort(box, stable=True).indices  # the identity where edges come grouped by box
    grouped = box[order]
    first = torch.randint(n_edges, (_PAIRS,), generator=generator)
    starts = torch.searchsorted(grouped, grouped, right=False)
    ends = torch.searchsorted(grouped, grouped, right=True)
    size = (ends - starts)[first]
    second = starts[first] + (torch.rand(_PAIRS, generator=generator, dtype=torch.float64) * size).long()
    distinct = first != second
    return order[first[distinct]], order[second[distinct]]


def _separation(lines: Polylines, same: torch.Tensor, pairs: tuple[torch.Tensor, torch.Tensor]) -> float | None:
    """Mean midpoint distance of pairs of different class over that of pairs of one class (``same`` ``(Q,)``)."""
    if not bool(same.any()) or bool(same.all()):
        return None
    first, second = pairs
    distance = row_norm(_middles(lines, first) - _middles(lines, second))
    within = float(distance[same].mean())
    return float(distance[~same].mean()) / within if within > 0 else None
