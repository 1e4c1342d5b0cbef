"""Random networks of any layer sizes, for trying the pipeline without a model (layout: docs/design.md)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

import numpy as np

from nnscape.builder import layered_network
from nnscape.config import ProcessingConfig
from nnscape.errors import ConfigError
from nnscape.limits import check_generated_size, check_seed
from nnscape.network import Network

__all__ = ["random_network"]


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
    Sizes beyond :mod:`nnscape.limits` (and files over its ``MAX_GENERATED_BYTES``) are refused before allocating.
    """
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ConfigError(f"layers: need at least two layers of at least one node, got {sizes}")
    classes = sizes[-1] if n_classes is None else int(n_classes)
    if classes < 2:
        raise ConfigError(f"classes: need at least 2 classes, got {classes}")
    if sizes[-1] != classes:
        raise ConfigError(f"classes: the output layer has {sizes[-1]} nodes but {classes} classes were asked")
    check_generated_size(sizes, classes)
    check_seed(seed)
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
    n_edges = sum(a * b for a, b in itertools.pairwise(sizes))
    return layered_network(
        sizes,
        inner_importance=inner,
        edge_weight=np.zeros(n_edges, np.float32),
        edge_importance=rng.random((n_edges,), dtype=np.float32),
        class_names=[str(k) for k in range(classes)],
        metadata={"source": json.dumps({"generator": "random", "layers": sizes, "seed": seed})},
        config=config,
    )
