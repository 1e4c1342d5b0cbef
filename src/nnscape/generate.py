"""Random networks of any layer sizes (ALGORITHM.md section 2), for trying the pipeline without a model."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

import numpy as np

from nnscape.config import ProcessingConfig
from nnscape.errors import ConfigError
from nnscape.layout import grid_layout
from nnscape.network import Network, dense_edges

__all__ = ["one_hot_output", "random_network"]


def one_hot_output(n_outputs: int, n_classes: int) -> np.ndarray:
    """``(n_outputs, C) float32``: output node k is important for class k only (rows past C stay 0)."""
    importance = np.zeros((n_outputs, n_classes), np.float32)
    diagonal = min(n_outputs, n_classes)
    importance[np.arange(diagonal), np.arange(diagonal)] = 1.0
    return importance


def random_network(
    layer_sizes: Sequence[int],
    *,
    n_classes: int | None = None,
    seed: int = 0,
    config: ProcessingConfig | None = None,
) -> Network:
    """A dense network with random importance, laid out on the initial grid.

    Each hidden or input node is important for one random class (max of two uniforms) and weak for the others
    (min of two uniforms, squared); edge importance is uniform in [0, 1); weights are 0; the output layer is
    one-hot. ``n_classes`` defaults to the output layer's size. The same ``seed`` gives the same arrays.
    """
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ConfigError(f"layers: need at least two layers of at least one node, got {sizes}")
    classes = sizes[-1] if n_classes is None else int(n_classes)
    if classes < 2:
        raise ConfigError(f"classes: need at least 2 classes, got {classes}")
    if sizes[-1] != classes:
        raise ConfigError(f"classes: the output layer has {sizes[-1]} nodes but {classes} classes were asked")
    config = config or ProcessingConfig()
    rng = np.random.default_rng(seed)

    n_inner = sum(sizes[:-1])
    high = np.maximum(rng.random(n_inner), rng.random(n_inner))
    low = np.minimum(rng.random((n_inner, classes)), rng.random((n_inner, classes))) ** 2
    favourite = rng.integers(0, classes, n_inner)
    inner = low
    inner[np.arange(n_inner), favourite] = high
    starts = np.concatenate([[0], np.cumsum(sizes[:-1])])
    for begin, end in itertools.pairwise(starts):
        inner[begin:end] /= inner[begin:end].max()  # each layer peaks at 1
    importance = np.concatenate([inner, one_hot_output(sizes[-1], classes)]).astype(np.float32)

    source, target = dense_edges(sizes)
    network = Network(
        layer_sizes=np.asarray(sizes, np.int64),
        node_importance=importance,
        node_position=grid_layout(sizes, layer_width=config.layer_width, layer_distance=config.layer_distance),
        edge_source=source,
        edge_target=target,
        edge_weight=np.zeros(source.shape[0], np.float32),
        edge_importance=rng.random((source.shape[0],), dtype=np.float32),
        class_names=tuple(str(k) for k in range(classes)),
        metadata={"source": json.dumps({"generator": "random", "layers": sizes, "seed": seed})},
    )
    network.validate()
    return network
