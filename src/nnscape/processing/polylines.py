"""Polylines in CSR form as torch tensors: straight lines, arc-length resampling, Laplacian smoothing.

Edge ``e`` is ``points[offsets[e] : offsets[e + 1]]`` (``offsets`` ``(E + 1,) int64``, ``points`` ``(S, 3)``
float32); first point on the source node, last on the target. Every function works on all edges at once
(prefix sums and ``searchsorted`` instead of a loop over edges) and keeps both ends bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import torch

__all__ = [
    "LAST_POINT_FRACTION",
    "MAX_STRETCH",
    "Polylines",
    "edge_ranges",
    "resample",
    "row_norm",
    "segment_counts",
    "smooth",
    "straight",
]

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
        return torch.repeat_interleave(self.counts)

    @property
    def counts(self) -> torch.Tensor:
        """``(E,) int64`` points per edge."""
        return self.offsets[1:] - self.offsets[:-1]

    def ends(self) -> torch.Tensor:
        """``(2E,) int64``: the index of every edge's first point, then of every edge's last point."""
        return torch.cat([self.offsets[:-1], self.offsets[1:] - 1])

    def interior(self) -> torch.Tensor:
        """``(P - 2E,) int64``: the index of every point that is not an edge's first or last, in order."""
        inner = torch.ones(self.points.shape[0], dtype=torch.bool, device=self.points.device)
        return torch.nonzero(inner.index_fill_(0, self.ends(), False)).squeeze(1)

    def part(self, first: int, last: int) -> Polylines:
        """Edges ``first`` to ``last - 1`` as polylines of their own (edge ids from 0; views, not copies)."""
        start, stop = self.offsets[[first, last]].tolist()
        return Polylines(
            self.offsets[first : last + 1] - start,
            self.points[start:stop],
            self.edge[start:stop] - first,
            self.t[start:stop],
        )

    def take(self, order: torch.Tensor) -> Polylines:
        """The polylines of edges ``order`` ``(E',) int64``, in that order (edge ids from 0)."""
        counts = self.counts.index_select(0, order)
        offsets = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])
        total = int(offsets[-1])
        edge = torch.repeat_interleave(counts, output_size=total)
        start = (self.offsets.index_select(0, order) - offsets[:-1]).index_select(0, edge)
        index = torch.arange(total, device=order.device).add_(start)
        return Polylines(offsets, self.points.index_select(0, index), edge, self.t.index_select(0, index))

    @staticmethod
    def join(parts: list[Polylines]) -> Polylines:
        """The polylines of ``parts`` (from :meth:`part`, in order) as one set."""
        shifts = torch.tensor([0, *(p.offsets.shape[0] - 1 for p in parts)]).cumsum(0).tolist()
        starts = torch.tensor([0, *(p.points.shape[0] for p in parts)]).cumsum(0).tolist()
        return Polylines(
            torch.cat([parts[0].offsets[:1], *(p.offsets[1:] + s for p, s in zip(parts, starts, strict=False))]),
            torch.cat([p.points for p in parts]),
            torch.cat([p.edge + s for p, s in zip(parts, shifts, strict=False)]),
            torch.cat([p.t for p in parts]),
        )


def edge_ranges(counts: torch.Tensor, samples: int, breaks: list[int] | tuple[int, ...] = ()) -> list[tuple[int, int]]:
    """Consecutive edge ranges ``[first, last)``, each about ``samples`` points of ``counts`` ``(E,)`` per edge
    (and at least one edge), covering every edge; a range never spans one of the edges ``breaks`` (each
    break starts a range)."""
    n_edges = counts.shape[0]
    if n_edges == 0:
        return [(0, 0)]
    ends = torch.cumsum(counts, 0)
    cuts: list[int] = []
    if n_edges > 1 and int(ends[-1]) > samples:
        marks = torch.arange(samples, int(ends[-1]), samples, device=counts.device)
        cuts = torch.searchsorted(ends, marks, right=True).clamp_(1, n_edges - 1).tolist()
    return list(pairwise(sorted({0, *cuts, *(b for b in breaks if 0 < b < n_edges), n_edges})))


def row_norm(vectors: torch.Tensor) -> torch.Tensor:
    """``(P,)`` Euclidean norm of each row of ``vectors`` ``(P, K)`` (as a product with ones: several times
    faster on the CPU than ``norm(dim=1)`` for a few columns)."""
    return torch.mv(vectors.square(), vectors.new_ones(vectors.shape[1])).sqrt_()


def straight(start: torch.Tensor, end: torch.Tensor) -> Polylines:
    """Two-point polylines from ``start`` to ``end`` (both ``(E, 3)`` float32)."""
    n_edges = start.shape[0]
    device = start.device
    points = torch.stack([start, end], dim=1).reshape(-1, 3)
    offsets = torch.arange(0, 2 * n_edges + 1, 2, dtype=torch.int64, device=device)
    edge = torch.arange(n_edges, device=device).repeat_interleave(2)
    t = torch.tensor([0.0, 1.0], device=device).repeat(n_edges)
    return Polylines(offsets, points, edge, t)


