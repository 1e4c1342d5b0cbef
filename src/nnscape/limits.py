"""Bounds on every size a user or a file can ask for, checked before anything of that size is allocated.

Each limit is far above what the tool is meant for (the thesis networks have ~10^5 edges and 10 classes) and
far below what would exhaust a workstation; docs/limits.md lists them with the reasons. A refusal is one
:class:`~nnscape.errors.ConfigError` line naming the value and the limit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from nnscape.errors import ConfigError

__all__ = [
    "MAX_CLASSES",
    "MAX_EDGES",
    "MAX_EXPLAINED_CLASSES",
    "MAX_GENERATED_BYTES",
    "MAX_IMPORTANCE_VALUES",
    "MAX_LAYERS",
    "MAX_PORT",
    "MAX_SEED",
    "check_generated_size",
    "check_layer_sizes",
    "check_seed",
    "network_bytes",
]

# ImageNet-21k has ~22 000 classes; every class is a column of the node importance and a name in the header.
MAX_CLASSES = 100_000
# Outputs of a model whose importance is estimated: every class is one more copy of the per-class work (and
# one more column to fine-tune), so the importance front end stops far below MAX_CLASSES.
MAX_EXPLAINED_CLASSES = 100
# Layers of one network (a deeper MLP is not something a landscape of slices can show).
MAX_LAYERS = 64
# Edges (= weights of the Linear layers): int32 indices in the file, ~16 bytes each there and ~16 more in
# training (weight, gradient, two Adam moments).
MAX_EDGES = 100_000_000
# Entries of the (nodes × classes) float32 importance matrix: 400 MB at the limit.
MAX_IMPORTANCE_VALUES = 100_000_000
# A random network from ``generate`` (CLI or server) is a demo: at most this many bytes on disk.
MAX_GENERATED_BYTES = 256 * 1024 * 1024
# Seeds feed numpy (any non-negative integer) and torch (up to 2^64 - 1); one range for both and for JSON.
MAX_SEED = 2**32 - 1
# TCP ports; Python's socket would otherwise take 99999 modulo 65536 and serve somewhere else.
MAX_PORT = 65535

_EDGE_BYTES = 16  # source, target (int32), weight, importance (float32)
_NODE_BYTES = 3 * 4  # position (float32 x, y, z)
_CLASS_VALUE_BYTES = 4  # one float32 of node importance
_LAYER_BYTES = 8  # layer_sizes int64


def check_layer_sizes(layer_sizes: Sequence[int], n_classes: int, *, what: str = "layers") -> None:
    """Refuse layer sizes whose edges, layers or importance matrix exceed the limits above."""
    sizes = [int(n) for n in layer_sizes]
    shown = _shown(sizes)
    if len(sizes) > MAX_LAYERS:
        raise ConfigError(f"{what}: {len(sizes)} layers; at most {MAX_LAYERS} are allowed")
    if n_classes > MAX_CLASSES:
        raise ConfigError(f"{what}: {n_classes} classes; at most {MAX_CLASSES} are allowed")
    edges = sum(a * b for a, b in itertools.pairwise(sizes))
    if edges > MAX_EDGES:
        raise ConfigError(f"{what}: {shown} make {edges} edges; at most {MAX_EDGES} are allowed")
    values = sum(sizes) * n_classes
    if values > MAX_IMPORTANCE_VALUES:
        raise ConfigError(
            f"{what}: {shown} with {n_classes} classes make {values} node importance values; "
            f"at most {MAX_IMPORTANCE_VALUES} are allowed"
        )


def check_generated_size(layer_sizes: Sequence[int], n_classes: int, *, what: str = "layers") -> None:
    """:func:`check_layer_sizes`, and the file must stay within :data:`MAX_GENERATED_BYTES`."""
    check_layer_sizes(layer_sizes, n_classes, what=what)
    size = network_bytes(layer_sizes, n_classes)
    if size > MAX_GENERATED_BYTES:
        raise ConfigError(
            f"{what}: {_shown(list(layer_sizes))} with {n_classes} classes make a file of {size} bytes; "
            f"at most {MAX_GENERATED_BYTES} bytes are allowed"
        )


def network_bytes(layer_sizes: Sequence[int], n_classes: int) -> int:
    """The size of the tensors of an unprocessed network file of these layers and classes."""
    sizes = [int(n) for n in layer_sizes]
    edges = sum(a * b for a, b in itertools.pairwise(sizes))
    return edges * _EDGE_BYTES + sum(sizes) * (_NODE_BYTES + n_classes * _CLASS_VALUE_BYTES) + len(sizes) * _LAYER_BYTES


def check_seed(seed: object, *, what: str = "seed") -> int:
    """A seed as an ``int`` in ``[0, MAX_SEED]``; anything else is a :class:`ConfigError`."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{what}: {_shown(seed)} is not allowed; expected a whole number in [0, {MAX_SEED}]")
    return seed


def _shown(value: object, limit: int = 80) -> str:
    """A value for an error line, cut short (a 5 000-digit number or a 10^6-entry list stays one short line)."""
    text = repr(value) if not isinstance(value, int) or math.log10(abs(value) + 1) < limit else "a huge number"
    return text if len(text) <= limit else text[: limit - 1] + "…"
