"""Pruning curves: does the importance score know which weights matter? (docs/importance.md, section 3)

Rank the edges of a trained model by a score, zero the weights of the lowest-ranked fraction (0, 5, …, 100 %
of all edges, ranked over all layers together) in a copy of the model, and measure test accuracy. A score that
knows what matters keeps accuracy far longer than random order and than plain weight magnitude. The orders:

- ``importance``: γ × |w| least important first, score = edge importance × the source node's importance
  averaged over classes (the pruning score of docs/importance.md, section 2);
- ``gamma``: the source node's mean importance alone (all edges of a node share it; ties broken at random);
- ``magnitude``: the edge importance alone, |w| / max |W_l| per layer (the thesis's "edge α");
- ``random``: uniform random order, the mean over several seeds;
- ``importance_most_first``: γ × |w| most important first.

Per class: rank by class-k importance (edge importance × the source node's class-k importance), prune
least-first, and compare accuracy on the test examples of class k with accuracy on the other classes. A score
that is really per-class keeps class k well while the others collapse.

Each step is one forward pass over the whole test set with masked copies of the Linear weights (existing batch
norms folded in, as in the importance file); the caller's model is never touched.

Convolutional models (and any model with shortcuts) are pruned structurally instead: whole hidden channels
(nodes), ranked over all hidden layers together, are zeroed in the forward pass. The orders
(:data:`CHANNEL_ORDERS`): ``importance`` (the node's importance averaged over classes, least first),
``l1_filter`` (the L1 norm of the filter that produces the channel, over all its inputs (a concatenation's
too), over its layer's largest: Li et al.
2017, "Pruning Filters for Efficient ConvNets"), ``random``, and ``importance_most_first``; per class, by the
node's class-k importance.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from nnscape.errors import DataError, ModelError
from nnscape.files import atomic_write_bytes
from nnscape.intake import LayerChain, layer_chain, mlp_chain
from nnscape.network import Network
from nnscape.progress import ProgressCallback, check_cancelled, report

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CHANNEL_ORDERS",
    "ORDERS",
    "ORDER_LABELS",
    "PRUNE_FRACTIONS",
    "PruningCurves",
    "class_edge_scores",
    "csv_bytes",
    "edge_scores",
    "plot_per_class",
    "plot_pruning_curves",
    "pruning_curves",
    "style_axes",
    "write_report",
]

# 0, 5, …, 100 % of all edges, as in the thesis's plots.
PRUNE_FRACTIONS: npt.NDArray[np.float64] = np.linspace(0.0, 1.0, 21)
ORDERS = ("importance", "gamma", "magnitude", "random", "importance_most_first")
ORDER_LABELS: Mapping[str, str] = {
    "importance": "γ × |w|, least important first",
    "gamma": "γ only (source node)",
    "magnitude": "|w| only (edge importance)",
    "random": "random order",
    "importance_most_first": "γ × |w|, most important first",
}
CHANNEL_ORDERS = ("importance", "l1_filter", "random", "importance_most_first")
CHANNEL_ORDER_LABELS: Mapping[str, str] = {
    "importance": "γ, least important channel first",
    "l1_filter": "L1 norm of the filter (Li et al. 2017)",
    "random": "random order",
    "importance_most_first": "γ, most important channel first",
}
RANDOM_SEEDS = (0, 1, 2)
# The thesis reports accuracy at 90 % of edges pruned; the plot marks it.
HEADLINE_FRACTION = 0.9
# Two weights agree when they differ by less than this (float32 round trips through files).
_WEIGHT_TOLERANCE = 1e-5
_FIGURE_SIZE = (7.5, 6.0)
_DPI = 110
_LINE_WIDTH = 2.2
_ORDER_COLOURS: Mapping[str, str] = {
    "importance": "tab:orange",
    "gamma": "tab:blue",
    "magnitude": "tab:green",
    "random": "tab:gray",
    "importance_most_first": "tab:red",
    "l1_filter": "tab:green",
}
_HEADLINE_COLOUR = "tab:red"
# The per-class band spans the middle half of the classes (min-max is dominated by one odd class).
_BAND_PERCENTILES = (25, 75)


class TestSet(Protocol):
    """Anything with a test split, such as :class:`nnscape.datasets.DatasetSplits`."""

    @property
    def test_x(self) -> Any: ...

    @property
    def test_y(self) -> Any: ...


@dataclass(frozen=True, eq=False)
class PruningCurves:
    """Test accuracy against the fraction of edges pruned.

    Attributes
    ----------
    fractions : (S,) float64
        Fraction of all edges pruned at each step, in [0, 1].
    accuracy : mapping of order name to (S,) float64
        Test accuracy for each order of :data:`ORDERS` (``random`` is the mean over :data:`RANDOM_SEEDS`).
    class_names : tuple of str
        One name per class.
    class_accuracy : (C, S) float64
        Row k: accuracy on the test examples of class k when pruning by class-k importance.
    other_accuracy : (C, S) float64
        Row k: accuracy on the test examples of every other class under the same pruning.
    unit : str
        What is pruned: ``"edges"`` (an MLP's weights) or ``"channels"`` (whole hidden channels of a conv net,
        with the orders of :data:`CHANNEL_ORDERS`).
    """

    fractions: npt.NDArray[np.float64]
    accuracy: Mapping[str, npt.NDArray[np.float64]]
    class_names: tuple[str, ...]
    class_accuracy: npt.NDArray[np.float64]
    other_accuracy: npt.NDArray[np.float64]
    unit: str = "edges"

    def label(self, order: str) -> str:
        """The order's description in plots and reports."""
        return (CHANNEL_ORDER_LABELS if self.unit == "channels" else ORDER_LABELS)[order]

    def accuracy_at(self, order: str, fraction: float) -> float:
        """Accuracy of ``order`` at the step closest to ``fraction``."""
        return float(self.accuracy[order][int(np.argmin(np.abs(self.fractions - fraction)))])


