"""Kernel density on a regular grid: nearest-cell deposit, separable Gaussian blur, gradient look-up.

A :class:`Grid` covers ``G`` independent boxes of the same shape (the layer gaps of the edge phase, or the one
x-y plane of the node phase), each with its own origin, in ``d`` = 2 or 3 dimensions. Cells are addressed by
flat ids, so deposits and look-ups are single ``index_add_`` / ``embedding_bag`` calls over many samples at
once. A density lives in one tensor of shape ``(K, G, n_1, …, n_d)``, channels first: the deposit adds along
the cells of each channel (2-3× faster on the CPU than adding rows of K, and it runs on two threads where rows
do not) and the blur's shifted adds run over whole channels. Its slopes are laid out ``(G, n_1, …, n_d, K, d)``,
channels last, so that one sample's slopes are one contiguous block of K rows of d, which a weighted sum over
the channels reads as one bag of ``embedding_bag``. Depositing into the nearest cell and then blurring is as
good as splatting a kernel per sample once the kernel spans a few cells, and costs one scatter per sample
instead of ``(2h / cell)^d`` (docs/processing.md, "Density on a grid"). The cell size is chosen by the caller
from the bandwidth, so memory depends on the bandwidth and the box, never on the number of edges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn.functional import embedding_bag

__all__ = ["KERNEL_RADIUS_SIGMAS", "MAX_FIELD_VALUES", "Grid"]

# The kernel is a Gaussian of σ = h / 2 cut off at 2σ = h: the "kernel of radius h" of docs/processing.md.
KERNEL_RADIUS_SIGMAS = 2.0
# Bound on cells × channels of one field (its gradient holds d times as many values). Above it the cells
# grow: memory and blur time stay bounded for odd layer_distance / layer_width ratios or many classes. The
# default config never reaches it (784-81-49-10 needs at most 1.6 M values random, 3.2 M trained on Fashion-MNIST).
MAX_FIELD_VALUES = 2**22


@dataclass(frozen=True)
class Grid:
    """``G`` boxes of ``shape`` cells of side ``cell``; box ``g`` starts at ``origin[g]``.

    Attributes
    ----------
    origin : (G, d) float32 tensor
        Lower corner of each box.
    cell : float
        Side of a cell.
    shape : tuple of d ints
        Cells along each axis (x, y[, z]).
    """

    origin: torch.Tensor
    cell: float
    shape: tuple[int, ...]

    @classmethod
    def covering(cls, low: torch.Tensor, high: torch.Tensor, cell: float) -> Grid:
        """The grid of cell side ``cell`` covering every box ``[low[g], high[g]]`` (``(G, d)`` tensors).

        All boxes get the shape of the largest extent so that they stack into one tensor.
        """
        extent = (high - low).amax(dim=0)
        shape = tuple(max(1, math.ceil(float(e) / cell)) for e in extent)
        return cls(origin=low.to(torch.float32), cell=cell, shape=shape)

    @classmethod
    def around(
        cls,
        points: torch.Tensor,
        box: int,
        limits: tuple[torch.Tensor, torch.Tensor],
        pad: float,
        cell: float,
        channels: int,
    ) -> Grid:
        """The grid covering the points ``(P, d)`` of box ``box`` plus ``pad``, within ``limits``.

        ``limits`` = (low, high), ``(G, d)`` each: the box domains. See :meth:`fitted`.
        """
        return cls.fitted(Grid.bounds([(points, box)], limits[0].shape[0]), limits, pad, cell, channels)

    @staticmethod
    def bounds(point_sets: Sequence[tuple[torch.Tensor, int]], n_boxes: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Lowest and highest corner ``(G, d)`` of the points of each box, from sets of points ``(P, d)`` that
        each lie in one box (a set's box id beside it). A box without points gets +inf / -inf."""
        like = point_sets[0][0]
        shape = (n_boxes, like.shape[1])
        lowest, highest = like.new_full(shape, math.inf), like.new_full(shape, -math.inf)
        for points, box in point_sets:
            # One reduction per axis: several times faster on the CPU than aminmax(dim=0) over a few columns.
            extremes = [torch.aminmax(points[:, axis]) for axis in range(points.shape[1])]
            torch.minimum(lowest[box], torch.stack([e.min for e in extremes]), out=lowest[box])
            torch.maximum(highest[box], torch.stack([e.max for e in extremes]), out=highest[box])
        return lowest, highest

    @classmethod
    def fitted(
        cls,
        bounds: tuple[torch.Tensor, torch.Tensor],
        limits: tuple[torch.Tensor, torch.Tensor],
        pad: float,
        cell: float,
        channels: int,
    ) -> Grid:
        """The grid covering ``bounds`` (from :meth:`bounds`) plus ``pad`` of each box, within ``limits``.

        Fitting the grid to where the points are (they gather into bundles) rather than to the whole domain
        saves most cells once the kernel is small; ``pad`` ≥ the kernel radius keeps the density of every
        point whole. The cell is ``cell``, or larger where a field of ``channels`` values per cell would
        exceed :data:`MAX_FIELD_VALUES`.
        """
        low, high = limits
        first, last = bounds
        empty = ~torch.isfinite(first)  # a box without points keeps its whole (unused) domain
        first = torch.where(empty, low, torch.maximum(first - pad, low))
        last = torch.where(empty, low, torch.minimum(last + pad, high))
        extent = (last - first).amax(dim=0)
        volume = first.shape[0] * float(extent.prod())
        cell = max(cell, (volume * channels / MAX_FIELD_VALUES) ** (1.0 / first.shape[1]))
        return cls.covering(first, last, cell)

    @property
    def n_boxes(self) -> int:
        return int(self.origin.shape[0])

    @property
    def n_cells(self) -> int:
        """Cells over all boxes."""
        return self.n_boxes * math.prod(self.shape)

    def cell_index(self, points: torch.Tensor, box: int | torch.Tensor) -> torch.Tensor:
        """``(P,) int64`` flat id of the cell holding each point ``(P, d)`` of box ``box`` (one box for all, or
        each point's own, ``(P,) int64``).

        Points outside the box are clamped into its border cells, so a stray point can never read or write out
        of range. The id is a dot product of the cell coordinates with the axes' strides, taken in float32:
        exact, as ids stay below 2^24 (:data:`MAX_FIELD_VALUES` bounds the cells).
        """
        origin = self.origin[box] if isinstance(box, int) else self.origin.index_select(0, box)
        cells = (points - origin).div_(self.cell).floor_().clamp_(min=0.0)
        last = points.new_tensor([n - 1 for n in self.shape])
        strides = points.new_tensor([math.prod(self.shape[axis + 1 :]) for axis in range(len(self.shape))])
        flat = torch.mv(torch.minimum(cells, last, out=cells), strides).long()
        return flat.add_(box * math.prod(self.shape))

    def deposit(self, index: torch.Tensor, values: torch.Tensor, field: torch.Tensor | None = None) -> torch.Tensor:
        """Sum ``values`` ``(K, P)`` (one row per channel) into the cells ``index`` ``(P,)``; returns the
        ``(K, G, *shape)`` field.

        ``field``, a field this returned before, adds to it instead of starting from zero (deposits in parts).
        """
        channels = values.shape[0]
        flat = values.new_zeros((channels, self.n_cells)) if field is None else field.view(channels, self.n_cells)
        flat.index_add_(1, index, values)
        return flat.view(channels, self.n_boxes, *self.shape)

    def blur(self, field: torch.Tensor, bandwidth: float) -> torch.Tensor:
        """Convolve ``(K, G, *shape)`` with a Gaussian of σ = bandwidth / 2 cut at radius ``bandwidth``.

        Separable: one 1-D pass per axis as a sum of shifted copies (cheaper than conv3d or an FFT for kernels
        a few cells wide). Outside the boxes counts as empty: each shifted copy adds only where it overlaps the
        grid, so no zero-padded copy of the field is made.
        """
        sigma = bandwidth / KERNEL_RADIUS_SIGMAS / self.cell
        radius = max(1, math.ceil(KERNEL_RADIUS_SIGMAS * sigma))
        taps = [math.exp(-0.5 * (offset / sigma) ** 2) for offset in range(radius + 1)]
        weights = [tap / (2 * sum(taps) - taps[0]) for tap in taps]  # offsets 0 … radius of a symmetric kernel
        for axis, n in enumerate(self.shape):
            dim = axis + 2
            blurred = field * weights[0]
            for shift in range(1, min(radius, n - 1) + 1):
                overlap = n - shift
                blurred.narrow(dim, shift, overlap).add_(field.narrow(dim, 0, overlap), alpha=weights[shift])
                blurred.narrow(dim, 0, overlap).add_(field.narrow(dim, shift, overlap), alpha=weights[shift])
            field = blurred
        return field

    def gradient(self, field: torch.Tensor, memory: torch.Tensor | None = None) -> torch.Tensor:
        """``(G, *shape, K, d)``: central differences of a ``(K, G, *shape)`` field, one-sided at the borders,
        channels last for :meth:`weighted_lookup`.

        The slopes are in units of half a cell: central differences are not halved nor divided by the cell
        size, and one-sided ones are doubled to match (every use normalises by a slope of the same field, so
        a common factor costs a pass over the field for nothing). ``memory``, a contiguous tensor of the
        field's dtype and device with at least as many values (:meth:`slope_values`), is written over instead
        of allocating the result.
        """
        shape = (self.n_boxes, *self.shape, field.shape[0], len(self.shape))
        out = field.new_empty(shape) if memory is None else memory.view(-1)[: math.prod(shape)].view(shape)
        # One transposing copy first: differences of a contiguous channels-last field are about twice as fast
        # as differences that read each channel with a stride of the whole grid.
        last = field.movedim(0, -1).contiguous()
        for axis, n in enumerate(self.shape):
            dim = axis + 1
            slope = out.select(-1, axis)
            if n == 1:  # a one-cell axis carries no slope
                slope.zero_()
                continue
            torch.sub(last.narrow(dim, 2, n - 2), last.narrow(dim, 0, n - 2), out=slope.narrow(dim, 1, n - 2))
            torch.sub(last.narrow(dim, 1, 1), last.narrow(dim, 0, 1), out=slope.narrow(dim, 0, 1)).mul_(2.0)
            torch.sub(last.narrow(dim, n - 1, 1), last.narrow(dim, n - 2, 1), out=slope.narrow(dim, n - 1, 1)).mul_(2.0)
        return out

    def slope_values(self, channels: int) -> int:
        """How many values :meth:`gradient` of a field of ``channels`` channels holds."""
        return self.n_cells * channels * len(self.shape)

    def weighted_lookup(self, field: torch.Tensor, index: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``(P, d)``: ``Σ_k weights[p, k] · field[index[p], k]`` for a contiguous ``(G, *shape, K, d)`` field
        (from :meth:`gradient`), cells ``index`` ``(P,)`` and ``weights`` ``(P, K)``.

        One ``embedding_bag`` over the field's rows of d: each point's bag is its cell's K rows. It reads the
        same bytes as gathering each point's ``(K, d)`` block but never writes them out, and on the CPU it takes
        half the time of such a gather followed by a batched product.
        """
        channels, axes = field.shape[-2:]
        rows = field.view(-1, axes)
        # int32 ids (MAX_FIELD_VALUES keeps the rows near 2^22, far below 2^31): less to build and to read.
        first = index.to(torch.int32).mul_(channels).unsqueeze(1)
        bags = first + torch.arange(channels, dtype=torch.int32, device=index.device)
        return embedding_bag(bags, rows, per_sample_weights=weights, mode="sum")
