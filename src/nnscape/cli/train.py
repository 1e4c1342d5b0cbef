"""``nnscape train``: an example MLP trained on a data set, saved as a checkpoint ``nnscape importance`` reads."""

from __future__ import annotations

import argparse
import math

from nnscape.cli.common import output_path, progress_bars, quick_imports, seed_number, whole_number
from nnscape.cli.generate import parse_layers

DEFAULT_HIDDEN = "81,49"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("train", help="train an example MLP (untrained, basic or L1) on a data set")
    parser.add_argument("--data", required=True, help="digits, fashion-mnist, idx:FOLDER, or a .npz/.pt file")
    parser.add_argument("--layers", default=DEFAULT_HIDDEN, help=f"hidden layer sizes (default {DEFAULT_HIDDEN})")
    variant = parser.add_mutually_exclusive_group()
    variant.add_argument("--l1", type=float, metavar="STRENGTH", help="L1 penalty on all weights, e.g. 0.001")
    variant.add_argument("--untrained", action="store_true", help="save the randomly initialised model")
    parser.add_argument("--epochs", type=whole_number(1), default=15, help="training epochs (default 15)")
    parser.add_argument("--seed", type=seed_number, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="the checkpoint file to write, e.g. model.pt")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with quick_imports():
        from nnscape.datasets import load_dataset
        from nnscape.train import Variant, save_checkpoint, train_mlp

    out = output_path(args.out)
    hidden = parse_layers(args.layers)
    splits = load_dataset(args.data)
    variant: Variant = "untrained" if args.untrained else "l1" if args.l1 is not None else "basic"
    with progress_bars(quiet=args.quiet) as progress:
        trained = train_mlp(
            splits, hidden=hidden, variant=variant, l1=args.l1 if args.l1 is not None else 0.0,
            epochs=args.epochs, seed=args.seed, progress=progress,
        )  # fmt: skip
    save_checkpoint(out, trained)
    layers = ",".join(map(str, trained.layer_sizes))
    print(
        f"wrote {out}: {variant} MLP {layers} on {splits.name}, train accuracy {_percent(trained.train_accuracy)}, "
        f"test accuracy {_percent(trained.test_accuracy)}"
    )
    return 0


def _percent(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:.2f}%"
