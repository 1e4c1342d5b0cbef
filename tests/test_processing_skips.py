"""Processing networks with skip edges (residual and concatenation shortcuts that cross layers)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nnscape.config import ProcessingConfig
from nnscape.layout import layer_z
from nnscape.network import Network
from nnscape.processing import process, quality
from nnscape.processing.edges import DOMAIN_MARGIN, edge_boxes
from test_processing import two_class_network

CONFIG = ProcessingConfig()


def with_skips(network: Network) -> Network:
    """``network`` (chessboard layers of 36) plus an identity shortcut 1 → 3 and a dense one 0 → 2."""
    starts = network.layer_starts
    n = int(network.layer_sizes[0])
    identity = np.arange(n)
    dense_source, dense_target = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    source = np.concatenate([network.edge_source, identity + starts[1], dense_source + starts[0]]).astype(np.int32)
    target = np.concatenate([network.edge_target, identity + starts[3], dense_target + starts[2]]).astype(np.int32)
    extra = n + n * n
    return network.with_changes(
        edge_source=source,
        edge_target=target,
        edge_weight=np.concatenate([network.edge_weight, np.ones(extra, np.float32)]),
        edge_importance=np.concatenate([network.edge_importance, np.ones(extra, np.float32)]),
    )


@pytest.fixture(scope="module")
def skipping() -> tuple[Network, Network]:
    network = with_skips(two_class_network(hidden_layers=3))
    return network, process(network, CONFIG)


def lines_of(network: Network, mask: np.ndarray) -> list[np.ndarray]:
    assert network.edge_offsets is not None
    assert network.edge_points is not None
    offsets, points = network.edge_offsets, network.edge_points
    return [points[offsets[e] : offsets[e + 1]] for e in np.nonzero(mask)[0]]


def test_skip_edges_are_processed_and_end_on_their_nodes(skipping: tuple[Network, Network]) -> None:
    network, processed = skipping
    assert processed.n_edges == network.n_edges
    assert int((processed.edge_span == 2).sum()) == 36 + 36 * 36
    skip = processed.edge_span > 1
    for e, line in zip(np.nonzero(skip)[0], lines_of(processed, skip), strict=True):
        assert np.array_equal(line[0], processed.node_position[processed.edge_source[e]])
        assert np.array_equal(line[-1], processed.node_position[processed.edge_target[e]])


def test_skip_edges_are_bundled_not_straight(skipping: tuple[Network, Network]) -> None:
    _, processed = skipping
    skip = processed.edge_span > 1
    lines = lines_of(processed, skip & (processed.edge_layer == 0))  # the dense shortcut 0 → 2
    # Distance of each polyline's middle from the middle of its chord: straight lines would give 0.
    bends = [np.linalg.norm(line[len(line) // 2] - (line[0] + line[-1]) / 2) for line in lines]
    assert float(np.median(bends)) > 0.05 * CONFIG.layer_width
    skips_only = processed.with_changes(
        edge_source=processed.edge_source[skip],
        edge_target=processed.edge_target[skip],
        edge_weight=processed.edge_weight[skip],
        edge_importance=processed.edge_importance[skip],
        edge_offsets=np.concatenate([[0], np.cumsum([len(line) for line in lines_of(processed, skip)])]),
        edge_points=np.concatenate(lines_of(processed, skip)),
    )
    figures = quality(skips_only)
    assert figures["ink"] < 0.8  # the skip edges alone gather into less space than straight ones
    assert figures["class_separation"] > figures["class_separation_straight"]


def test_skip_edges_stay_between_their_layers_and_inside_the_network(skipping: tuple[Network, Network]) -> None:
    network, processed = skipping
    zs = layer_z(network.n_layers, layer_distance=CONFIG.layer_distance)
    depth = min(DOMAIN_MARGIN * CONFIG.layer_width, CONFIG.layer_distance)
    skip = processed.edge_span > 1
    for e, line in zip(np.nonzero(skip)[0], lines_of(processed, skip), strict=True):
        first, last = processed.edge_layer[e], processed.edge_layer[e] + processed.edge_span[e]
        assert zs[first] - depth - 1e-6 <= line[:, 2].min()
        assert line[:, 2].max() <= zs[last] + depth + 1e-6
    figures = json.loads(processed.metadata["quality"])
    assert figures["inside"] >= 0.99
    assert {"ink", "visible_ink", "class_separation"} <= set(figures)


def test_skip_edges_bundle_in_their_own_box_unmoved_by_ordinary_edges(skipping: tuple[Network, Network]) -> None:
    network, processed = skipping
    skip = network.edge_span > 1
    alone = process(
        network.with_changes(
            edge_source=network.edge_source[skip],
            edge_target=network.edge_target[skip],
            edge_weight=network.edge_weight[skip],
            edge_importance=network.edge_importance[skip],
        ),
        CONFIG,
    )
    # The node phase does not look at edges, so the nodes are the same; the skip edges' boxes hold only them.
    np.testing.assert_array_equal(alone.node_position, processed.node_position)
    every = np.ones(alone.n_edges, bool)
    for with_others, without in zip(lines_of(processed, skip), lines_of(alone, every), strict=True):
        np.testing.assert_allclose(with_others, without, atol=1e-6)


def test_edge_boxes_are_one_per_pair_of_layers_spanning_their_z() -> None:
    zs = torch.tensor([-1.0, 0.0, 1.0, 2.0])
    first = torch.tensor([0, 1, 0, 1, 2])
    last = torch.tensor([1, 2, 2, 2, 3])
    box, low, high = edge_boxes(first, last, zs, half=0.8, depth=0.25)
    assert box.tolist() == [0, 2, 1, 2, 3]
    assert low[:, 2].tolist() == [-1.25, -1.25, -0.25, 0.75]
    assert high[:, 2].tolist() == [0.25, 1.25, 1.25, 2.25]
    assert low[:, :2].eq(-0.8).all()
    assert high[:, :2].eq(0.8).all()
