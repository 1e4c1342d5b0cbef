"""Structured pruning curves of small CNNs: does per-class channel importance know which channels matter?

Trains a small CNN with BatchNorm2d per seed on digits (1×8×8) and on Fashion-MNIST (1×28×28), scores its
channels with ``batchnorm-gamma`` twice — inserting a batch norm over every layer's input (``batch_norm="insert"``)
and fine-tuning the model's own BatchNorm2d γ (``"existing"``) — and prunes whole hidden channels least important
first (:func:`nnscape.evaluation.pruning_curves`) against L1-norm filter pruning (Li et al. 2017) and random
order, and per class by class-k importance. Writes ``conv-DATA.csv`` and ``conv-DATA-per-class.csv`` (every
seed) and ``conv-DATA.png`` (mean over seeds, band min to max), and prints the README's tables.

To keep CPU time sane on Fashion-MNIST, the CNN trains on a random 12 000 of the 60 000 training images, the
importance uses the same images, and accuracy is measured on a random 1 000 of the 10 000 test images.

    python examples/conv_pruning.py --out docs/images --jobs 3   # both data sets, seeds 0 1 2 (the README's)
    python examples/conv_pruning.py --data digits --seeds 0 --out /tmp/conv
"""

from __future__ import annotations

import argparse
import csv
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

import nnscape
from nnscape.datasets import DatasetSplits, load_dataset
from nnscape.evaluation import PruningCurves, pruning_curves, style_axes
from nnscape.importance.bn_gamma import BATCH_NORMS
from nnscape.train import accuracy as test_accuracy
from nnscape.train import fit_classifier


@dataclass(frozen=True)
class Recipe:
    """How one data set's CNN is built, trained and scored."""

    channels: tuple[int, int]
    pool_last: bool  # max-pool after the second convolution, then flatten (else global average pooling)
    train_epochs: int
    train_subset: int | None  # training images used (None: all)
    test_subset: int | None
    importance_epochs: int
    importance_lr: float
    importance_batch: int


RECIPES = {
    # digits: 1 347 training images, 3 class-vs-rest batches per epoch: 300 epochs make ~900 steps.
    "digits": Recipe((16, 32), False, 40, None, None, 300, 1e-3, 128),
    # Fashion-MNIST on a subset: 2 × 1 200 / 32 = 75 steps per epoch, 5 epochs at lr 1e-2.
    "fashion-mnist": Recipe((8, 16), True, 4, 12_000, 1_000, 5, 1e-2, 32),
}
FRACTIONS_SHOWN = (0.1, 0.2, 0.3, 0.5, 0.7)
TRAIN_LR = 3e-3
TRAIN_BATCH = 64
ORDER_COLOURS = {"insert": "tab:orange", "existing": "tab:purple", "l1_filter": "tab:blue", "random": "tab:gray"}


