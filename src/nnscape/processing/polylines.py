"""Polylines in CSR form as torch tensors: straight lines, arc-length resampling, Laplacian smoothing.

Edge ``e`` is ``points[offsets[e] : offsets[e + 1]]`` (``offsets`` ``(E + 1,) int64``, ``points`` ``(S, 3)``
float32); first point on the source node, last on the target. Every function works on all edges at once
(prefix sums and ``searchsorted`` instead of a loop over edges) and keeps both ends bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["LAST_POINT_FRACTION", "MAX_STRETCH", "Polylines", "at_fractions", "resample", "smooth", "straight"]

# A last sample closer than this fraction of the spacing to the end is dropped (docs/processing.md, "Edge phase").
LAST_POINT_FRACTION = 0.3
# A polyline gets at most this many times the samples of the straight line between its ends: a jagged line
# (bundling without smoothing zigzags) is then sampled more sparsely instead of multiplying memory.
MAX_STRETCH = 4.0
# Lengths below this count as zero (guards divisions).
_TINY = 1e-30


@dataclass(frozen=True)
class Polylines:
    """CSR polylines plus, per point, its edge and its position ``t`` ∈ [0, 1] along the edge.

    Attributes
    ----------
    offsets : (E + 1,) int64
    points : (P, 3) float32
    edge : (P,) int64
        The edge each point belongs to.
    t : (P,) float32
        Arc-length fraction: 0 at the source, 1 at the target.
    """

    offsets: torch.Tensor
    points: torch.Tensor
    edge: torch.Tensor
    t: torch.Tensor

    def edge_of_points(self) -> torch.Tensor:
        """``(P,) int64``: the edge of each point (``edge`` when known, else from the offsets)."""
        if self.edge.shape[0] == self.points.shape[0]:
            return self.edge
        return torch.arange(self.offsets.shape[0] - 1, device=self.points.device).repeat_interleave(self.counts)

    @property
    def counts(self) -> torch.Tensor:
        """``(E,) int64`` points per edge."""
        return self.offsets[1:] - self.offsets[:-1]

    def ends(self) -> torch.Tensor:
        """``(2E,) int64``: the index of every edge's first point, then of every edge's last point."""
        return torch.cat([self.offsets[:-1], self.offsets[1:] - 1])


def straight(start: torch.Tensor, end: torch.Tensor) -> Polylines:
    """Two-point polylines from ``start`` to ``end`` (both ``(E, 3)`` float32)."""
    n_edges = start.shape[0]
    device = start.device
    points = torch.stack([start, end], dim=1).reshape(-1, 3)
    offsets = torch.arange(0, 2 * n_edges + 1, 2, dtype=torch.int64, device=device)
    edge = torch.arange(n_edges, device=device).repeat_interleave(2)
    t = torch.tensor([0.0, 1.0], device=device).repeat(n_edges)
    return Polylines(offsets, points, edge, t)


def _arc(lines: Polylines) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Segment lengths ``(S-1,)`` and cumulative arc ``(S,)`` (float64, flat across edges), edge lengths ``(E,)``."""
    offsets, points = lines.offsets, lines.points
    segment = (points[1:] - points[:-1]).norm(dim=1).double()
    segment[offsets[1:-1] - 1] = 0.0  # the jump from one edge's last point to the next edge's first
    arc = torch.cat([segment.new_zeros(1), torch.cumsum(segment, 0)])
    return segment, arc, arc[offsets[1:] - 1] - arc[offsets[:-1]]


