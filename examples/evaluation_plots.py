"""Reproduce the thesis's evaluation plots: pruning curves of a trained MLP by importance, magnitude and chance.

Trains the basic 784-81-49-10 MLP on Fashion-MNIST (or 64-32-16-10 on ``--data digits``, no download),
estimates its batch-norm importance, prunes 0-100 % of its edges in 5 % steps in each order and writes
``pruning-curves`` and ``pruning-per-class`` (CSV, PNG, SVG) into ``--out``. Prints test accuracy at 90 % of
edges pruned beside the thesis's MNIST figures (train accuracy there). ``--readme-image`` also writes the
pruning-curves PNG there (the README's picture is made this way). ``nnscape evaluate`` does the same for a
model you already have.

    python examples/evaluation_plots.py [--data fashion-mnist|digits] [--out DIR] [--readme-image PNG]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import nnscape
from nnscape.cli.common import progress_bars
from nnscape.datasets import load_dataset
from nnscape.evaluation import HEADLINE_FRACTION, ORDER_LABELS, ORDERS, pruning_curves, write_report
from nnscape.train import train_mlp

HIDDEN = {"fashion-mnist": (81, 49), "digits": (32, 16)}
TRAIN_EPOCHS = {"fashion-mnist": 15, "digits": 100}  # digits has 1 347 training images: more epochs
# Rogawski (2023), MNIST 784-81-49-10, accuracy at 90 % of edges pruned.
THESIS_AT_90 = {"importance": 0.88, "magnitude": 0.62, "gamma": 0.47}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=tuple(HIDDEN), default="fashion-mnist", help="default fashion-mnist")
    parser.add_argument("--out", default="evaluation", help="output folder (created if missing)")
    parser.add_argument("--readme-image", type=Path, help="also copy the pruning-curves PNG here")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args()

    splits = load_dataset(args.data)
    hidden = HIDDEN[args.data]
    with progress_bars(quiet=args.quiet) as progress:
        trained = train_mlp(splits, hidden=hidden, epochs=TRAIN_EPOCHS[args.data], seed=args.seed, progress=progress)
        network = nnscape.importance(trained.model, splits, seed=args.seed, progress=progress)
        curves = pruning_curves(trained.model, network, splits, seed=args.seed, progress=progress)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    layers = "-".join(map(str, network.layer_sizes.tolist()))
    written = write_report(curves, out, title=f"{args.data}, {layers} MLP (test accuracy {trained.test_accuracy:.2f})")
    if args.readme_image:
        args.readme_image.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "pruning-curves.png", args.readme_image)

    print(f"{args.data} {layers}: test accuracy {trained.test_accuracy:.3f} unpruned")
    print(f"accuracy at {HEADLINE_FRACTION:.0%} of edges pruned   here (test)   thesis, MNIST (train)")
    for order in ORDERS:
        thesis = f"{THESIS_AT_90[order]:.2f}" if order in THESIS_AT_90 else "-"
        print(f"  {ORDER_LABELS[order]:<34} {curves.accuracy_at(order, HEADLINE_FRACTION):>5.3f}   {thesis:>12}")
    print("wrote " + ", ".join(str(path) for path in written))


if __name__ == "__main__":
    main()