def _arc(lines: Polylines) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Steps from each point to the next ``(S-1, 3)``, their lengths ``(S-1,)`` and the cumulative arc ``(S,)``
    (lengths and arc float64, flat across edges), and edge lengths ``(E,)``."""
    offsets, points = lines.offsets, lines.points
    steps = points[1:] - points[:-1]
    segment = row_norm(steps).double()
    segment.index_fill_(0, offsets[1:-1] - 1, 0.0)  # the jump from one edge's last point to the next edge's first
    arc = torch.cat([segment.new_zeros(1), torch.cumsum(segment, 0)])
    return steps, segment, arc, arc.index_select(0, offsets[1:] - 1) - arc.index_select(0, offsets[:-1])


def segment_counts(length: torch.Tensor, chord: torch.Tensor, spacing: float) -> torch.Tensor:
    """``(E,) int64``: how many equal segments :func:`resample` gives edges of arc ``length`` whose ends are
    ``chord`` apart (both ``(E,)`` float64): ``max(1, ceil(min(length, MAX_STRETCH · chord) / spacing −
    LAST_POINT_FRACTION))``."""
    counts = torch.ceil(torch.minimum(length, MAX_STRETCH * chord) / spacing - LAST_POINT_FRACTION)
    return counts.clamp_min(1).long()


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
    steps, segment, arc, length = _arc(lines)
    first, last = offsets[:-1], offsets[1:] - 1
    first_points, last_points = points.index_select(0, first), points.index_select(0, last)
    n_segments = segment_counts(length, row_norm(last_points - first_points).double(), spacing)
    # Per-point arithmetic in float32: arcs measured from each edge's start are small numbers.
    step = (length / n_segments).float().clamp_min(_TINY)  # (E,) arc between new points; 0-length edges too
    old_edge = lines.edge_of_points()
    local = (arc - arc.index_select(0, first).index_select(0, old_edge)).float()  # (S,) arc from the edge's start
    # New points strictly before each old point: ceil(local / step) (at most n + 1 by rounding), 0 at the
    # first point, whose local arc is exactly 0; the last old point gets n + 1 so that its last segment takes
    # the new end point too.
    before = torch.ceil(local / step.index_select(0, old_edge)).long()
    before.index_copy_(0, last, n_segments + 1)
    per_segment = (before[1:] - before[:-1]).clamp_min_(0)  # the jump between edges counts nothing
    counts = n_segments + 1
    new_offsets = torch.cat([offsets.new_zeros(1), torch.cumsum(counts, 0)])
    total = int(new_offsets[-1])
    left = torch.repeat_interleave(per_segment, output_size=total)  # each new point's old segment
    edge = torch.repeat_interleave(counts, output_size=total)
    index = (torch.arange(total, device=device) - new_offsets[:-1].index_select(0, edge)).float()
    t = index / n_segments.float().index_select(0, edge)
    # Where an old segment has zero length the fraction is any value in [0, 1]: both ends are the same point.
    fraction = index.mul_(step.index_select(0, edge)).sub_(local.index_select(0, left))
    fraction.div_(segment.float().clamp_min_(_TINY).index_select(0, left)).clamp_(0.0, 1.0)
    new_points = points.index_select(0, left)
    new_points.add_(steps.index_select(0, left).mul_(fraction.unsqueeze(1)))
    new_points.index_copy_(0, new_offsets[:-1], first_points)
    new_points.index_copy_(0, new_offsets[1:] - 1, last_points)
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
    ends = lines.ends()
    if int(window.max()) <= 1:
        return _smooth_three(points, ends, passes)
    offsets, edge = lines.offsets, lines.edge
    index = torch.arange(points.shape[0], device=points.device)
    reach = window.index_select(0, edge)
    # Per shift o ≥ 2: which points take their neighbour o steps back / ahead. Shift 1 always stays inside the
    # edge for an interior point, so it needs no mask.
    shifts: list[tuple[int, torch.Tensor, torch.Tensor]] = []
    count = torch.full_like(index, 3).float()
    first, last = offsets[:-1].index_select(0, edge), offsets[1:].index_select(0, edge) - 1
    for o in range(2, int(reach.max()) + 1):
        back = ((reach >= o) & (index - o >= first)).float()
        ahead = ((reach >= o) & (index + o <= last)).float()
        count += back + ahead
        shifts.append((o, back[o:].unsqueeze(1), ahead[:-o].unsqueeze(1)))
    end_points = points.index_select(0, ends)
    scale = count.reciprocal_().unsqueeze(1)
    for _ in range(passes):
        total = points.clone()
        total[1:] += points[:-1]
        total[:-1] += points[1:]
        for o, back, ahead in shifts:
            total[o:].addcmul_(points[:-o], back)
            total[:-o].addcmul_(points[o:], ahead)
        points = total.mul_(scale)
        points.index_copy_(0, ends, end_points)  # the ends took part as neighbours but never move
    return points


def _smooth_three(points: torch.Tensor, ends: torch.Tensor, passes: int) -> torch.Tensor:
    """:func:`smooth` with one-point windows everywhere (the usual case): each pass, every interior point
    becomes the mean of itself and its two neighbours, and every end (``ends``, indices into ``points``)
    stays where it is, bit for bit.

    A pass is ``keep · p + pull · (previous + next)`` with (keep, pull) = (1/3, 1/3) inside an edge and (1, 0)
    at its ends: three contiguous operations, which run in parallel, where copying the ends back after each
    pass is an indexed copy on one thread that cost more than the pass. The flat array's first and last points
    are ends; the passes never write them.
    """
    keep = torch.full_like(points, 1.0 / 3.0).index_fill_(0, ends, 1.0)
    pull = torch.full_like(points, 1.0 / 3.0).index_fill_(0, ends, 0.0)
    keep, pull = keep[1:-1], pull[1:-1]
    buffers = (torch.empty_like(points), torch.empty_like(points))
    for buffer in buffers:
        buffer[0], buffer[-1] = points[0], points[-1]
    for step in range(passes):
        out = buffers[step % 2]
        torch.add(points[:-2], points[2:], out=out[1:-1]).mul_(pull).addcmul_(points[1:-1], keep)
        points = out
    return points