def _interpolate(
    lines: Polylines, arcs: tuple[torch.Tensor, torch.Tensor, torch.Tensor], edge: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    """``(Q, 3)`` points at arc fraction ``t`` ``(Q,)`` float64 along edges ``edge`` ``(Q,)``."""
    offsets, points = lines.offsets, lines.points
    segment, arc, length = arcs
    start = offsets[:-1][edge]
    query = arc[start] + t * length[edge]
    # The old segment holding each query: the last old point at or before it, kept within the query's edge.
    left = torch.searchsorted(arc, query, right=True) - 1
    left = torch.minimum(torch.maximum(left, start), offsets[1:][edge] - 2)
    seg = segment[left]
    fraction = torch.where(seg > 0, (query - arc[left]) / seg.clamp_min(1e-300), torch.zeros_like(seg))
    return torch.lerp(points[left], points[left + 1], fraction.clamp_(0.0, 1.0).float().unsqueeze(1))


def at_fractions(lines: Polylines, edge: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``(Q, 3)`` points at arc-length fractions ``t`` ``(Q,)`` ∈ [0, 1] along edges ``edge`` ``(Q,) int64``."""
    return _interpolate(lines, _arc(lines), edge, t.double())


def resample(lines: Polylines, spacing: float) -> Polylines:
    """Resample every polyline at equal arc steps of at most about ``spacing``.

    An edge of arc length Λ gets ``n = max(1, ceil(Λ / spacing − LAST_POINT_FRACTION))`` segments of length
    Λ / n (the equal-step form of "samples every ``spacing``, a last one closer than 0.3 · spacing to the end
    dropped"), so consecutive points are at most 1.3 · spacing apart along the arc, unless the line is more
    than ``MAX_STRETCH`` times as long as the straight line between its ends. Ends are copied exactly.

    Old and new points both run along each edge in order, so the old segment of every new point comes from
    counting new points per old segment (a merge, linear in the point count) rather than a search.
    """
    offsets, points = lines.offsets, lines.points
    device = points.device
    segment, arc, length = _arc(lines)
    chord = (points[offsets[1:] - 1] - points[offsets[:-1]]).norm(dim=1).double()
    n_segments = torch.ceil(torch.minimum(length, MAX_STRETCH * chord) / spacing - LAST_POINT_FRACTION)
    n_segments = n_segments.clamp_min(1).long()
    # Per-point arithmetic in float32: arcs measured from each edge's start are small numbers.
    step = (length / n_segments).float().clamp_min(_TINY)  # (E,) arc between new points; 0-length edges too
    old_edge = lines.edge_of_points()
    local = (arc - arc[offsets[:-1]][old_edge]).float()  # (S,) arc from the edge's start
    # New points strictly before each old point: ceil(local / step) (at most n + 1 by rounding), 0 at the
    # first point; the last old point gets n + 1 so that its last segment takes the new end point too.
    before = torch.ceil(local / step[old_edge]).long()
    before[offsets[:-1]] = 0
    before[offsets[1:] - 1] = n_segments + 1
    per_segment = (before[1:] - before[:-1]).clamp_min_(0)  # the jump between edges counts nothing
    left = torch.arange(points.shape[0] - 1, device=device).repeat_interleave(per_segment)
    counts = n_segments + 1
    new_offsets = torch.cat([offsets.new_zeros(1), torch.cumsum(counts, 0)])
    edge = torch.arange(offsets.shape[0] - 1, device=device).repeat_interleave(counts)
    index = torch.arange(int(new_offsets[-1]), device=device) - new_offsets[:-1][edge]
    t = index.float() / n_segments[edge].float()
    # Where an old segment has zero length the fraction is any value in [0, 1]: both ends are the same point.
    fraction = (index.float() * step[edge] - local[left]) / segment.float()[left].clamp_min(_TINY)
    new_points = torch.lerp(points[left], points[left + 1], fraction.clamp_(0.0, 1.0).unsqueeze(1))
    new_points[new_offsets[:-1]] = points[offsets[:-1]]
    new_points[new_offsets[1:] - 1] = points[offsets[1:] - 1]
    return Polylines(new_offsets, new_points, edge, t)


def smooth(lines: Polylines, window: torch.Tensor, passes: int) -> torch.Tensor:
    """``(P, 3)`` points after ``passes`` rounds of Laplacian smoothing; ends never move.

    Each interior point becomes the mean of the points of its own edge within ``window[e]`` (``(E,) int64``)
    steps on either side (the window is cut at the ends). Windows are a few points wide, so each pass is a
    handful of shifted adds over the flat point array, masked where a shift would leave the edge or the window.
    """
    points = lines.points
    if passes == 0 or points.shape[0] < 3:
        return points
    offsets, edge = lines.offsets, lines.edge
    index = torch.arange(points.shape[0], device=points.device)
    reach = window[edge]
    # Per shift o ≥ 2: which points take their neighbour o steps back / ahead. Shift 1 always stays inside
    # the edge for an interior point, so it needs no mask.
    shifts: list[tuple[int, torch.Tensor, torch.Tensor]] = []
    count = torch.full_like(index, 3).float()
    for o in range(2, int(reach.max()) + 1):
        back = ((reach >= o) & (index - o >= offsets[:-1][edge])).float()
        ahead = ((reach >= o) & (index + o <= offsets[1:][edge] - 1)).float()
        count += back + ahead
        shifts.append((o, back[o:].unsqueeze(1), ahead[:-o].unsqueeze(1)))
    scale = count.reciprocal_().unsqueeze(1)
    ends = lines.ends()
    end_points = points[ends]
    for _ in range(passes):
        total = points.clone()
        total[1:] += points[:-1]
        total[:-1] += points[1:]
        for o, back, ahead in shifts:
            total[o:].addcmul_(points[:-o], back)
            total[:-o].addcmul_(points[o:], ahead)
        points = total.mul_(scale)
        points[ends] = end_points  # the ends took part as neighbours but never move
    return points
