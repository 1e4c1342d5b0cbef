"""Importance methods side by side: the same pruning curves for every method of the registry, and their cost.

For each method, :func:`nnscape.importance` scores the model (timed), and :func:`nnscape.evaluation.pruning_curves`
prunes its edges least important first by the method's pruning score (edge importance × the source node's mean
importance), and per class by class-k importance. The orders that do not depend on the method are the
baselines: |w| and random order for an MLP's edges, L1 filter norm and random order for a convolutional
model's channels. A method whose score knows which weights matter keeps accuracy longest.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from torch import nn

from nnscape.datasets import DatasetSplits
from nnscape.errors import ConfigError, DataError
from nnscape.evaluation import HEADLINE_FRACTION, PruningCurves, csv_bytes, pruning_curves, style_axes, write_report
from nnscape.importance import METHODS, importance
from nnscape.io import atomic_write_bytes
from nnscape.progress import ProgressCallback, check_cancelled

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["BASELINES", "MethodComparison", "compare_methods", "plot_methods", "write_comparison"]

BASELINES = ("magnitude", "l1_filter", "random")  # orders of nnscape.evaluation that no method changes
SPLITS = ("test", "train")
_FIGURE_SIZE = (7.5, 6.0)
_DPI = 110
_LINE_WIDTH = 2.2
_BASELINE_COLOURS: Mapping[str, str] = {"magnitude": "tab:green", "l1_filter": "tab:blue", "random": "tab:gray"}
_METHOD_COLOURS = ("tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


@dataclass(frozen=True, eq=False)
class MethodComparison:
    """Pruning curves of every compared method on one model and data split.

    Attributes
    ----------
    split : str
        The split the accuracy is measured on, "test" or "train".
    curves : mapping of method name to PruningCurves
        The full curves of :func:`~nnscape.evaluation.pruning_curves` for the method's importance; their
        ``importance`` order is the method's least-important-first curve, their per-class rows its class curves.
    seconds : mapping of method name to float
        Wall time of the method's importance estimate (the file's ``importance_seconds``).
    settings : mapping of method name to str
        The method's recorded ``importance_config`` (JSON).
    """

    split: str
    curves: Mapping[str, PruningCurves]
    seconds: Mapping[str, float]
    settings: Mapping[str, str]

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.curves)

    @property
    def fractions(self) -> npt.NDArray[np.float64]:
        return self._first.fractions

    @property
    def unit(self) -> str:
        """What is pruned: "edges" (an MLP) or "channels" (a convolutional model)."""
        return self._first.unit

    @property
    def baselines(self) -> tuple[str, ...]:
        """The orders of :data:`BASELINES` measured for this model."""
        return tuple(order for order in BASELINES if order in self._first.accuracy)

    @property
    def _first(self) -> PruningCurves:
        return next(iter(self.curves.values()))

    def accuracy_at(self, method: str, fraction: float = HEADLINE_FRACTION) -> float:
        """Accuracy of ``method``'s least-important-first order (or of a baseline) at ``fraction`` pruned."""
        if method in BASELINES:
            return self._first.accuracy_at(method, fraction)
        return self.curves[method].accuracy_at("importance", fraction)

    def class_advantage_at(self, method: str, fraction: float = HEADLINE_FRACTION) -> float:
        """Mean over classes k of class-k accuracy minus the other classes' when pruning by class-k importance."""
        curves = self.curves[method]
        step = int(np.argmin(np.abs(curves.fractions - fraction)))
        return float(np.nanmean(curves.class_accuracy[:, step] - curves.other_accuracy[:, step]))

    def best(self, fraction: float = HEADLINE_FRACTION) -> str:
        """The method keeping the highest accuracy at ``fraction`` pruned (the first listed on a tie)."""
        return max(self.methods, key=lambda method: self.accuracy_at(method, fraction))


