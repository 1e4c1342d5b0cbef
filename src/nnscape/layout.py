"""Initial layout (docs/design.md, "Layout"): each layer a square grid slice, layers spaced along z; the
processing pipeline then sorts the cells of every layer after the first by class (docs/processing.md).

Pure numpy so that generating and inspecting networks never needs torch.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["class_layout", "grid_layout", "layer_z"]


def layer_z(n_layers: int, *, layer_distance: float) -> npt.NDArray[np.float32]:
    """``(L,) float32``: z of each layer, centred on 0: ``z_l = (l - (L - 1) / 2) * layer_distance``."""
    return ((np.arange(n_layers) - (n_layers - 1) / 2) * layer_distance).astype(np.float32)


def grid_layout(layer_sizes: Sequence[int], *, layer_width: float, layer_distance: float) -> npt.NDArray[np.float32]:
    """``(N, 3) float32`` node positions: node i of a layer of n sits at column ``i mod q``, row ``i // q``.

    ``q = ceil(sqrt(n))`` and the spacing is ``layer_width / q``, cell-centred, so a 784-node input layer shows
    the 28×28 image (row 0 at the top, +y up); the used rows are centred vertically, so every node lies inside the slice
    ``[-layer_width/2, layer_width/2]²``.
    """
    zs = layer_z(len(layer_sizes), layer_distance=layer_distance)
    blocks = []
    for n, z in zip(layer_sizes, zs, strict=True):
        q = math.ceil(math.sqrt(int(n)))
        spacing = layer_width / q
        rows = math.ceil(int(n) / q)
        index = np.arange(int(n))
        x = (index % q + 0.5) * spacing - layer_width / 2
        y = (rows / 2 - (index // q + 0.5)) * spacing
        blocks.append(np.stack([x, y, np.full(int(n), z)], axis=1))
    return np.concatenate(blocks).astype(np.float32)


def class_layout(
    layer_sizes: Sequence[int],
    importance: npt.NDArray[np.floating],
    *,
    layer_width: float,
    layer_distance: float,
) -> npt.NDArray[np.float32]:
    """The grid layout with every layer after the first reordered by class: ``(N, 3) float32``.

    Class k owns the direction ``2πk/C`` of the slice; a node with unit class vector u aims at
    ``Σ_k u_k² · (cos, sin)(2πk/C)`` (a one-class node at the rim of its sector, a mixed or unimportant one
    nearer the centre). The layer's nodes are sorted by the aim's y into the grid's rows (top row first) and
    within a row by x, so each lands in the cell of the same rank as its aim: O(n log n), where an optimal
    assignment took seconds on 1 024 nodes. Stable sorts keep equal aims (e.g. no importance) in grid order.
    The first layer keeps its order (for images, the picture).
    """
    positions = grid_layout(layer_sizes, layer_width=layer_width, layer_distance=layer_distance)
    n_classes = importance.shape[1]
    angle = 2 * np.pi * np.arange(n_classes) / n_classes
    directions = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    norm = np.linalg.norm(importance, axis=1, keepdims=True)
    units = np.where(norm > 0, importance / np.maximum(norm, 1e-30), 1 / math.sqrt(n_classes))
    # Rounded so that rounding noise (sin π ≈ 1e-16) does not order what is equal.
    aims = np.round((units**2) @ directions, 6)
    ends = np.cumsum(layer_sizes)
    for begin, end in itertools.pairwise(ends):
        q = math.ceil(math.sqrt(int(end - begin)))
        by_row = np.argsort(-aims[begin:end, 1], kind="stable")
        order = np.concatenate(
            [row[np.argsort(aims[begin + row, 0], kind="stable")] for row in np.split(by_row, range(q, end - begin, q))]
        )
        positions[begin + order] = positions[begin:end].copy()
    return positions
