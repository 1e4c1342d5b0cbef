"""Processing odd networks: no hidden layer, one-node layers, many classes, flat importance, heavy pruning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nnscape.cli import main
from nnscape.config import ProcessingConfig
from nnscape.generate import random_network
from nnscape.io import load
from nnscape.network import Network
from nnscape.processing import process


def check(result: Network) -> dict[str, float]:
    """The invariants every processed network keeps; returns its quality figures."""
    result.validate()
    assert result.kind == "processed"
    assert result.edge_points is not None
    assert result.edge_offsets is not None
    assert np.isfinite(result.edge_points).all()
    assert np.isfinite(result.node_position).all()
    starts = result.edge_points[result.edge_offsets[:-1]]
    assert np.array_equal(starts, result.node_position[result.edge_source])
    figures: dict[str, float] = json.loads(result.metadata["quality"])
    assert all(np.isfinite(v) for v in figures.values())
    return figures


@pytest.mark.parametrize(
    ("sizes", "classes"),
    [([6, 2], None), ([1, 1, 2], None), ([4, 1, 3], None), ([25, 9, 2], None), ([60, 20, 50], 50)],
    ids=["no-hidden-layer", "one-node-layers", "one-node-hidden", "two-classes", "fifty-classes"],
)
def test_odd_shapes_process_cleanly(sizes: list[int], classes: int | None) -> None:
    check(process(random_network(sizes, n_classes=classes, seed=2)))


@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_flat_importance_processes_cleanly(value: float) -> None:
    network = random_network([16, 9, 3], seed=3)
    network = network.with_changes(
        node_importance=np.full_like(network.node_importance, value),
        edge_importance=np.full_like(network.edge_importance, value),
    )
    figures = check(process(network))
    if value > 0:  # equal importance everywhere still bundles by plain density
        assert figures["ink"] < 1.0


def test_pruning_almost_everything_keeps_a_valid_network() -> None:
    network = random_network([16, 9, 3], seed=4)
    result = process(network, ProcessingConfig(prune_percentage=0.99))
    check(result)
    assert result.n_edges == network.n_edges - int(np.floor(0.99 * network.n_edges))
    assert result.metadata["pruned_edges"] == str(network.n_edges - result.n_edges)


def test_wide_layers_with_heavy_pruning() -> None:
    """A small stand-in for 784-1024-1024-10 at prune 0.9 (the full size is in benchmarks/)."""
    network = random_network([100, 128, 128, 10], seed=5)
    check(process(network, ProcessingConfig(prune_percentage=0.9, sampling_rate=8.0)))


def test_cli_processes_a_generated_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out = tmp_path / "net.nnscape", tmp_path / "out.nnscape"
    assert main(["generate", "--layers", "9,4,2", "--out", str(source)]) == 0
    status = main(["process", str(source), "--out", str(out), "--set", "prune_percentage=0.25", "--quiet"])
    assert status == 0
    result = load(out)
    check(result)
    assert json.loads(result.metadata["processing_config"])["prune_percentage"] == 0.25
    assert result.metadata["pruned_edges"] == str(int(0.25 * 9 * 4 + 0.25 * 4 * 2))


def test_cli_reports_a_bad_setting_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "net.nnscape"
    assert main(["generate", "--layers", "4,2", "--out", str(source)]) == 0
    capsys.readouterr()
    status = main(["process", str(source), "--out", str(tmp_path / "o.nnscape"), "--set", "sampling_rate=50"])
    assert status == 1
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert "sampling_rate" in error
    assert not (tmp_path / "o.nnscape").exists()
