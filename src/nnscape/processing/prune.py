"""Pruning (docs/processing.md, "Pruning"): drop the edges with the lowest score before bundling."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nnscape.network import Network

__all__ = ["prune_mask"]


def prune_mask(network: Network, fraction: float) -> npt.NDArray[np.bool_]:
    """``(E,) bool``: True for the edges kept when the ``⌊fraction · E⌋`` lowest scores are dropped.

    Scores are :meth:`Network.pruning_scores`, ranked over all layers together; ties go by edge order
    (stable sort), so the result is deterministic.
    """
    n_drop = int(np.floor(fraction * network.n_edges))
    keep = np.ones(network.n_edges, dtype=bool)
    if n_drop > 0:
        keep[np.argsort(network.pruning_scores(), kind="stable")[:n_drop]] = False
    return keep
