"""Random networks, the one network builder and the initial layout (docs/design.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nnscape.cli import main
from nnscape.generate import random_network
from nnscape.layout import grid_layout
from nnscape.summary import describe


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        random_network([20, 7, 3], seed=seed).save(tmp_path / f"{name}.nnscape")
    a, b, c = ((tmp_path / f"{n}.nnscape").read_bytes() for n in "abc")
    assert a == b
    assert a != c


@pytest.mark.parametrize("classes", [2, 3, 10, 12, 50])
def test_importance_follows_the_random_recipe(classes: int) -> None:
    network = random_network([300, 40, classes], seed=0)
    hidden = network.node_importance[:340]
    for start, end in ((0, 300), (300, 340)):
        assert hidden[start:end].max() == pytest.approx(1.0)
    favourite = hidden.max(axis=1)
    others = np.sort(hidden, axis=1)[:, :-1]
    # one class high (max of two uniforms), the rest low (min of two uniforms, squared)
    assert favourite.mean() > 2 * others.mean()
    np.testing.assert_array_equal(network.node_importance[340:], np.eye(classes, dtype=np.float32))
    assert 0.4 < network.edge_importance.mean() < 0.6
    assert (network.edge_weight == 0).all()


def test_grid_layout_shows_the_image_and_stays_in_the_slice() -> None:
    positions = grid_layout([784, 5, 1], layer_width=1.0, layer_distance=0.5)
    image = positions[:784]
    assert len(np.unique(image[:, 0])) == 28
    assert len(np.unique(image[:, 1])) == 28
    assert image[0, 0] < image[1, 0]  # pixel 1 right of pixel 0
    assert image[0, 1] > image[28, 1]  # row 1 below row 0
    assert np.abs(positions[:, :2]).max() < 0.5
    np.testing.assert_allclose(np.unique(positions[:, 2]), [-0.5, 0.0, 0.5])
    np.testing.assert_allclose(positions[-1], [0, 0, 0.5])


def test_generate_cli_and_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.nnscape"
    assert main(["generate", "--layers", "784,81,49,10", "--classes", "10", "--seed", "0", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["info", "--json", str(out)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "network"
    assert info["layer_sizes"] == [784, 81, 49, 10]
    assert info["edges"] == 784 * 81 + 81 * 49 + 49 * 10
    assert info["pruned_edges"] == 0
    assert info["samples"] == 0
    assert info["class_names"] == [str(k) for k in range(10)]
    assert info["source"] == {"generator": "random", "layers": [784, 81, 49, 10], "seed": 0}
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "784 - 81 - 49 - 10" in text
    assert describe(out)["size_bytes"] == out.stat().st_size


def test_random_and_importance_networks_come_from_one_builder() -> None:
    """Both paths build through nnscape.builder: same layout, edge order and one-hot outputs for the same sizes."""
    import torch
    from torch import nn

    from nnscape.importance import importance

    sizes = [5, 4, 3]
    random = random_network(sizes)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    data = (torch.randn(30, 5), torch.arange(3).repeat(10))
    trained = importance(model, data, epochs=1)
    np.testing.assert_array_equal(random.node_position, trained.node_position)
    np.testing.assert_array_equal(random.edge_source, trained.edge_source)
    np.testing.assert_array_equal(random.edge_target, trained.edge_target)
    np.testing.assert_array_equal(random.node_importance[-3:], trained.node_importance[-3:])
    np.testing.assert_array_equal(trained.node_importance[-3:], np.eye(3, dtype=np.float32))