# -- scores -----------------------------------------------------------------------------------------------


def edge_scores(network: Network, order: str, *, seed: int = 0) -> npt.NDArray[np.float64]:
    """``(E,) float64`` pruning score of every edge for one of :data:`ORDERS`; lowest is pruned first."""
    if order == "importance":
        return network.pruning_scores()
    if order == "importance_most_first":
        return -network.pruning_scores()
    if order == "gamma":
        source_importance: npt.NDArray[np.float64] = network.node_importance.astype(np.float64).mean(axis=1)
        return source_importance[network.edge_source]
    if order == "magnitude":
        return network.edge_importance.astype(np.float64)
    if order == "random":
        return np.random.default_rng(seed).random(network.n_edges)
    raise ValueError(f"order {order!r}: expected one of {', '.join(ORDERS)}")


def class_edge_scores(network: Network) -> npt.NDArray[np.float64]:
    """``(C, E) float64``: row k is edge importance × the source node's importance for class k."""
    source = network.node_importance.astype(np.float64)[network.edge_source]  # (E, C)
    return (network.edge_importance.astype(np.float64)[:, None] * source).T


def _ranking(scores: npt.NDArray[np.float64], seed: int) -> npt.NDArray[np.int64]:
    """``(E,) int64`` edge indices, lowest score first; ties in random order so no layer or node is favoured."""
    shuffle = np.random.default_rng(seed).permutation(scores.shape[0])
    ranking: npt.NDArray[np.int64] = shuffle[np.argsort(scores[shuffle], kind="stable")]
    return ranking


# -- pruning a copy of the model -------------------------------------------------------------------------


