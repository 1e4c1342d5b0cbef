"""Processing (docs/processing.md): layout, pruning, class-aware node and edge bundling.

:func:`process` turns a network with importance into a ``kind="processed"`` network with bundled edge
polylines; :func:`quality` measures how well a processed network is bundled. See docs/processing.md.
"""

from nnscape.processing.pipeline import process
from nnscape.processing.quality import quality

__all__ = ["process", "quality"]
