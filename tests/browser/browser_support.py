"""The networks the browser tests serve, and pixel helpers beside those of :mod:`nnscape.figures`."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nnscape.figures import INK_THRESHOLD, ViewerPage, ink

__all__ = ["MANY_CLASSES", "MANY_CLASSES_LAYERS", "PLAIN", "PROCESSED", "TINY_LAYERS", "ViewerPage", "ink"]

# The networks every browser test session serves (see conftest.py).
PROCESSED = "tiny.processed.nnscape"
PLAIN = "tiny.nnscape"
TINY_LAYERS = (16, 9, 10)
# More classes than the ten palette colours.
MANY_CLASSES = "many-classes.nnscape"
MANY_CLASSES_LAYERS = (8, 6, 13)


def changed_pixels(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> int:
    """How many pixels of two pictures clearly differ (some channel by more than the ink threshold)."""
    return int((np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > INK_THRESHOLD).sum())
