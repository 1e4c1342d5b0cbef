"""The Network data type: a layered graph with per-class importance, positions and optional polylines.

Everything is a numpy array (no Python object per node or edge) so that a 784-1024-1024-10 network with
1.9 M edges is cheap to build, validate and save. Conventions, fixed for every stage:

- Nodes are numbered globally in layer order, input layer first; layer ``l`` holds the nodes
  ``layer_starts[l] : layer_starts[l + 1]``.
- Edges run forward: from a node of layer ``l`` to a node of a later layer, usually ``l + 1``; an edge to a layer
  beyond ``l + 1`` is a skip (a residual or concatenation shortcut). Dense layers list their edges source-major,
  so the edges of gap ``l`` are ``W_l.T.ravel()`` for a torch weight ``W_l`` of shape ``(n_{l+1}, n_l)``.
- Every layer has a name and a kind (``"input"``, ``"linear"``, ``"conv"``, ``"add"``, …); networks built
  without them get :func:`default_layer_names` and :func:`default_layer_kinds`.
- ``node_position`` is (x, y, z) with z the layer axis; x, y lie in the layer's square slice.
- A processed network carries one polyline per edge in CSR form: edge ``e`` is
  ``edge_points[edge_offsets[e] : edge_offsets[e + 1]]``, first point on the source, last on the target.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from nnscape.errors import FormatError

__all__ = ["MAX_NODES", "Network", "default_layer_kinds", "default_layer_names", "dense_edges"]

Kind = Literal["network", "processed"]

# Node indices are int32 in the file, so a network holds at most this many nodes.
MAX_NODES = 2**31 - 1
MAX_LAYER_NAME_LENGTH = 200
# A layer kind is a short lowercase word, so the viewer can show or style it without escaping.
LAYER_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")
# An optional metadata entry that readers interpret: a count of edges, so a non-negative decimal integer.
_COUNT = re.compile(r"0|[1-9][0-9]{0,18}")


def default_layer_names(n_layers: int) -> tuple[str, ...]:
    """``("input", "hidden 1", …, "output")``: the names of layers that were not named (version 1 files)."""
    return ("input", *(f"hidden {i}" for i in range(1, n_layers - 1)), "output")[:n_layers]


def default_layer_kinds(n_layers: int) -> tuple[str, ...]:
    """``("input", "linear", …)``: the kinds of layers that were not given one (version 1 files are MLPs)."""
    return ("input", *("linear",) * (n_layers - 1))[:n_layers]


def dense_edges(layer_sizes: Sequence[int]) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Source and target indices of a fully connected layered graph, source-major per gap.

    Returns two ``(E,) int32`` arrays, ``E = sum(n_l * n_{l+1})``.
    """
    sizes = [int(n) for n in layer_sizes]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    sources, targets = [], []
    for gap in range(len(sizes) - 1):
        n_in, n_out = sizes[gap], sizes[gap + 1]
        src = np.repeat(np.arange(n_in, dtype=np.int64), n_out) + starts[gap]
        dst = np.tile(np.arange(n_out, dtype=np.int64), n_in) + starts[gap + 1]
        sources.append(src)
        targets.append(dst)
    if not sources:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    return np.concatenate(sources).astype(np.int32), np.concatenate(targets).astype(np.int32)