class _PrunableModel:
    """The model read as a Linear chain (:func:`~nnscape.intake.mlp_chain`, copies of its weights), whose
    weights can be masked edge by edge, and the test set."""

    def __init__(self, model: nn.Module, network: Network, x: torch.Tensor, y: torch.Tensor) -> None:
        self.chain = mlp_chain(model)
        self.flat_index = _edge_weight_index(network, self.chain.weights)
        self.sizes = [int(w.numel()) for w in self.chain.weights]
        weight = self.chain.weights[0]
        self.x = x.to(device=weight.device, dtype=weight.dtype)
        self.y = y.to(weight.device)

    @torch.no_grad()
    def predict(self, pruned_edges: npt.NDArray[np.int64]) -> torch.Tensor:
        """``(n,) int64`` predicted classes of the test set with the weights of ``pruned_edges`` zeroed."""
        weights = self.chain.weights
        keep = torch.ones(sum(self.sizes), dtype=weights[0].dtype, device=weights[0].device)
        keep[torch.as_tensor(self.flat_index[pruned_edges], device=keep.device)] = 0
        masked = tuple(w * m.view_as(w) for w, m in zip(weights, torch.split(keep, self.sizes), strict=True))
        return replace(self.chain, weights=masked).logits(self.x).argmax(dim=1)


def _edge_weight_index(network: Network, weights: Sequence[torch.Tensor]) -> npt.NDArray[np.int64]:
    """``(E,) int64``: position of each edge's weight in the concatenation of the flattened Linear weights."""
    sizes = network.layer_sizes.tolist()
    expected = [(sizes[gap + 1], sizes[gap]) for gap in range(len(sizes) - 1)]
    actual = [tuple(w.shape) for w in weights]
    if actual != expected:
        raise ModelError(f"network layers {sizes} do not match the model's Linear weights {actual} (shape out × in)")
    n_weights = sum(int(w.numel()) for w in weights)
    if network.n_edges != n_weights:
        raise ModelError(
            f"network has {network.n_edges} edges but the model has {n_weights} weights; evaluate the "
            "unpruned importance file of this model"
        )
    starts = network.layer_starts
    gap = network.node_layer[network.edge_source]
    row = network.edge_target.astype(np.int64) - starts[gap + 1]
    col = network.edge_source.astype(np.int64) - starts[gap]
    offsets = np.concatenate([[0], np.cumsum([int(w.numel()) for w in weights])])
    index: npt.NDArray[np.int64] = offsets[gap] + row * network.layer_sizes[gap] + col
    flat = torch.cat([w.flatten() for w in weights]).cpu().numpy()
    mismatch = np.abs(flat[index] - network.edge_weight) > _WEIGHT_TOLERANCE
    if mismatch.any():
        e = int(np.argmax(mismatch))
        raise ModelError(
            f"edge {e}: weight {float(network.edge_weight[e])} in the network but {float(flat[index[e]])} in "
            "the model; the importance file was computed from a different model"
        )
    return index


