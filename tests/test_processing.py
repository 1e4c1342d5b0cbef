"""Processing: polylines end on their nodes, bundling gathers edges and sorts them by class, every key acts."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from nnscape.config import PROCESSING_SETTINGS, ProcessingConfig
from nnscape.errors import Cancelled, ConfigError, FormatError
from nnscape.generate import random_network
from nnscape.layout import class_layout, grid_layout
from nnscape.network import Network, dense_edges
from nnscape.processing import edges, process, quality
from nnscape.progress import ProgressEvent

# The defaults, spelled out so that each test can vary one key.
CONFIG = ProcessingConfig()


def two_class_network(side: int = 6, hidden_layers: int = 2) -> Network:
    """Layers of side² nodes whose classes alternate like a chessboard, then two one-hot outputs.

    Class-0 nodes matter only for class 0 and class-1 nodes only for class 1, so same-class edges should
    bundle together and away from the other class, although the two classes start fully interleaved.
    """
    sizes = [side * side] * (hidden_layers + 1) + [2]
    chessboard = (np.arange(side * side) % side + np.arange(side * side) // side) % 2
    classes = np.concatenate([np.tile(chessboard, hidden_layers + 1), [0, 1]])
    importance = np.zeros((sum(sizes), 2), np.float32)
    importance[np.arange(sum(sizes)), classes] = 1.0
    source, target = dense_edges(sizes)
    return Network(
        layer_sizes=np.asarray(sizes, np.int64),
        node_importance=importance,
        node_position=grid_layout(sizes, layer_width=1.0, layer_distance=0.5),
        edge_source=source,
        edge_target=target,
        edge_weight=np.zeros(source.shape[0], np.float32),
        edge_importance=np.ones(source.shape[0], np.float32),
        class_names=("a", "b"),
    )


@pytest.fixture(scope="module")
def small() -> Network:
    return random_network([16, 9, 4], seed=1)


@pytest.fixture(scope="module")
def processed(small: Network) -> Network:
    return process(small, CONFIG)


@pytest.fixture(scope="module")
def two_class() -> tuple[Network, Network]:
    network = two_class_network()
    return network, process(network, CONFIG)


def polylines(network: Network) -> list[np.ndarray]:
    assert network.edge_offsets is not None
    assert network.edge_points is not None
    offsets = network.edge_offsets
    return [network.edge_points[offsets[e] : offsets[e + 1]] for e in range(network.n_edges)]


def test_polylines_end_exactly_on_their_nodes(processed: Network) -> None:
    assert processed.kind == "processed"
    assert processed.edge_offsets is not None
    assert processed.edge_points is not None
    starts = processed.edge_points[processed.edge_offsets[:-1]]
    ends = processed.edge_points[processed.edge_offsets[1:] - 1]
    assert np.array_equal(starts, processed.node_position[processed.edge_source])
    assert np.array_equal(ends, processed.node_position[processed.edge_target])


def test_points_are_finite_and_about_one_spacing_apart(processed: Network) -> None:
    assert processed.edge_points is not None
    assert np.isfinite(processed.edge_points).all()
    spacing = CONFIG.layer_width / CONFIG.sampling_rate
    steps = np.concatenate([np.linalg.norm(np.diff(line, axis=0), axis=1) for line in polylines(processed)])
    assert steps.max() <= 1.3 * spacing + 1e-5  # equal steps, a last one under 0.3 spacing merged


def test_node_phase_moves_nodes_within_the_slice_only(small: Network, processed: Network) -> None:
    start = grid_layout(small.layer_sizes.tolist(), layer_width=1.0, layer_distance=0.5)
    assert np.array_equal(processed.node_position[:, 2], start[:, 2])  # z never changes
    assert not np.array_equal(processed.node_position, start)
    assert np.abs(processed.node_position[:, :2]).max() <= 0.5 + 0.125 + 1e-6


def test_metadata_records_config_pruning_time_and_quality(processed: Network) -> None:
    metadata = processed.metadata
    assert json.loads(metadata["processing_config"]) == CONFIG.to_dict()
    assert metadata["pruned_edges"] == "0"
    assert float(metadata["processing_seconds"]) > 0
    figures = json.loads(metadata["quality"])
    assert {"ink", "spread", "inside", "class_separation"} <= set(figures)
    assert figures == quality(processed)


def test_bundling_uses_clearly_less_ink_than_straight_edges(processed: Network) -> None:
    figures = quality(processed)
    assert figures["ink"] < 0.75
    assert figures["spread"] < figures["spread_straight"]


def test_drawn_spread_counts_the_drawn_points_only(processed: Network) -> None:
    figures = quality(processed)
    assert 0 < figures["drawn_spread"] < figures["spread"]
    # Every edge at full strength: every point drawn opaque, so the drawn spread is the spread.
    strong = processed.with_changes(edge_importance=np.ones_like(processed.edge_importance))
    strong = strong.with_changes(node_importance=np.ones_like(processed.node_importance))
    assert quality(strong)["drawn_spread"] == pytest.approx(figures["spread"], rel=1e-5)
    # No edge drawn: nothing spreads.
    hidden = processed.with_changes(edge_importance=np.zeros_like(processed.edge_importance))
    assert quality(hidden)["drawn_spread"] == 0


def test_nearly_all_points_stay_near_the_network_box(two_class: tuple[Network, Network]) -> None:
    assert quality(two_class[1])["inside"] >= 0.95


def test_interleaved_classes_end_farther_apart_than_edges_of_one_class(two_class: tuple[Network, Network]) -> None:
    network, processed = two_class
    figures = quality(processed)
    assert figures["class_separation"] > 1.05
    assert figures["class_separation"] > figures["class_separation_straight"]
    # By hand on the same-class edges: mean distance at mid-edge, class 0 against class 1 vs within class.
    middles = np.array([line[len(line) // 2] for line in polylines(processed)])
    node_class = network.node_importance.argmax(axis=1)
    pure = node_class[processed.edge_source] == node_class[processed.edge_target]
    gap = processed.node_position[processed.edge_source, 2] == processed.node_position[0, 2]  # first gap only
    label = node_class[processed.edge_source]
    zero, one = middles[pure & gap & (label == 0)], middles[pure & gap & (label == 1)]

    def mean_distance(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2).mean())

    assert mean_distance(zero, one) > max(mean_distance(zero, zero), mean_distance(one, one))


def test_two_interleaved_classes_bundle_apart_in_little_space() -> None:
    # The 16-16-2 chessboard: the goal of issue 9 (separation at least 1.5 and 1.3 × the straight edges of
    # the plain grid, less ink than straight edges, nearly every point within a quarter layer width of the box).
    figures = quality(process(two_class_network(side=4, hidden_layers=1), CONFIG))
    assert figures["class_separation"] >= 1.5
    assert figures["class_separation"] >= 1.3 * figures["class_separation_grid"]
    assert figures["ink"] < 1.0
    assert figures["inside"] >= 0.99


def test_class_layout_sorts_later_layers_by_class_and_keeps_the_first() -> None:
    network = two_class_network(side=4, hidden_layers=1)
    sizes = network.layer_sizes.tolist()
    grid = grid_layout(sizes, layer_width=1.0, layer_distance=0.5)
    positions = class_layout(sizes, network.node_importance, layer_width=1.0, layer_distance=0.5)
    np.testing.assert_array_equal(positions[:16], grid[:16])  # the input keeps its picture
    # Later layers use the same cells, each once, and class 0 (direction +x) lands right of class 1.
    for begin, end in ((16, 32), (32, 34)):
        assert sorted(map(tuple, positions[begin:end])) == sorted(map(tuple, grid[begin:end]))
        classes = network.node_importance[begin:end].argmax(axis=1)
        assert positions[begin:end][classes == 0, 0].min() > positions[begin:end][classes == 1, 0].max()


def test_same_input_and_seed_give_identical_output(small: Network, processed: Network) -> None:
    again = process(small, CONFIG)
    assert again.edge_points is not None
    assert processed.edge_points is not None
    assert np.array_equal(again.edge_points, processed.edge_points)
    assert np.array_equal(again.node_position, processed.node_position)
    assert json.loads(again.metadata["quality"]) == json.loads(processed.metadata["quality"])


def test_processing_in_parts_gives_the_same_polylines(
    small: Network, processed: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The edge phase works on parts of about PART_SAMPLES points; 50 cuts this network into dozens of parts,
    # which must neither lose, reorder nor change a point (the deposits add up in the same order).
    monkeypatch.setattr(edges, "PART_SAMPLES", 50)
    again = process(small, CONFIG)
    assert processed.edge_points is not None
    assert again.edge_points is not None
    assert processed.n_samples > 20 * 50
    assert np.array_equal(again.edge_offsets, processed.edge_offsets)
    assert np.array_equal(again.edge_points, processed.edge_points)


def test_reprocessing_starts_from_the_layout_and_keeps_every_edge(small: Network, processed: Network) -> None:
    again = process(processed, CONFIG)
    assert again.n_edges == processed.n_edges
    assert again.edge_points is not None
    assert processed.edge_points is not None
    assert np.array_equal(again.edge_points, processed.edge_points)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("edge_bandwidth_reduction", 0.8),
        ("node_bandwidth_reduction", 0.9),
        ("edge_importance_type", 1),
        ("edge_importance_type", 2),
        ("edge_importance_type", 3),
        ("layer_distance", 0.8),
        ("layer_width", 0.7),
        ("prune_percentage", 0.3),
        ("sampling_rate", 10.0),
        ("smoothing", False),
        ("smoothing_iterations", 2),
    ],
)
def test_every_setting_changes_the_result(small: Network, processed: Network, key: str, value: object) -> None:
    changed = process(small, CONFIG.with_overrides({key: value}))
    assert changed.edge_points is not None
    assert processed.edge_points is not None
    same_shape = changed.edge_points.shape == processed.edge_points.shape
    assert not (same_shape and np.array_equal(changed.edge_points, processed.edge_points))


def test_the_settings_table_is_covered() -> None:
    tested = {"edge_bandwidth_reduction", "node_bandwidth_reduction", "edge_importance_type", "layer_distance",
              "layer_width", "prune_percentage", "sampling_rate", "smoothing", "smoothing_iterations"}  # fmt: skip
    assert {setting.key for setting in PROCESSING_SETTINGS} == tested


def test_importance_types_differ_from_each_other(small: Network) -> None:
    results = [process(small, CONFIG.with_overrides({"edge_importance_type": t})).edge_points for t in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            a, b = results[i], results[j]
            assert a is not None
            assert b is not None
            assert a.shape != b.shape or not np.array_equal(a, b), (i, j)


def test_pruning_drops_the_lowest_scores_over_all_layers(small: Network) -> None:
    result = process(small, CONFIG.with_overrides({"prune_percentage": 0.5}))
    n_drop = small.n_edges // 2
    assert result.metadata["pruned_edges"] == str(n_drop)
    assert result.n_edges == small.n_edges - n_drop
    score = small.edge_importance * small.node_importance.mean(axis=1)[small.edge_source]
    kept = {(int(s), int(t)) for s, t in zip(result.edge_source, result.edge_target, strict=True)}
    threshold = np.sort(score)[n_drop]
    for e in np.flatnonzero(score < threshold):
        assert (int(small.edge_source[e]), int(small.edge_target[e])) not in kept


def test_progress_reports_every_iteration_of_both_phases(small: Network) -> None:
    events: list[ProgressEvent] = []
    process(small, CONFIG, progress=events.append)
    phases = [e.phase for e in events]
    assert phases == sorted(phases, key=["nodes", "edges"].index)
    for phase in ("nodes", "edges"):
        steps = [e for e in events if e.phase == phase]
        assert [e.step for e in steps] == list(range(1, steps[0].total + 1))
        bandwidths = [e.values["bandwidth"] for e in steps]
        assert bandwidths == sorted(bandwidths, reverse=True)
    edges = [e for e in events if e.phase == "edges"]
    assert len(edges) == 17  # 0.5 · 0.86^k ≥ h_min = 2 · (1/15) / 3 for k = 0 … 16
    assert len(events) - len(edges) == 56  # 0.75 · 0.95^k ≥ h_min for k = 0 … 55


@pytest.mark.parametrize("after", [0, 40])
def test_cancellation_stops_processing(small: Network, after: int) -> None:
    cancel = threading.Event()
    seen: list[ProgressEvent] = []

    def on_progress(event: ProgressEvent) -> None:
        seen.append(event)
        if len(seen) >= after:
            cancel.set()

    if after == 0:
        cancel.set()
    with pytest.raises(Cancelled, match="cancelled"):
        process(small, CONFIG, progress=on_progress, cancel=cancel)
    assert len(seen) == after


def test_zero_importance_means_no_movement() -> None:
    network = random_network([9, 4, 2], seed=0)
    network = network.with_changes(node_importance=np.zeros_like(network.node_importance))
    result = process(network, CONFIG)
    assert np.array_equal(result.node_position, network.node_position)
    for line, s, t in zip(polylines(result), result.edge_source, result.edge_target, strict=True):
        a, b = result.node_position[s], result.node_position[t]
        along = (line - a) @ (b - a) / np.dot(b - a, b - a)
        assert np.allclose(a + along[:, None] * (b - a), line, atol=1e-5)  # still the straight segment


def test_unknown_device_is_a_config_error(small: Network) -> None:
    with pytest.raises(ConfigError, match="device 'nope'"):
        process(small, CONFIG, device="nope")


def test_quality_needs_a_processed_network(small: Network) -> None:
    with pytest.raises(FormatError, match="not processed"):
        quality(small)
