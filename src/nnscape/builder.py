"""The one builder of Networks from layers, shared by importance and ``generate``.

A layered network has edges between consecutive layers (all pairs unless given), is laid out on the initial
grid, and has a one-hot output layer: output node k is important for class k.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from nnscape.config import ProcessingConfig
from nnscape.layout import grid_layout
from nnscape.network import Network, dense_edges

__all__ = ["layered_network", "one_hot_output"]


def one_hot_output(n_outputs: int, n_classes: int) -> npt.NDArray[np.float32]:
    """``(n_outputs, C) float32``: output node k is important for class k only (rows past C stay 0)."""
    importance = np.zeros((n_outputs, n_classes), np.float32)
    diagonal = min(n_outputs, n_classes)
    importance[np.arange(diagonal), np.arange(diagonal)] = 1.0
    return importance


def layered_network(
    layer_sizes: Sequence[int],
    *,
    inner_importance: npt.ArrayLike,
    edges: tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]] | None = None,
    edge_weight: npt.ArrayLike,
    edge_importance: npt.ArrayLike,
    class_names: Sequence[str],
    metadata: Mapping[str, str],
    layer_names: Sequence[str] = (),
    layer_kinds: Sequence[str] = (),
    config: ProcessingConfig | None = None,
) -> Network:
    """A validated dense Network of kind "network".

    ``inner_importance`` is ``(N - n_out, C)``: the per-class importance of every node but the outputs, layer
    by layer; ``edges`` are global ``(source, target)`` indices, by default every pair of consecutive layers
    in :func:`~nnscape.network.dense_edges` order (source-major per gap, ``W_l.T.ravel()`` for a torch weight
    ``W_l``); ``edge_weight`` and ``edge_importance`` are ``(E,)`` in that order. ``layer_names`` and ``layer_kinds``
    (one per layer) default to :func:`~nnscape.network.default_layer_names` and ``default_layer_kinds``. The
    layout uses ``config``'s layer width and distance.
    """
    sizes = [int(n) for n in layer_sizes]
    config = config or ProcessingConfig()
    inner = np.asarray(inner_importance, np.float32)
    source, target = dense_edges(sizes) if edges is None else edges
    network = Network(
        layer_sizes=np.asarray(sizes, np.int64),
        node_importance=np.concatenate([inner, one_hot_output(sizes[-1], len(class_names))]).astype(np.float32),
        node_position=grid_layout(sizes, layer_width=config.layer_width, layer_distance=config.layer_distance),
        edge_source=source,
        edge_target=target,
        edge_weight=np.asarray(edge_weight, np.float32),
        edge_importance=np.asarray(edge_importance, np.float32),
        class_names=tuple(class_names),
        layer_names=tuple(layer_names),
        layer_kinds=tuple(layer_kinds),
        metadata=dict(metadata),
    )
    network.validate()
    return network