def compare_methods(
    model: nn.Module,
    splits: DatasetSplits,
    *,
    methods: Sequence[str] | None = None,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    split: str = "test",
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> MethodComparison:
    """Importance of ``model`` on the training data by every method, then pruning curves on ``split``.

    ``methods`` default to every registered method, the default first; ``settings[method]`` are passed to that
    method (e.g. ``{"batchnorm-gamma": {"epochs": 600}}``). ``split`` chooses where accuracy is measured: the
    test split, or the training split as in the thesis's figures.
    """
    chosen = tuple(methods) if methods is not None else tuple(METHODS)
    unknown = [name for name in (*chosen, *(settings or {})) if name not in METHODS]
    if unknown:
        raise ConfigError(f"method {unknown[0]!r}: expected one of {', '.join(METHODS)}")
    if not chosen or len(set(chosen)) != len(chosen):
        raise ConfigError(f"methods: expected distinct names of {', '.join(METHODS)}, got {list(chosen)}")
    if split not in SPLITS:
        raise ConfigError(f"split {split!r}: expected one of {', '.join(SPLITS)}")
    x, y = (splits.test_x, splits.test_y) if split == "test" else (splits.train_x, splits.train_y)
    if y.shape[0] == 0:
        raise DataError(f"data {splits.name or '(given)'}: the {split} split is empty; use the other split")
    curves, seconds, recorded = {}, {}, {}
    for method in chosen:
        check_cancelled(cancel)
        options = (settings or {}).get(method, {})
        network = importance(model, splits, method=method, seed=seed, progress=progress, cancel=cancel, **options)
        seconds[method] = float(network.metadata["importance_seconds"])
        recorded[method] = network.metadata["importance_config"]
        curves[method] = pruning_curves(model, network, (x, y), seed=seed, progress=progress, cancel=cancel)
    return MethodComparison(split=split, curves=curves, seconds=seconds, settings=recorded)


def plot_methods(comparison: MethodComparison, *, title: str = "Importance methods") -> Figure:
    """Left: accuracy against edges pruned, one line per method and baseline; right: mean class-k advantage."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(_FIGURE_SIZE[0] * 2, _FIGURE_SIZE[1]), dpi=_DPI, layout="constrained")
    left, right = figure.subplots(1, 2)
    percent = comparison.fractions * 100
    first = comparison.curves[comparison.methods[0]]
    for baseline in comparison.baselines:
        at = comparison.accuracy_at(baseline)
        left.plot(percent, first.accuracy[baseline], color=_BASELINE_COLOURS[baseline], linewidth=_LINE_WIDTH,
                  linestyle="--", label=f"{first.label(baseline)} ({at:.2f})")  # fmt: skip
    for index, method in enumerate(comparison.methods):
        colour = _METHOD_COLOURS[index % len(_METHOD_COLOURS)]
        curves = comparison.curves[method]
        label = f"{method} ({comparison.accuracy_at(method):.2f}, {comparison.seconds[method]:.1f} s)"
        left.plot(percent, curves.accuracy["importance"], color=colour, linewidth=_LINE_WIDTH, label=label)
        advantage = np.nanmean(curves.class_accuracy - curves.other_accuracy, axis=0)
        right.plot(percent, advantage, color=colour, linewidth=_LINE_WIDTH, label=method)
    left.axvline(HEADLINE_FRACTION * 100, color="tab:red", linewidth=1, alpha=0.7)
    split = f"{comparison.split.capitalize()} accuracy"
    style_axes(left, "Pruning least important first", split, comparison.unit)
    left.set_ylim(0, 1.02)
    left.legend(title=f"Method ({split.lower()} at {HEADLINE_FRACTION:.0%} pruned, time)", loc="lower left", fontsize=9)
    right.axhline(0, color="black", linewidth=0.8)
    style_axes(
        right, "Pruning by class-k importance", "Class-k accuracy − other classes' (mean over k)", comparison.unit
    )
    right.legend(title="Method", loc="upper left", fontsize=9)
    figure.suptitle(title)
    return figure


def write_comparison(
    comparison: MethodComparison, folder: str | os.PathLike[str], *, title: str = "Importance methods"
) -> list[Path]:
    """Write the comparison into ``folder`` (which must exist); return the paths written.

    ``methods-curves.csv``: ``pruned_fraction``, one accuracy column per method (least important first), then
    one per baseline (``magnitude`` or ``l1_filter``, and ``random``). ``methods-per-class.csv``: ``method``,
    ``class``, ``pruned_fraction``,
    ``class_accuracy``, ``other_accuracy``. ``methods-summary.csv``: ``method``, ``seconds``, accuracy and mean
    class-k advantage at 90 % pruned, ``settings``. ``methods-curves.png``/``.svg``: :func:`plot_methods`.
    The first method's full report by every pruning order (:func:`nnscape.evaluation.write_report`) goes
    beside them.
    """
    out = Path(folder)
    if not out.is_dir():
        raise DataError(f"output folder {out} does not exist")
    methods = comparison.methods
    first = comparison.curves[methods[0]]
    curve_rows: list[list[object]] = [
        [f"{fraction:.4f}", *(f"{comparison.curves[m].accuracy['importance'][s]:.6f}" for m in methods),
         *(f"{first.accuracy[b][s]:.6f}" for b in comparison.baselines)]
        for s, fraction in enumerate(comparison.fractions)
    ]  # fmt: skip
    class_rows: list[list[object]] = [
        [method, name, f"{fraction:.4f}", f"{curves.class_accuracy[k, s]:.6f}", f"{curves.other_accuracy[k, s]:.6f}"]
        for method, curves in comparison.curves.items()
        for k, name in enumerate(curves.class_names)
        for s, fraction in enumerate(curves.fractions)
    ]
    at = f"{HEADLINE_FRACTION:.2f}"
    summary_rows: list[list[object]] = [
        [method, f"{comparison.seconds[method]:.3f}", f"{comparison.accuracy_at(method):.6f}",
         f"{comparison.class_advantage_at(method):.6f}", comparison.settings[method]]
        for method in methods
    ]  # fmt: skip
    files = {
        "methods-curves.csv": csv_bytes(["pruned_fraction", *methods, *comparison.baselines], curve_rows),
        "methods-per-class.csv": csv_bytes(
            ["method", "class", "pruned_fraction", "class_accuracy", "other_accuracy"], class_rows
        ),
        "methods-summary.csv": csv_bytes(
            ["method", "seconds", f"accuracy_at_{at}", f"class_advantage_at_{at}", "settings"], summary_rows
        ),
    }
    figure = plot_methods(comparison, title=title)
    for suffix in ("png", "svg"):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=suffix)
        files[f"methods-curves.{suffix}"] = buffer.getvalue()
    written = []
    for name, content in files.items():
        atomic_write_bytes(out / name, content)
        written.append(out / name)
    return written + write_report(first, out, title=f"{title}: {methods[0]}", split=comparison.split)
