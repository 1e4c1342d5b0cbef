"""Pruning (ALGORITHM.md section 1.2): drop the edges with the lowest score before bundling."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nnscape.network import Network

__all__ = ["prune_mask", "prune_scores"]


def prune_scores(network: Network) -> npt.NDArray[np.float32]:
    """``(E,) float32``: edge importance × the source node's importance averaged over classes."""
    source_mean = network.node_importance.mean(axis=1)[network.edge_source]
    return np.asarray(network.edge_importance * source_mean, dtype=np.float32)


def prune_mask(network: Network, fraction: float) -> npt.NDArray[np.bool_]:
    """``(E,) bool``: True for the edges kept when the ``⌊fraction · E⌋`` lowest scores are dropped.

    Ranked over all layers together; ties go by edge order (stable sort), so the result is deterministic.
    """
    n_drop = int(np.floor(fraction * network.n_edges))
    keep = np.ones(network.n_edges, dtype=bool)
    if n_drop > 0:
        keep[np.argsort(prune_scores(network), kind="stable")[:n_drop]] = False
    return keep
