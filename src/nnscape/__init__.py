"""nnscape: a trained neural network as a 3D, importance-coloured, edge-bundled landscape.

The stages that need torch (``importance``, ``process``), the server (``view``) and the notebook widget
(``show``) are imported on first use, so ``import nnscape`` and ``nnscape info`` stay fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from nnscape.config import ProcessingConfig, RenderConfig
from nnscape.errors import Cancelled, ConfigError, DataError, FormatError, ModelError, NnscapeError
from nnscape.generate import random_network
from nnscape.io import load, save
from nnscape.network import Network

if TYPE_CHECKING:
    from nnscape.importance import importance

    IMPORTANCE_METHODS: tuple[str, ...]
    from nnscape.processing import process
    from nnscape.server import view
    from nnscape.widget import show

__all__ = [
    "IMPORTANCE_METHODS",
    "Cancelled",
    "ConfigError",
    "DataError",
    "FormatError",
    "ModelError",
    "Network",
    "NnscapeError",
    "ProcessingConfig",
    "RenderConfig",
    "__version__",
    "importance",
    "load",
    "process",
    "random_network",
    "save",
    "show",
    "view",
]

_LAZY = {"process": "nnscape.processing", "view": "nnscape.server", "show": "nnscape.widget"}


def __getattr__(name: str) -> Any:
    if name == "importance":  # the package, which calls through to its function (see nnscape.importance)
        return import_module("nnscape.importance")
    if name == "IMPORTANCE_METHODS":  # the registry's names, default first
        return tuple(import_module("nnscape.importance").METHODS)
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nnscape' has no attribute {name!r}")
