"""The building blocks of processing on hand-checkable inputs: grid density, polylines, pruning, potential."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnscape.generate import random_network
from nnscape.processing.edges import EdgeClasses, FixedEnds
from nnscape.processing.grid import MAX_FIELD_VALUES, Grid
from nnscape.processing.polylines import MAX_STRETCH, Polylines, edge_ranges, resample, smooth, straight
from nnscape.processing.potential import (
    CLASS_REPULSION,
    bandwidths,
    class_vectors,
    class_weight,
    gradient_step,
    largest_slope,
    potential_gradient,
)
from nnscape.processing.prune import prune_mask
from nnscape.processing.quality import _ink, _middles, _straight_rms_radius


def in_cells(grid: Grid, field: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """The values of a ``(G, *shape, *rest)`` field in the cells ``index``: ``(P, *rest)``."""
    return field.reshape(grid.n_cells, *field.shape[1 + len(grid.shape) :])[index]


def grid_3d(cells: int = 21, cell: float = 0.1) -> Grid:
    return Grid(origin=torch.zeros(1, 3), cell=cell, shape=(cells, cells, cells))


def test_blur_keeps_the_mass_and_spreads_it_symmetrically() -> None:
    grid = grid_3d()
    centre = torch.tensor([[1.05, 1.05, 1.05]])
    field = grid.blur(grid.deposit(grid.cell_index(centre, 0), torch.ones(1, 1)), 0.4)[0, 0]
    assert float(field.sum()) == pytest.approx(1.0, rel=1e-5)
    assert torch.allclose(field, field.flip(0), atol=1e-7)
    assert torch.allclose(field, field.transpose(0, 2), atol=1e-7)
    assert float(field[10, 10, 10]) == float(field.max())


def test_gradient_points_towards_the_density_peak() -> None:
    grid = grid_3d()
    field = grid.blur(grid.deposit(grid.cell_index(torch.tensor([[1.05, 1.05, 1.05]]), 0), torch.ones(1, 1)), 0.6)
    probes = torch.tensor([[0.75, 1.05, 1.05], [1.05, 1.35, 1.05], [1.05, 1.05, 0.85]])
    slopes = in_cells(grid, grid.gradient(field), grid.cell_index(probes, 0))[:, 0]  # channel 0: (probes, axes)
    towards = torch.tensor([[1.0, 0, 0], [0, -1.0, 0], [0, 0, 1.0]])
    assert torch.allclose(slopes / slopes.norm(dim=1, keepdim=True), towards, atol=1e-5)


def test_deposits_add_up_per_channel_and_slopes_come_back_per_point() -> None:
    # Two boxes, two channels: the field is channels first, the slopes channels last, one block per point.
    grid = Grid(origin=torch.tensor([[0.0, 0.0], [5.0, 5.0]]), cell=1.0, shape=(4, 3))
    points = torch.tensor([[1.5, 1.5], [1.2, 1.7], [6.5, 5.5]])
    index = torch.cat([grid.cell_index(points[:2], 0), grid.cell_index(points[2:], 1)])
    values = torch.tensor([[1.0, 2.0, 4.0], [10.0, 20.0, 40.0]])  # (channels, points)
    field = grid.deposit(index[:1], values[:, :1])
    field = grid.deposit(index[1:], values[:, 1:], field)  # in parts, as the edge phase deposits
    assert field.shape == (2, 2, 4, 3)
    assert field[:, 0, 1, 1].tolist() == [3.0, 30.0]
    assert field[:, 1, 1, 0].tolist() == [4.0, 40.0]
    assert float(field.sum()) == 77.0
    slopes = in_cells(grid, grid.gradient(field), index)  # (points, channels, axes)
    assert slopes.shape == (3, 2, 2)
    # At the border cell (0, 1) the x slope is the one-sided difference field[1, 1] - field[0, 1], the deposit,
    # in the slopes' unit of half a cell: doubled.
    assert in_cells(grid, grid.gradient(field), torch.tensor([0 * 3 + 1]))[0, :, 0].tolist() == [6.0, 60.0]
    # Inside, at cell (2, 1), the central difference field[3, 1] - field[1, 1], not halved.
    assert in_cells(grid, grid.gradient(field), torch.tensor([2 * 3 + 1]))[0, :, 0].tolist() == [-3.0, -30.0]
    assert torch.equal(slopes[:, 1], 10 * slopes[:, 0])


def test_slopes_written_into_kept_memory_equal_fresh_ones() -> None:
    grid = Grid(origin=torch.zeros(2, 3), cell=0.5, shape=(4, 3, 5))
    field = torch.rand(3, 2, 4, 3, 5, generator=torch.Generator().manual_seed(0))
    memory = torch.full((grid.slope_values(3) + 7,), float("nan"))  # larger than needed, as kept memory is
    slopes = grid.gradient(field, memory)
    assert torch.equal(slopes, grid.gradient(field))
    assert slopes.data_ptr() == memory.data_ptr()


def test_weighted_lookup_sums_each_points_channels_by_its_weights() -> None:
    grid = Grid(origin=torch.zeros(2, 3), cell=1.0, shape=(3, 2, 4))
    field = torch.randn(2, 3, 2, 4, 5, 3, generator=torch.Generator().manual_seed(0))  # (G, *shape, K, d)
    index = torch.tensor([0, 23, 24, 47, 5, 5])
    weights = torch.randn(6, 5, generator=torch.Generator().manual_seed(1))
    expected = (in_cells(grid, field, index) * weights.unsqueeze(2)).sum(dim=1)
    assert torch.allclose(grid.weighted_lookup(field, index, weights), expected, atol=1e-6)
    assert grid.weighted_lookup(field, index[:0], weights[:0]).shape == (0, 3)


def test_points_outside_the_grid_land_in_its_border_cells() -> None:
    grid = Grid(origin=torch.tensor([[0.0, 0.0], [5.0, 5.0]]), cell=1.0, shape=(3, 2))
    assert grid.cell_index(torch.tensor([[-4.0, 9.0]]), 0).tolist() == [0 * 2 + 1]
    assert grid.cell_index(torch.tensor([[5.5, 5.5]]), 1).tolist() == [6 + 0]


def test_cell_ids_count_along_z_then_y_then_x_then_box() -> None:
    grid = Grid(origin=torch.tensor([[0.0, 0.0, 0.0], [5.0, 5.0, 2.0]]), cell=0.5, shape=(4, 3, 5))
    points = torch.tensor([[5.2, 5.9, 2.1], [4.0, 9.0, 0.0], [6.4, 6.4, 4.4], [7.0, 5.1, 3.3]])
    # Cells (x, y, z) = (0, 1, 0), (0, 2, 0) clamped into the box, (2, 2, 4), (3, 0, 2) clamped; 60 per box.
    assert grid.cell_index(points, 1).tolist() == [60 + 5, 60 + 10, 60 + 30 + 10 + 4, 60 + 45 + 2]
    assert grid.n_cells == 120


def test_cell_ids_of_points_in_boxes_of_their_own_match_those_box_by_box() -> None:
    grid = Grid(origin=torch.tensor([[0.0, 0.0, 0.0], [5.0, 5.0, 2.0]]), cell=0.5, shape=(4, 3, 5))
    points = torch.tensor([[5.2, 5.9, 2.1], [0.4, 1.0, 2.0], [6.4, 6.4, 4.4], [1.0, 0.1, 0.3]])
    boxes = torch.tensor([1, 0, 1, 0])
    expected = torch.empty(4, dtype=torch.int64)
    for box in (0, 1):
        expected[boxes == box] = grid.cell_index(points[boxes == box], box)
    assert torch.equal(grid.cell_index(points, boxes), expected)


def test_fixed_ends_deposit_what_every_edge_end_would() -> None:
    network = random_network([6, 4, 3], seed=1)
    importance = torch.from_numpy(network.node_importance)
    source, target = (torch.from_numpy(a.astype(np.int64)) for a in (network.edge_source, network.edge_target))
    edges = (source, target, torch.from_numpy(network.edge_importance))
    nodes = torch.rand(importance.shape[0], 3, generator=torch.Generator().manual_seed(0))
    box = torch.from_numpy(network.edge_layer.astype(np.int64))  # one box per layer gap
    classes = EdgeClasses.build(importance, edges, 0)
    ends = FixedEnds.build(nodes, (source, target), box, classes)
    assert ends.points.shape[0] == 6 + 2 * 4 + 3  # the middle layer's nodes end edges in both boxes
    grid = Grid(origin=torch.zeros(2, 3), cell=0.25, shape=(4, 4, 4))
    # Each end one by one: at t = 0 on its source, at t = 1 on its target.
    n_edges = source.shape[0]
    edge, t = torch.arange(n_edges).repeat(2), torch.cat([torch.zeros(n_edges), torch.ones(n_edges)])
    direction, inverse_norm, weight = classes.at(edge, t)
    index = grid.cell_index(nodes[torch.cat([source, target])], box.repeat(2))
    one_by_one = grid.deposit(index, direction.t() * (weight * inverse_norm))
    assert torch.allclose(ends.deposit(grid, None), one_by_one, atol=1e-6)
    assert float(one_by_one.abs().sum()) > 0


def test_the_interior_of_polylines_is_every_point_but_the_ends() -> None:
    lines = resample(straight(torch.zeros(3, 3), torch.tensor([[1.0, 0, 0], [0, 0.1, 0], [0, 0, 0.35]])), 0.1)
    inner = lines.interior().tolist()
    assert sorted(inner + lines.ends().tolist()) == list(range(lines.points.shape[0]))
    assert inner == sorted(inner)
    assert not set(inner) & set(lines.ends().tolist())


def test_resampling_keeps_ends_and_spaces_points_evenly() -> None:
    lines = straight(torch.tensor([[0.0, 0, 0], [0, 0, 0]]), torch.tensor([[1.0, 0, 0], [0, 0.25, 0]]))
    result = resample(lines, 0.1)
    assert result.offsets.tolist() == [0, 11, 15]  # 10 steps of 0.1; 0.25 → ceil(2.5 − 0.3) = 3 steps
    assert torch.allclose(result.points[:11, 0], torch.linspace(0, 1, 11), atol=1e-6)
    assert torch.equal(result.points[[0, 10, 11, 14]], torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 0.25, 0]]))
    assert torch.allclose(result.points[11:, 1], torch.linspace(0, 0.25, 4))
    assert torch.allclose(result.t[:11], torch.linspace(0, 1, 11))


def test_resampling_a_zigzag_caps_its_point_count() -> None:
    zigzag = torch.tensor([[x / 10, (x % 2) * 0.5, 0.0] for x in range(11)])
    lines = Polylines(torch.tensor([0, 11]), zigzag, torch.zeros(11, dtype=torch.int64), torch.zeros(11))
    result = resample(lines, 0.01)
    assert result.points.shape[0] <= MAX_STRETCH * 1.0 / 0.01 + 2


def test_smoothing_keeps_ends_and_straight_lines() -> None:
    lines = resample(straight(torch.tensor([[0.0, 0, 0]]), torch.tensor([[1.0, 1, 0]])), 0.05)
    kinked = lines.points.clone()
    kinked[5:9, 2] = 0.3
    bent = Polylines(lines.offsets, kinked, lines.edge, lines.t)
    smoothed = smooth(bent, torch.tensor([2]), passes=4)
    assert torch.equal(smoothed[[0, -1]], kinked[[0, -1]])
    assert float(smoothed[:, 2].max()) < 0.3
    assert torch.allclose(smooth(lines, torch.tensor([1]), passes=4), lines.points, atol=1e-6)
    wide = smooth(lines, torch.tensor([3]), passes=4)  # cut windows slide points along the line, never off it
    assert torch.allclose(wide[:, 0], wide[:, 1], atol=1e-6)
    assert torch.equal(wide[:, 2], torch.zeros(wide.shape[0]))


def smoothed_edge_by_edge(lines: Polylines, window: torch.Tensor, passes: int) -> torch.Tensor:
    """What :func:`smooth` must give, one edge and one point at a time (float64)."""
    out = lines.points.double().clone()
    for e, (first, stop) in enumerate(zip(lines.offsets[:-1].tolist(), lines.offsets[1:].tolist(), strict=True)):
        reach = int(window[e])
        for _ in range(passes):
            before = out[first:stop].clone()
            for i in range(1, stop - first - 1):
                near = before[max(0, i - reach) : i + reach + 1]
                out[first + i] = near.mean(dim=0)
    return out


@pytest.mark.parametrize("widest", [1, 3])
def test_smoothing_averages_within_each_edge_only(widest: int) -> None:
    # Several edges of different lengths end to end in one flat array: no point may feel another edge's, and
    # every end keeps its bits (the one-point windows run on a path of their own).
    generator = torch.Generator().manual_seed(0)
    counts = torch.tensor([2, 3, 7, 12, 5])
    offsets = torch.cat([torch.zeros(1, dtype=torch.int64), counts.cumsum(0)])
    points = torch.rand(int(offsets[-1]), 3, generator=generator)
    edge = torch.arange(len(counts)).repeat_interleave(counts)
    lines = Polylines(offsets, points, edge, torch.zeros(len(edge)))
    window = torch.tensor([1, 1, widest, 1, 2]) if widest > 1 else torch.ones(len(counts), dtype=torch.int64)
    smoothed = smooth(lines, window, passes=5)
    assert torch.allclose(smoothed.double(), smoothed_edge_by_edge(lines, window, 5), atol=1e-6)
    assert torch.equal(smoothed[lines.ends()], points[lines.ends()])


@pytest.mark.parametrize("spacing", [0.03, 0.2, 5.0])
def test_the_straight_spread_is_that_of_the_resampled_straight_lines(spacing: float) -> None:
    # quality's spread_straight takes the resampled points' radii in closed form, without the points.
    generator = torch.Generator().manual_seed(1)
    lines = straight(torch.rand(50, 3, generator=generator) - 0.5, torch.rand(50, 3, generator=generator) - 0.5)
    points = resample(lines, spacing).points.double()
    expected = float(points[:, :2].square().sum(dim=1).mean().sqrt())
    assert _straight_rms_radius(lines, spacing) == pytest.approx(expected, rel=1e-6)  # the points are float32


def test_pruning_keeps_the_highest_scores() -> None:
    network = random_network([4, 3, 2], seed=0)
    keep = prune_mask(network, 0.5)
    score = network.edge_importance * network.node_importance.mean(axis=1)[network.edge_source]
    assert keep.sum() == network.n_edges - network.n_edges // 2
    assert score[keep].min() >= score[~keep].max()
    assert prune_mask(network, 0.0).all()


def test_schedule_and_class_weight() -> None:
    schedule = bandwidths(0.5, 0.9, 2 / 45)
    assert len(schedule) == 23
    assert schedule[-1] >= 2 / 45 > schedule[-1] * 0.9
    assert class_weight(0.5, 0.5, 0.1) == 0.0
    assert class_weight(0.1, 0.5, 0.1) == CLASS_REPULSION


def test_potential_attracts_to_own_class_and_repels_from_others() -> None:
    # One cell, where class 0's density and ‖D‖ rise along +x and class 1 has none.
    grid = Grid(origin=torch.zeros(1, 2), cell=1.0, shape=(1, 1))
    slopes = torch.zeros(1, 1, 1, 3, 2)  # (G, *shape, channels: class 0, class 1, ‖D‖; axes)
    slopes[..., 0, 0] = slopes[..., 2, 0] = 1.0
    vectors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    gradient = potential_gradient(grid, slopes, torch.zeros(2, dtype=torch.int64), vectors, sigma=CLASS_REPULSION)
    assert float(gradient[0, 0]) > 0  # a class-0 point climbs class-0 density
    assert float(gradient[1, 0]) < 0  # a class-1 point is pushed away from it


def test_the_flatness_scale_is_the_largest_slope_of_the_density_norm() -> None:
    slopes = torch.zeros(1, 4, 4, 3, 2)  # (G, *shape, channels: two classes and ‖D‖, axes)
    slopes[0, 1, 2, 0, 1] = 9.0  # a class channel's slope does not count
    slopes[0, 3, 0, 2, 1] = -2.0
    slopes[0, 2, 2, 2, 0] = 1.5
    assert largest_slope(slopes) == 2.0


def test_flat_density_means_no_step() -> None:
    move = gradient_step(torch.zeros(4, 3), largest_slope(torch.zeros(1, 2, 2, 2, 3, 3)), 0.5)
    assert torch.equal(move, torch.zeros(4, 3))
    move = gradient_step(torch.tensor([[3.0, 4.0, 0.0]]), 1.0, 0.5)
    assert torch.equal(gradient_step(torch.tensor([[3e-7, 0.0, 0.0]]), 1.0, 0.5), torch.zeros(1, 3))  # noise
    assert torch.allclose(move, torch.tensor([[0.3, 0.4, 0.0]]))


def test_zero_importance_gets_a_uniform_class_vector() -> None:
    vectors = class_vectors(torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]]))
    assert torch.allclose(vectors, torch.tensor([[0.5, 0.5, 0.5, 0.5], [0.0, 1.0, 0.0, 0.0]]))
    assert np.isfinite(vectors.numpy()).all()


def test_grid_memory_is_bounded_whatever_the_extent_and_channels() -> None:
    points = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 40.0]])
    limits = (torch.full((1, 3), -100.0), torch.full((1, 3), 100.0))
    grid = Grid.around(points, 0, limits, pad=0.01, cell=0.001, channels=51)
    assert grid.n_cells * 51 <= 1.1 * MAX_FIELD_VALUES  # rounding up each axis adds a little
    fine = Grid.around(points[:1], 0, limits, pad=0.01, cell=0.001, channels=51)
    assert fine.cell == 0.001  # a small box keeps the asked-for cell


def test_edge_ranges_cover_every_edge_once_in_parts_of_about_the_size_asked() -> None:
    counts = torch.tensor([5, 5, 5, 30, 1, 1, 1, 1, 5, 5])
    ranges = edge_ranges(counts, 10)
    assert ranges[0][0] == 0
    assert ranges[-1][1] == 10
    assert all(a < b for a, b in ranges)  # no empty part
    assert all(ranges[i][1] == ranges[i + 1][0] for i in range(len(ranges) - 1))  # none skipped or repeated
    sizes = [int(counts[a:b].sum()) for a, b in ranges]
    assert max(sizes) <= 30 + 10  # a long edge stays whole; a part overshoots by less than one edge
    assert edge_ranges(counts, 1000) == [(0, 10)]
    assert edge_ranges(torch.zeros(0, dtype=torch.int64), 10) == [(0, 0)]
    # Breaks (where the edges' density box changes) always start a range.
    assert edge_ranges(counts, 1000, [3, 8]) == [(0, 3), (3, 8), (8, 10)]
    assert {3, 8} <= {a for a, _ in edge_ranges(counts, 10, [3, 8])}


def test_taking_polylines_reorders_whole_edges() -> None:
    lines = resample(straight(torch.zeros(3, 3), torch.tensor([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 3.0]])), 0.5)
    taken = lines.take(torch.tensor([2, 0]))
    assert taken.counts.tolist() == [lines.counts[2], lines.counts[0]]
    assert torch.equal(taken.points, torch.cat([lines.points[lines.offsets[2] :], lines.points[: lines.offsets[1]]]))
    assert taken.edge.tolist() == [0] * int(lines.counts[2]) + [1] * int(lines.counts[0])


def test_edge_midpoints_are_halfway_along_their_points() -> None:
    lines = resample(straight(torch.zeros(2, 3), torch.tensor([[0.2, 0, 0], [0, 0.3, 0]])), 0.1)
    assert lines.counts.tolist() == [3, 4]  # an odd count has a middle point, an even one a middle segment
    middles = _middles(lines, torch.tensor([1, 0, 1]))
    assert torch.allclose(middles, torch.tensor([[0.0, 0.15, 0], [0.1, 0, 0], [0, 0.15, 0]]))


def test_ink_marks_the_cells_a_polyline_passes_through() -> None:
    # One layer width of 1: the ink grid's cells are 1/32 wide; the box is 32 × 16 × 64 cells.
    low, high, cells = torch.zeros(3), torch.tensor([1.0, 0.5, 2.0]), 32 * 16 * 64
    along_x = straight(torch.tensor([[0.01, 0.2, 0.7]]), torch.tensor([[0.99, 0.2, 0.7]]))
    covered, visible = _ink(along_x, low, high, 1.0, torch.tensor([0.5, 0.25]))
    assert covered == 32 / cells  # every cell of one row along x, none twice
    assert visible == pytest.approx(0.5 * 32 / cells)  # each cell at the larger end's opacity
    # A line leaving the box along z counts in the border cells it is clamped into, never outside the grid.
    along_z = straight(torch.tensor([[0.5, 0.4, 0.49]]), torch.tensor([[0.5, 0.4, 3.0]]))
    assert _ink(along_z, low, high, 1.0)[0] == 49 / cells  # z cells 15 to 63
