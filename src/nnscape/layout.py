"""Initial layout (docs/design.md, "Layout"): each layer a square grid slice, layers spaced along z.

Pure numpy so that generating and inspecting networks never needs torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["grid_layout", "layer_z"]


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