@dataclass(frozen=True, eq=False)
class Network:
    """A layered network with importance; see the module docstring for conventions.

    Attributes
    ----------
    layer_sizes : (L,) int64
        Nodes per layer, input first, output last; ``L >= 2``.
    node_importance : (N, C) float32
        Per-class importance in [0, 1]; each layer peaks at 1 (unless all zero); output layer one-hot.
    node_position : (N, 3) float32
        x, y in the layer slice, z along the layer axis.
    edge_source, edge_target : (E,) int32
        Global node indices; the target lies in the layer after the source's.
    edge_weight : (E,) float32
        The trained weight (0 for random networks).
    edge_importance : (E,) float32
        Edge importance in [0, 1].
    edge_offsets : (E + 1,) int64 or None
        Processed networks only: CSR offsets into ``edge_points``.
    edge_points : (S, 3) float32 or None
        Processed networks only: polyline points.
    class_names : tuple of str
        One name per class, ``C >= 2``.
    layer_names, layer_kinds : tuple of str
        One non-empty name (at most 200 characters) and one kind (a lowercase word such as ``"linear"``) per
        layer; left empty, they are filled with :func:`default_layer_names` and :func:`default_layer_kinds`.
    metadata : mapping of str to str
        Optional descriptive entries (``source``, ``processing_config``, statistics); the file's own keys
        (``format``, ``version``, ``kind``, ``class_names``, ``layer_names``, ``layer_kinds``, ``created_by``)
        are written by :mod:`nnscape.io`. ``pruned_edges``, when present, is a non-negative decimal integer.
    """

    layer_sizes: npt.NDArray[np.int64]
    node_importance: npt.NDArray[np.float32]
    node_position: npt.NDArray[np.float32]
    edge_source: npt.NDArray[np.int32]
    edge_target: npt.NDArray[np.int32]
    edge_weight: npt.NDArray[np.float32]
    edge_importance: npt.NDArray[np.float32]
    class_names: tuple[str, ...]
    layer_names: tuple[str, ...] = ()
    layer_kinds: tuple[str, ...] = ()
    edge_offsets: npt.NDArray[np.int64] | None = None
    edge_points: npt.NDArray[np.float32] | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Networks built without layer names or kinds get the defaults; validate() checks what was given.
        sizes = self.layer_sizes
        if isinstance(sizes, np.ndarray) and sizes.ndim == 1:
            if not self.layer_names:
                object.__setattr__(self, "layer_names", default_layer_names(sizes.shape[0]))
            if not self.layer_kinds:
                object.__setattr__(self, "layer_kinds", default_layer_kinds(sizes.shape[0]))

    # -- derived sizes ---------------------------------------------------------------------------------

    @property
    def kind(self) -> Kind:
        """``"processed"`` when the network carries polylines, else ``"network"``."""
        return "processed" if self.edge_offsets is not None else "network"

    @property
    def n_layers(self) -> int:
        return int(self.layer_sizes.shape[0])

    @property
    def n_nodes(self) -> int:
        return int(self.node_importance.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_source.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_samples(self) -> int:
        """Polyline points of a processed network; 0 otherwise."""
        return 0 if self.edge_points is None else int(self.edge_points.shape[0])

    @property
    def layer_starts(self) -> npt.NDArray[np.int64]:
        """``(L + 1,) int64``: first global node index of each layer, then ``N``."""
        return np.concatenate([[0], np.cumsum(self.layer_sizes)]).astype(np.int64)

    @property
    def node_layer(self) -> npt.NDArray[np.int64]:
        """``(N,) int64``: the layer of each node."""
        return np.repeat(np.arange(self.n_layers, dtype=np.int64), self.layer_sizes)

    @property
    def edge_layer(self) -> npt.NDArray[np.int64]:
        """``(E,) int64``: the layer of each edge's source node, i.e. the index of the (first) gap it crosses."""
        return self.node_layer[self.edge_source]

    @property
    def edge_span(self) -> npt.NDArray[np.int64]:
        """``(E,) int64``: how many layer gaps each edge crosses; 1 for ordinary edges, more for skips."""
        layers = self.node_layer
        span: npt.NDArray[np.int64] = layers[self.edge_target] - layers[self.edge_source]
        return span

    def pruning_scores(self) -> npt.NDArray[np.float64]:
        """``(E,) float64``: edge importance × the source node's importance averaged over classes.

        The pruning score (docs/importance.md, section 2), shared by processing (``prune_percentage``) and the pruning
        curves of :mod:`nnscape.evaluation`; the lowest scores are pruned first, over all layers together.
        """
        source_mean = self.node_importance.astype(np.float64).mean(axis=1)[self.edge_source]
        scores: npt.NDArray[np.float64] = self.edge_importance.astype(np.float64) * source_mean
        return scores

    # -- building and copying ----------------------------------------------------------------------------

    def with_changes(self, **changes: object) -> Network:
        """A copy with some fields replaced, validated (the original is never mutated)."""
        network = replace(self, **changes)  # type: ignore[arg-type]
        network.validate()
        return network

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write this network to a ``.nnscape`` file atomically (see :func:`nnscape.io.save`)."""
        from nnscape.io import save

        save(self, path)

    # -- validation --------------------------------------------------------------------------------------

    def validate(self) -> None:
        """Check every invariant of the format; raise :class:`FormatError` naming the broken field."""
        sizes = _array(self.layer_sizes, "layer_sizes", np.int64, 1)
        if sizes.shape[0] < 2:
            raise FormatError(f"layer_sizes: need at least 2 layers, got {sizes.shape[0]}")
        if (sizes < 1).any():
            raise FormatError(f"layer_sizes: every layer needs at least 1 node, got {sizes.tolist()}")
        # Summed as Python integers: an int64 sum of hostile sizes could wrap around to a small count.
        n_nodes = sum(sizes.tolist())
        if n_nodes > MAX_NODES:
            raise FormatError(f"layer_sizes: {n_nodes} nodes in all; at most {MAX_NODES} (int32 node indices)")
        _expect_layer_labels(self.layer_names, self.layer_kinds, sizes.shape[0])
        _expect_metadata(self.metadata)
        n_classes = len(self.class_names)
        if n_classes < 2:
            raise FormatError(f"class_names: need at least 2 classes, got {n_classes}")
        if not all(isinstance(name, str) for name in self.class_names):
            raise FormatError("class_names: every class name must be a string")

        importance = _array(self.node_importance, "node_importance", np.float32, 2)
        _expect_shape(importance, "node_importance", (n_nodes, n_classes))
        _expect_unit_interval(importance, "node_importance")
        position = _array(self.node_position, "node_position", np.float32, 2)
        _expect_shape(position, "node_position", (n_nodes, 3))
        _expect_finite(position, "node_position")

        source = _array(self.edge_source, "edge_source", np.int32, 1)
        n_edges = source.shape[0]
        target = _array(self.edge_target, "edge_target", np.int32, 1)
        _expect_shape(target, "edge_target", (n_edges,))
        weight = _array(self.edge_weight, "edge_weight", np.float32, 1)
        _expect_shape(weight, "edge_weight", (n_edges,))
        _expect_finite(weight, "edge_weight")
        edge_importance = _array(self.edge_importance, "edge_importance", np.float32, 1)
        _expect_shape(edge_importance, "edge_importance", (n_edges,))
        _expect_unit_interval(edge_importance, "edge_importance")
        _expect_edges_between_layers(source, target, sizes)

        if (self.edge_offsets is None) != (self.edge_points is None):
            raise FormatError("edge_offsets/edge_points: a processed network needs both, a plain one neither")
        if self.edge_offsets is not None and self.edge_points is not None:
            offsets = _array(self.edge_offsets, "edge_offsets", np.int64, 1)
            _expect_shape(offsets, "edge_offsets", (n_edges + 1,))
            points = _array(self.edge_points, "edge_points", np.float32, 2)
            if points.ndim != 2 or points.shape[1] != 3:
                raise FormatError(f"edge_points: expected shape (S, 3), got {tuple(points.shape)}")
            _expect_finite(points, "edge_points")
            if offsets[0] != 0 or offsets[-1] != points.shape[0]:
                raise FormatError(
                    f"edge_offsets: must start at 0 and end at the point count {points.shape[0]}, "
                    f"got {int(offsets[0])} … {int(offsets[-1])}"
                )
            if (np.diff(offsets) < 2).any():
                bad = int(np.argmax(np.diff(offsets) < 2))
                raise FormatError(
                    f"edge_offsets: not increasing by at least 2 (a polyline needs both ends) at edge {bad}"
                )


def _array(value: object, name: str, dtype: type[np.generic], ndim: int) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise FormatError(f"{name}: expected a numpy array, got {type(value).__name__}")
    if value.dtype != dtype:
        raise FormatError(f"{name}: expected dtype {np.dtype(dtype).name}, got {value.dtype.name}")
    if value.ndim != ndim:
        raise FormatError(f"{name}: expected {ndim} dimension(s), got shape {tuple(value.shape)}")
    return value


def _expect_shape(value: np.ndarray, name: str, shape: tuple[int, ...]) -> None:
    if tuple(value.shape) != shape:
        raise FormatError(f"{name}: expected shape {shape}, got {tuple(value.shape)}")


def _expect_finite(value: np.ndarray, name: str) -> None:
    if not np.isfinite(value).all():
        index = np.unravel_index(int(np.argmin(np.isfinite(value))), value.shape)
        raise FormatError(f"{name}: non-finite value {value[index]} at index {tuple(int(i) for i in index)}")


def _expect_unit_interval(value: np.ndarray, name: str) -> None:
    _expect_finite(value, name)
    if value.size and (value.min() < 0 or value.max() > 1):
        raise FormatError(f"{name}: values must lie in [0, 1], got range [{float(value.min())}, {float(value.max())}]")


def _expect_edges_between_layers(source: np.ndarray, target: np.ndarray, sizes: np.ndarray) -> None:
    n_nodes = int(sizes.sum())
    for name, index in (("edge_source", source), ("edge_target", target)):
        if index.size and (index.min() < 0 or index.max() >= n_nodes):
            bad = int(index.min()) if index.min() < 0 else int(index.max())
            raise FormatError(f"{name}: node index {bad} out of range [0, {n_nodes})")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    source_layer = np.searchsorted(starts, source, side="right") - 1
    target_layer = np.searchsorted(starts, target, side="right") - 1
    wrong = target_layer <= source_layer
    if wrong.any():
        e = int(np.argmax(wrong))
        raise FormatError(
            f"edge_target: edge {e} runs from node {int(source[e])} (layer {int(source_layer[e])}) to node "
            f"{int(target[e])} (layer {int(target_layer[e])}); edges must run to a later layer"
        )


def _expect_layer_labels(names: tuple[str, ...], kinds: tuple[str, ...], n_layers: int) -> None:
    for field_name, labels in (("layer_names", names), ("layer_kinds", kinds)):
        if not isinstance(labels, tuple) or not all(isinstance(label, str) for label in labels):
            raise FormatError(f"{field_name}: expected a tuple of strings, got {type(labels).__name__}")
        if len(labels) != n_layers:
            raise FormatError(f"{field_name}: expected one entry per layer ({n_layers}), got {len(labels)}")
    for index, name in enumerate(names):
        if not 1 <= len(name) <= MAX_LAYER_NAME_LENGTH:
            raise FormatError(
                f"layer_names: layer {index} needs a name of 1 to {MAX_LAYER_NAME_LENGTH} characters, got {len(name)}"
            )
    for index, kind in enumerate(kinds):
        if not LAYER_KIND.fullmatch(kind):
            raise FormatError(
                f"layer_kinds: layer {index} has kind {kind[:40]!r}; expected a lowercase word "
                f"(a-z, 0-9, _, at most 32 characters)"
            )


def _expect_metadata(metadata: Mapping[str, str]) -> None:
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in metadata.items()):
        raise FormatError("metadata: keys and values must be strings")
    pruned = metadata.get("pruned_edges")
    if pruned is not None and not _COUNT.fullmatch(pruned):
        raise FormatError(f"pruned_edges: expected a non-negative decimal integer, got {pruned[:40]!r}")