def small_cnn(recipe: Recipe, image_side: int, n_classes: int) -> nn.Sequential:
    """conv 3×3 → BN → ReLU → max pool → conv 3×3 → BN → ReLU → (max pool, flatten | global average) → Linear."""
    first, second = recipe.channels
    tail: list[nn.Module]
    if recipe.pool_last:
        tail = [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(second * (image_side // 4) ** 2, n_classes)]
    else:
        tail = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(second, n_classes)]
    return nn.Sequential(
        nn.Conv2d(1, first, 3, padding=1), nn.BatchNorm2d(first), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(first, second, 3, padding=1), nn.BatchNorm2d(second), nn.ReLU(), *tail,
    )  # fmt: skip


def subset(splits: DatasetSplits, recipe: Recipe, seed: int) -> DatasetSplits:
    generator = torch.Generator().manual_seed(seed)
    train = torch.randperm(splits.train_y.shape[0], generator=generator)[: recipe.train_subset]
    test = torch.randperm(splits.test_y.shape[0], generator=generator)[: recipe.test_subset]
    return DatasetSplits(
        splits.train_x[train], splits.train_y[train], splits.test_x[test], splits.test_y[test],
        splits.class_names, splits.name,
    )  # fmt: skip


def train(splits: DatasetSplits, recipe: Recipe, seed: int) -> tuple[nn.Module, float]:
    torch.manual_seed(seed)
    model = small_cnn(recipe, splits.train_x.shape[-1], splits.n_classes)
    fit_classifier(model, splits.train_x, splits.train_y, epochs=recipe.train_epochs, batch_size=TRAIN_BATCH,
                   lr=TRAIN_LR)  # fmt: skip
    return model, test_accuracy(model, splits.test_x, splits.test_y)


def measure_seed(data: str, seed: int, threads: int) -> tuple[dict[str, PruningCurves], float]:
    """One seed: train the CNN, score it in every batch-norm mode, prune; the curves per mode and the accuracy."""
    torch.set_num_threads(threads)
    recipe = RECIPES[data]
    splits = subset(load_dataset(data), recipe, seed)
    started = time.perf_counter()
    model, accuracy = train(splits, recipe, seed)
    print(f"{data} seed {seed}: test accuracy {accuracy:.3f} ({time.perf_counter() - started:.0f} s training)")
    results = {}
    for mode in BATCH_NORMS:
        started = time.perf_counter()
        network = nnscape.importance(
            model, splits, seed=seed, device="cpu", epochs=recipe.importance_epochs, lr=recipe.importance_lr,
            batch_size=recipe.importance_batch, batch_norm=mode, precision="float32",  # as the README measured
        )  # fmt: skip
        scored = time.perf_counter() - started
        results[mode] = pruning_curves(model, network, splits, seed=seed)
        print(f"{data} seed {seed} {mode}: importance {scored:.0f} s, curves "
              f"{time.perf_counter() - started - scored:.0f} s")  # fmt: skip
    return results, accuracy


def measure(
    data: str, seeds: list[int], *, jobs: int, threads: int
) -> tuple[dict[tuple[int, str], PruningCurves], list[float]]:
    """Every seed (``jobs`` at a time, in separate processes): curves by ``(seed, mode)`` and test accuracies."""
    with ProcessPoolExecutor(jobs) as pool:
        done = list(pool.map(measure_seed, [data] * len(seeds), seeds, [threads] * len(seeds)))
    results = {(seed, mode): curves for seed, (by_mode, _) in zip(seeds, done, strict=True) for mode, curves in
               by_mode.items()}  # fmt: skip
    return results, [accuracy for _, accuracy in done]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def curve_rows(data: str, results: dict[tuple[int, str], PruningCurves]) -> list[list[object]]:
    rows: list[list[object]] = []
    for (seed, mode), curves in results.items():
        for order, accuracy in curves.accuracy.items():
            if order in ("l1_filter", "random") and mode != BATCH_NORMS[0]:
                continue  # the baselines do not depend on the importance
            label = mode if order.startswith("importance") else ""
            for fraction, value in zip(curves.fractions, accuracy, strict=True):
                rows.append([data, seed, label, order, f"{fraction:.4f}", f"{value:.6f}"])
    return rows


def class_rows(data: str, results: dict[tuple[int, str], PruningCurves]) -> list[list[object]]:
    return [
        [data, seed, mode, name, f"{fraction:.4f}", f"{curves.class_accuracy[k, s]:.6f}",
         f"{curves.other_accuracy[k, s]:.6f}"]
        for (seed, mode), curves in results.items()
        for k, name in enumerate(curves.class_names)
        for s, fraction in enumerate(curves.fractions)
    ]  # fmt: skip


def series(results: dict[tuple[int, str], PruningCurves]) -> dict[str, npt.NDArray[np.float64]]:
    """``(seeds, S)`` accuracy per line of the plot: each mode's least-important-first order and the baselines."""
    seeds = sorted({seed for seed, _ in results})
    lines = {mode: np.array([results[s, mode].accuracy["importance"] for s in seeds]) for mode in BATCH_NORMS}
    for order in ("l1_filter", "random"):
        lines[order] = np.array([results[s, BATCH_NORMS[0]].accuracy[order] for s in seeds])
    return lines


LABELS = {
    "insert": "γ of an inserted BN, least important first",
    "existing": "γ of the model's own BN, least important first",
    "l1_filter": "L1 norm of the filter (Li et al. 2017)",
    "random": "random order (mean of 3 per seed)",
}


def plot(data: str, results: dict[tuple[int, str], PruningCurves], accuracy: float, default: str, out: Path) -> None:
    from matplotlib.figure import Figure

    first = next(iter(results.values()))
    percent = first.fractions * 100
    n_seeds = len({seed for seed, _ in results})
    figure = Figure(figsize=(13, 5.2), dpi=90, layout="constrained")
    left, right = figure.subplots(1, 2)
    for name, runs in series(results).items():
        left.plot(percent, runs.mean(axis=0), color=ORDER_COLOURS[name], linewidth=2, label=LABELS[name],
                  linestyle="--" if name == "random" else "-")  # fmt: skip
        left.fill_between(percent, runs.min(axis=0), runs.max(axis=0), color=ORDER_COLOURS[name], alpha=0.18)
    left.axhline(1 / len(first.class_names), color="black", linewidth=0.8, linestyle=":", label="chance")
    style_axes(left, f"Whole channels pruned ({n_seeds} seeds: mean, band min–max)", "Test accuracy", "channels")
    left.set_ylim(0, 1.02)
    left.legend(loc="upper right", fontsize=8)
    own = np.array([results[seed, default].class_accuracy for seed, mode in results if mode == default])
    other = np.array([results[seed, default].other_accuracy for seed, mode in results if mode == default])
    for rows, label, colour in ((own, "class k", "tab:orange"), (other, "the other classes", "tab:blue")):
        per_class = rows.mean(axis=0)  # mean over seeds: (C, S)
        right.plot(percent, per_class.mean(axis=0), color=colour, linewidth=2, label=label)
        low, high = np.percentile(per_class, (25, 75), axis=0)
        right.fill_between(percent, low, high, color=colour, alpha=0.18)
    style_axes(right, f"Pruning by class-k importance ({default} BN; band: middle half of k)", "Test accuracy",
               "channels")  # fmt: skip
    right.set_ylim(0, 1.02)
    right.legend(title="Accuracy on (mean over k and seeds)", loc="upper right", fontsize=8)
    figure.suptitle(f"Small CNN with BatchNorm2d on {data} (test accuracy {accuracy:.2f} unpruned)")
    figure.savefig(out / f"conv-{data}.png")


def summary(data: str, results: dict[tuple[int, str], PruningCurves], accuracies: list[float]) -> None:
    """The README's table: mean ± standard deviation over seeds at a few fractions, and the area under the curve."""
    fractions = next(iter(results.values())).fractions
    print(f"\n{data}: test accuracy unpruned {np.mean(accuracies):.3f} ± {np.std(accuracies):.3f}")
    print("| order | " + " | ".join(f"{f:.0%}" for f in FRACTIONS_SHOWN) + " | area |")
    for name, runs in series(results).items():
        cells = [runs[:, int(np.argmin(np.abs(fractions - f)))] for f in FRACTIONS_SHOWN]
        area = np.trapezoid(runs, fractions, axis=1)
        text = " | ".join(f"{c.mean():.2f} ± {c.std():.2f}" for c in [*cells, area])
        print(f"| {LABELS[name]} | {text} |")
    for mode in BATCH_NORMS:
        gaps = [results[seed, mode].class_accuracy - results[seed, mode].other_accuracy
                for seed, m in results if m == mode]  # fmt: skip
        at = int(np.argmin(np.abs(fractions - 0.3)))
        advantage = np.array([gap[:, at].mean() for gap in gaps])
        print(f"class-k advantage at 30 % ({mode}): {advantage.mean():.2f} ± {advantage.std():.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", choices=tuple(RECIPES), default=list(RECIPES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--default", choices=BATCH_NORMS, default=BATCH_NORMS[0],
                        help="the mode whose per-class curves are plotted")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("conv-pruning"), help="output folder (created if missing)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per seed (default 1)")
    parser.add_argument("--jobs", type=int, default=1, help="seeds measured at once, in processes (default 1)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for data in args.data:
        results, accuracies = measure(data, args.seeds, jobs=args.jobs, threads=args.threads)
        write_csv(args.out / f"conv-{data}.csv", ["data", "seed", "batch_norm", "order", "pruned_fraction",
                  "accuracy"], curve_rows(data, results))  # fmt: skip
        write_csv(args.out / f"conv-{data}-per-class.csv", ["data", "seed", "batch_norm", "class",
                  "pruned_fraction", "class_accuracy", "other_accuracy"], class_rows(data, results))  # fmt: skip
        plot(data, results, float(np.mean(accuracies)), args.default, args.out)
        summary(data, results, accuracies)


if __name__ == "__main__":
    main()
