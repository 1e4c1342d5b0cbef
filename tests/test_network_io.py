"""Round trips and validation of the Network type and the .nnscape file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import nnscape
from nnscape.errors import FormatError
from nnscape.generate import random_network
from nnscape.io import load, loads, read_metadata, save
from nnscape.network import Network, dense_edges

ARRAY_FIELDS = ("layer_sizes", "node_importance", "node_position", "edge_source", "edge_target",
                "edge_weight", "edge_importance")  # fmt: skip


def processed_copy(network: Network) -> Network:
    """A processed network whose polylines are straight three-point lines (a stand-in for real processing)."""
    start = network.node_position[network.edge_source]
    end = network.node_position[network.edge_target]
    points = np.stack([start, (start + end) / 2, end], axis=1).reshape(-1, 3).astype(np.float32)
    offsets = np.arange(network.n_edges + 1, dtype=np.int64) * 3
    return network.with_changes(edge_offsets=offsets, edge_points=points, metadata={"pruned_edges": "0"})


@pytest.mark.parametrize(
    ("layers", "classes"),
    [([4, 2], 2), ([5, 3, 3], 3), ([6, 1, 4, 10], 10), ([9, 7, 5, 12], 12), ([1, 1, 2], 2)],
)
def test_round_trip_keeps_every_array(tmp_path: Path, layers: list[int], classes: int) -> None:
    network = random_network(layers, n_classes=classes, seed=3)
    for original in (network, processed_copy(network)):
        path = tmp_path / f"{original.kind}.nnscape"
        original.save(path)
        loaded = nnscape.load(path)
        assert loaded.kind == original.kind
        assert loaded.class_names == original.class_names
        assert dict(loaded.metadata) == dict(original.metadata)
        for name in (*ARRAY_FIELDS, "edge_offsets", "edge_points"):
            a, b = getattr(original, name), getattr(loaded, name)
            if a is None:
                assert b is None
            else:
                assert a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)


def test_file_is_plain_safetensors_with_documented_names(tmp_path: Path) -> None:
    network = processed_copy(random_network([3, 2], seed=0))
    path = tmp_path / "n.nnscape"
    save(network, path)
    tensors = load_file(path)
    assert set(tensors) == {*ARRAY_FIELDS, "edge_offsets", "edge_points"}
    metadata = read_metadata(path)
    assert metadata["format"] == "nnscape"
    assert metadata["kind"] == "processed"
    assert json.loads(metadata["class_names"]) == ["0", "1"]
    assert metadata["created_by"].startswith("nnscape ")


def test_dense_edges_follow_torch_weight_layout() -> None:
    source, target = dense_edges([2, 3])
    weight = np.arange(6).reshape(3, 2)  # torch layout (out, in)
    flat = weight.T.ravel()
    for e in range(6):
        assert flat[e] == weight[target[e] - 2, source[e]]


def test_save_refuses_reserved_metadata(tmp_path: Path) -> None:
    network = random_network([3, 2], seed=0).with_changes(metadata={"kind": "processed"})
    with pytest.raises(FormatError, match="written by nnscape itself"):
        save(network, tmp_path / "x.nnscape")
    assert not list(tmp_path.iterdir())


def test_failed_save_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "x.nnscape"
    good = random_network([3, 2], seed=0)
    good.save(path)
    before = path.read_bytes()
    bad = Network(**{**good.__dict__, "node_importance": good.node_importance * 2})
    with pytest.raises(FormatError, match="node_importance"):
        bad.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.nnscape"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"layer_sizes": np.array([3], np.int64)}, "at least 2 layers"),
        ({"class_names": ("only",)}, "at least 2 classes"),
        ({"node_position": np.zeros((5, 2), np.float32)}, r"node_position: expected shape \(5, 3\)"),
        ({"edge_weight": np.zeros(6, np.float64)}, "edge_weight: expected dtype float32"),
        ({"edge_target": np.array([3, 4, 3, 4, 3, 1], np.int32)}, "must run to a later layer"),
        ({"edge_source": np.array([0, 0, 1, 1, 2, 9], np.int32)}, "out of range"),
    ],
)
def test_validate_names_the_broken_field(change: dict[str, object], message: str) -> None:
    network = random_network([3, 2], seed=0)
    with pytest.raises(FormatError, match=message):
        Network(**{**network.__dict__, **change}).validate()


def test_large_network_is_cheap(tmp_path: Path) -> None:
    network = random_network([784, 1024, 1024, 10], seed=0)
    assert network.n_edges == 784 * 1024 + 1024 * 1024 + 1024 * 10
    path = tmp_path / "big.nnscape"
    network.save(path)
    assert load(path).n_edges == network.n_edges


def test_loads_rejects_unprocessed_file_with_polylines(tmp_path: Path) -> None:
    network = processed_copy(random_network([3, 2], seed=0))
    tensors = {name: getattr(network, name) for name in (*ARRAY_FIELDS, "edge_offsets", "edge_points")}
    metadata = {"format": "nnscape", "version": "1", "kind": "network", "class_names": '["0", "1"]'}
    path = tmp_path / "x.nnscape"
    save_file(tensors, path, metadata=metadata)
    with pytest.raises(FormatError, match="edge_offsets is not part of a network file"):
        loads(path.read_bytes(), name=str(path))
