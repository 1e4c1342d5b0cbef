"""``nnscape evaluate``: pruning curves that show whether the importance knows which weights matter.

Without ``--network`` it compares importance methods on the model: every registered method (or those named by
``--method``) scores the model, and each is pruned the same way (:mod:`nnscape.evaluation_methods`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nnscape.cli.common import progress_bars, quick_imports, seed_number, whole_number
from nnscape.cli.importance import METHOD_HELP
from nnscape.errors import ModelError, NnscapeError
from nnscape.files import check_writable

# A report file's name, used to try writing into --out before the work starts.
REPORT_PROBE_NAME = "pruning-curves.csv"

SPLITS = ("test", "train")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="pruning curves of a model by importance, magnitude and random order (CSV, PNG, SVG)"
    )
    parser.add_argument("model", help="a model file (nnscape train checkpoint, TorchScript, .pt2 or .onnx)")
    parser.add_argument("--data", required=True, help="digits, fashion-mnist, idx:FOLDER or a .npz/.pt file")
    parser.add_argument("--out", required=True, help="folder for the CSV and plot files (created if missing)")
    parser.add_argument(
        "--network", help="the model's importance file (.nnscape, kind network); default: compare the methods"
    )
    parser.add_argument(
        "--method", action="append", help=f"compare only this method (repeatable; default all). {METHOD_HELP}"
    )
    parser.add_argument(
        "--split", choices=SPLITS, default="test", help="measure accuracy on the test (default) or training split"
    )
    parser.add_argument(
        "--epochs",
        type=whole_number(1),
        default=20,
        help="batchnorm-gamma epochs (default 20; small data sets need more)",
    )
    parser.add_argument("--lr", type=float, default=1e-3, help="batchnorm-gamma learning rate (default 1e-3)")
    parser.add_argument("--seed", type=seed_number, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--threads",
        type=whole_number(1),
        help="torch CPU threads (default: torch's choice; 1 is fastest for small models)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with quick_imports():
        from nnscape.datasets import load_dataset
        from nnscape.evaluation import HEADLINE_FRACTION, pruning_curves, write_report
        from nnscape.evaluation_methods import compare_methods, write_comparison
        from nnscape.importance.bn_gamma import NAME as FINE_TUNING
        from nnscape.intake import load_model
        from nnscape.io import load

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise NnscapeError(f"--out {out}: is a file, expected a folder")
    if args.network and args.method:
        raise NnscapeError("--method: not with --network (the file holds one method's importance)")
    # Before the work: the folder (or, if it is still to be made, its nearest existing parent) takes new files.
    nearest = next(folder for folder in (out, *out.absolute().parents) if folder.exists())
    check_writable(nearest / (out.name if nearest != out else REPORT_PROBE_NAME), "--out", shown=out)
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    model = load_model(args.model)
    splits = load_dataset(args.data)
    title = f"{Path(args.model).name} on {args.data}"
    if args.network:
        network = load(args.network)
        data = (splits.test_x, splits.test_y) if args.split == "test" else (splits.train_x, splits.train_y)
        with progress_bars(quiet=args.quiet) as progress:
            try:
                curves = pruning_curves(model, network, data, seed=args.seed, progress=progress)
            except ModelError as exc:
                raise ModelError(f"--network {args.network}: does not fit {args.model} ({exc})") from exc
        out.mkdir(parents=True, exist_ok=True)
        written = write_report(curves, out, title=title, split=args.split)
        print(f"{args.split} accuracy at {HEADLINE_FRACTION:.0%} of {curves.unit} pruned:")
        for order in curves.accuracy:
            print(f"  {curves.label(order):<38} {curves.accuracy_at(order, HEADLINE_FRACTION):.3f}")
    else:
        with progress_bars(quiet=args.quiet) as progress:
            comparison = compare_methods(
                model, splits, methods=args.method, settings={FINE_TUNING: {"epochs": args.epochs, "lr": args.lr}},
                split=args.split, seed=args.seed, progress=progress,
            )  # fmt: skip
        out.mkdir(parents=True, exist_ok=True)
        written = write_comparison(comparison, out, title=title)
        print(f"{args.split} accuracy at {HEADLINE_FRACTION:.0%} of {comparison.unit} pruned:")
        for method in comparison.methods:
            name = f"{method}, least important first ({comparison.seconds[method]:.1f} s)"
            print(f"  {name:<46} {comparison.accuracy_at(method):.3f}")
        first = comparison.curves[comparison.methods[0]]
        for baseline in comparison.baselines:
            print(f"  {first.label(baseline):<46} {comparison.accuracy_at(baseline):.3f}")
    print("wrote " + ", ".join(str(path) for path in written))
    return 0