def _test_tensors(data: TestSet | tuple[Any, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = data if isinstance(data, tuple) else (data.test_x, data.test_y)
    x_t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    y_t = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).long()
    if x_t.ndim < 2 or y_t.ndim != 1 or x_t.shape[0] != y_t.shape[0] or y_t.shape[0] == 0:
        raise DataError(
            f"test data: expected x of shape (n, …) and y of shape (n,) with n > 0, got "
            f"{tuple(x_t.shape)} and {tuple(y_t.shape)}"
        )
    return x_t.float(), y_t


# -- the curves ------------------------------------------------------------------------------------------


def pruning_curves(
    model: nn.Module,
    network: Network,
    data: TestSet | tuple[Any, Any],
    *,
    fractions: npt.ArrayLike = PRUNE_FRACTIONS,
    random_seeds: Sequence[int] = RANDOM_SEEDS,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> PruningCurves:
    """Test accuracy of ``model`` with growing fractions of its edges pruned, for every order and class.

    Parameters
    ----------
    model
        A trained chain of Linear layers (see :func:`nnscape.intake.mlp_chain`); never modified: the
        pruned weights are copies.
    network
        Its importance (``kind`` network, every edge present), as from :func:`nnscape.importance`.
    data
        The test split: an object with ``test_x`` ``(n, features)`` and ``test_y`` ``(n,)`` (such as
        :class:`~nnscape.datasets.DatasetSplits`) or a tuple ``(x, y)`` of arrays or tensors.
    fractions
        ``(S,)`` fractions of all edges to prune, in [0, 1]; default 0, 0.05, …, 1.
    random_seeds
        Seeds of the random orders averaged into ``random``.
    seed
        Seed of the random tie-breaking between equal scores.
    """
    steps = np.asarray(fractions, dtype=np.float64)
    if steps.ndim != 1 or steps.size == 0 or (steps < 0).any() or (steps > 1).any():
        raise ValueError(f"fractions: expected a non-empty list of values in [0, 1], got {steps.tolist()}")
    if not random_seeds:
        raise ValueError("random_seeds: need at least one seed")
    x, y = _test_tensors(data)
    if int(y.max()) >= network.n_classes or int(y.min()) < 0:
        raise DataError(f"test labels: range [{int(y.min())}, {int(y.max())}] does not fit {network.n_classes} classes")
    chain = layer_chain(model)
    if not chain.is_mlp:
        return _channel_curves(chain, network, x, y, steps, random_seeds, seed, progress, cancel)
    prunable = _PrunableModel(model, network, x, y)
    counts = np.round(steps * network.n_edges).astype(np.int64)

    rankings: list[tuple[str, npt.NDArray[np.int64]]] = []
    for order in ORDERS:
        seeds = random_seeds if order == "random" else (seed,)
        rankings += [(order, _ranking(edge_scores(network, order, seed=s), seed)) for s in seeds]
    class_scores = class_edge_scores(network)
    total = len(rankings) + network.n_classes
    curves: dict[str, list[npt.NDArray[np.float64]]] = {order: [] for order in ORDERS}
    done = 0
    for order, ranking in rankings:
        check_cancelled(cancel)
        correct = np.array([_correct(prunable, ranking[:k]).mean() for k in counts])
        curves[order].append(correct)
        done += 1
        report(progress, "pruning", done, total)

    n_classes = network.n_classes
    class_accuracy = np.full((n_classes, steps.size), np.nan)
    other_accuracy = np.full((n_classes, steps.size), np.nan)
    labels = y.cpu().numpy()
    for k in range(n_classes):
        check_cancelled(cancel)
        ranking = _ranking(class_scores[k], seed)
        hits = [_correct(prunable, ranking[:count]) for count in counts]
        class_accuracy[k], other_accuracy[k] = _split_by_class(hits, labels == k)
        done += 1
        report(progress, "pruning", done, total)

    return PruningCurves(
        fractions=steps,
        accuracy={order: np.mean(runs, axis=0) for order, runs in curves.items()},
        class_names=network.class_names,
        class_accuracy=class_accuracy,
        other_accuracy=other_accuracy,
    )


def _channel_curves(
    chain: LayerChain,
    network: Network,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: npt.NDArray[np.float64],
    random_seeds: Sequence[int],
    seed: int,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> PruningCurves:
    """Structured pruning: whole hidden channels zeroed in the forward pass, least-first by each order."""
    if network.layer_sizes.tolist() != chain.layer_sizes:
        raise ModelError(
            f"network layers {network.layer_sizes.tolist()} do not match the model's channels {chain.layer_sizes}"
        )
    starts = network.layer_starts
    hidden = np.arange(starts[1], starts[-2])  # every node but the inputs and the outputs
    importance = network.node_importance[hidden].astype(np.float64)
    filters = [chain.filter_norms(layer - 1).double().numpy() for layer in range(1, network.n_layers - 1)]
    scores: dict[str, list[npt.NDArray[np.float64]]] = {
        "importance": [importance.mean(axis=1)],
        "l1_filter": [np.concatenate([norms / norms.max() if norms.max() > 0 else norms for norms in filters])],
        "random": [np.random.default_rng(s).random(hidden.size) for s in random_seeds],
        "importance_most_first": [-importance.mean(axis=1)],
    }
    counts = np.round(steps * hidden.size).astype(np.int64)
    total = sum(len(runs) for runs in scores.values()) + network.n_classes

    def correct(pruned: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        keep = torch.ones(network.n_nodes)
        keep[torch.as_tensor(hidden[pruned])] = 0.0

        def mask(layer: int, h: torch.Tensor) -> torch.Tensor:
            channels = keep[int(starts[layer]) : int(starts[layer + 1])]
            return h * channels.view(1, -1, *(1,) * (h.ndim - 2))

        with torch.no_grad():
            predicted = chain.logits(x, node_hook=mask).argmax(dim=1)
        hits: npt.NDArray[np.float64] = (predicted == y).numpy().astype(np.float64)
        return hits

    curves: dict[str, npt.NDArray[np.float64]] = {}
    done = 0
    for order, runs in scores.items():
        results = []
        for score in runs:
            check_cancelled(cancel)
            ranking = _ranking(score, seed)
            results.append([correct(ranking[:count]).mean() for count in counts])
            done += 1
            report(progress, "pruning", done, total)
        curves[order] = np.mean(results, axis=0)
    class_accuracy = np.full((network.n_classes, steps.size), np.nan)
    other_accuracy = np.full((network.n_classes, steps.size), np.nan)
    labels = y.numpy()
    for k in range(network.n_classes):
        check_cancelled(cancel)
        ranking = _ranking(importance[:, k], seed)
        class_accuracy[k], other_accuracy[k] = _split_by_class([correct(ranking[:c]) for c in counts], labels == k)
        done += 1
        report(progress, "pruning", done, total)
    return PruningCurves(steps, curves, network.class_names, class_accuracy, other_accuracy, unit="channels")


def _split_by_class(
    hits: Sequence[npt.NDArray[np.float64]], in_class: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per step, accuracy on the examples of class k and on the others (NaN where a group is empty)."""
    own = np.array([row[in_class].mean() if in_class.any() else np.nan for row in hits])
    other = np.array([row[~in_class].mean() if (~in_class).any() else np.nan for row in hits])
    return own, other


def _correct(prunable: _PrunableModel, pruned_edges: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """``(n,) float64``: 1 where the pruned model classifies a test example correctly, else 0."""
    hits: npt.NDArray[np.float64] = (prunable.predict(pruned_edges) == prunable.y).cpu().numpy().astype(np.float64)
    return hits


# -- plots and files -------------------------------------------------------------------------------------


def plot_pruning_curves(curves: PruningCurves, *, title: str = "Pruning by importance", split: str = "test") -> Figure:
    """One line per order: accuracy on ``split`` against the percentage of edges pruned, 90 % marked."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=_FIGURE_SIZE, dpi=_DPI, layout="constrained")
    axes = figure.add_subplot()
    percent = curves.fractions * 100
    for order in curves.accuracy:
        at = curves.accuracy_at(order, HEADLINE_FRACTION)
        axes.plot(
            percent,
            curves.accuracy[order],
            label=f"{curves.label(order)} ({at:.2f})",
            color=_ORDER_COLOURS[order],
            linewidth=_LINE_WIDTH,
            linestyle="--" if order == "random" else "-",
        )
    axes.axvline(HEADLINE_FRACTION * 100, color=_HEADLINE_COLOUR, linewidth=1, alpha=0.7)
    chance = 1 / len(curves.class_names)
    axes.axhline(chance, color="black", linewidth=0.8, linestyle=":", label=f"chance ({chance:.2f})")
    style_axes(axes, title, f"{split.capitalize()} accuracy", curves.unit)
    axes.set_ylim(0, 1.02)
    # Below the axes: the curves fill every corner of the plot at some point.
    figure.legend(
        title=f"Pruning order ({split} accuracy at {HEADLINE_FRACTION:.0%} of {curves.unit} pruned)",
        loc="outside lower center",
        ncols=2,
        fontsize=9,
    )
    return figure


def plot_per_class(curves: PruningCurves, *, title: str = "Pruning by class importance", split: str = "test") -> Figure:
    """Left: class-k vs other-class accuracy (mean over classes, interquartile band); right: the gap per class."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(_FIGURE_SIZE[0] * 2, _FIGURE_SIZE[1]), dpi=_DPI, layout="constrained")
    left, right = figure.subplots(1, 2)
    percent = curves.fractions * 100
    for rows, label, colour in (
        (curves.class_accuracy, "the pruned-for class k", "tab:orange"),
        (curves.other_accuracy, "the other classes", "tab:blue"),
    ):
        low, high = np.nanpercentile(rows, _BAND_PERCENTILES, axis=0)
        left.plot(percent, np.nanmean(rows, axis=0), color=colour, linewidth=_LINE_WIDTH, label=label)
        left.fill_between(percent, low, high, color=colour, alpha=0.2)
    style_axes(left, "Accuracy when pruning by class-k importance", f"{split.capitalize()} accuracy", curves.unit)
    left.set_ylim(0, 1.02)
    left.legend(title="Accuracy on (mean over k; band: middle half of k)", loc="lower left", fontsize=9)

    colours = _class_colours(len(curves.class_names))
    for k, name in enumerate(curves.class_names):
        gap = curves.class_accuracy[k] - curves.other_accuracy[k]
        right.plot(percent, gap, color=colours[k], linewidth=_LINE_WIDTH * 0.8, alpha=0.85, label=name)
    right.axhline(0, color="black", linewidth=0.8)
    style_axes(right, "Class-k advantage", "Class-k accuracy − other classes' accuracy", curves.unit)
    columns = 1 if len(curves.class_names) <= 12 else 3
    right.legend(title="Class k", loc="upper left", fontsize=8, ncols=columns)
    figure.suptitle(title)
    return figure


def style_axes(axes: Any, title: str, ylabel: str, unit: str) -> None:
    axes.set_title(title)
    axes.set_xlabel(f"{unit.capitalize()} pruned (%)")
    axes.set_ylabel(ylabel)
    axes.set_xlim(0, 100)
    axes.set_xticks(np.arange(0, 101, 10))
    axes.grid(alpha=0.4)


def _class_colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    palette = colormaps["tab10" if n <= 10 else "tab20"]
    return [palette(k % palette.N) for k in range(n)]


def write_report(
    curves: PruningCurves, folder: str | os.PathLike[str], *, title: str = "Pruning by importance", split: str = "test"
) -> list[Path]:
    """Write ``pruning-curves`` and ``pruning-per-class`` as CSV, PNG and SVG into ``folder``; return the paths.

    ``split`` names the data the accuracy was measured on ("test" or "train") in the plots' labels.

    ``pruning-curves.csv`` has one row per step: ``pruned_fraction`` and one accuracy column per order.
    ``pruning-per-class.csv`` has one row per class and step: ``class``, ``pruned_fraction``,
    ``class_accuracy``, ``other_accuracy``.
    """
    out = Path(folder)
    if not out.is_dir():
        raise DataError(f"output folder {out} does not exist")
    written = [out / "pruning-curves.csv", out / "pruning-per-class.csv"]
    atomic_write_bytes(written[0], csv_bytes(["pruned_fraction", *curves.accuracy], _curve_rows(curves)))
    atomic_write_bytes(
        written[1], csv_bytes(["class", "pruned_fraction", "class_accuracy", "other_accuracy"], _class_rows(curves))
    )
    for name, figure in (
        ("pruning-curves", plot_pruning_curves(curves, title=title, split=split)),
        ("pruning-per-class", plot_per_class(curves, title=title, split=split)),
    ):
        for suffix in ("png", "svg"):
            buffer = io.BytesIO()
            figure.savefig(buffer, format=suffix)
            atomic_write_bytes(out / f"{name}.{suffix}", buffer.getvalue())
            written.append(out / f"{name}.{suffix}")
    return written


def _curve_rows(curves: PruningCurves) -> list[list[object]]:
    return [
        [f"{fraction:.4f}", *(f"{accuracy[s]:.6f}" for accuracy in curves.accuracy.values())]
        for s, fraction in enumerate(curves.fractions)
    ]


def _class_rows(curves: PruningCurves) -> list[list[object]]:
    return [
        [name, f"{fraction:.4f}", f"{curves.class_accuracy[k, s]:.6f}", f"{curves.other_accuracy[k, s]:.6f}"]
        for k, name in enumerate(curves.class_names)
        for s, fraction in enumerate(curves.fractions)
    ]


def csv_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()
