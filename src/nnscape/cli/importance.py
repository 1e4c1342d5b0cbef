"""``nnscape importance``: per-class node and edge importance of a model on a data set, as a .nnscape file."""

from __future__ import annotations

import argparse
import json
import math
import sys

from nnscape.cli.common import device_name, output_path, progress_bars, seed_number, whole_number

PENALTY_CHOICES = ("l1", "l2", "none")
BATCH_SIZE = 128  # importance()'s default, which this command keeps


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("importance", help="estimate per-class importance of a model's neurons")
    parser.add_argument("model", metavar="MODEL", help="TorchScript, torch.export .pt2, .onnx or nnscape checkpoint")
    parser.add_argument("--data", required=True, help="digits, fashion-mnist, idx:FOLDER, or a .npz/.pt file")
    parser.add_argument("--out", required=True, help="the .nnscape file to write")
    parser.add_argument("--epochs", type=whole_number(1), default=20, help="fine-tuning epochs (default 20)")
    parser.add_argument("--penalty", choices=PENALTY_CHOICES, default="l1", help="penalty on γ (default l1)")
    parser.add_argument("--strength", type=float, default=0.01, help="penalty weight (default 0.01)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 0.001)")
    parser.add_argument("--seed", type=seed_number, default=0, help="random seed (default 0)")
    parser.add_argument("--device", type=device_name, help="cpu, cuda or cuda:N (default: cuda when available)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from nnscape.datasets import load_dataset
    from nnscape.errors import ConfigError
    from nnscape.importance import importance
    from nnscape.importance.bn_gamma import steps_per_epoch
    from nnscape.intake import load_model

    out = output_path(args.out)
    if args.device is not None and args.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {args.device}: no CUDA device is available")
    model = load_model(args.model)
    splits = load_dataset(args.data)
    steps = args.epochs * steps_per_epoch(splits.train_y, n_classes=splits.n_classes, batch_size=BATCH_SIZE)
    if 0 < steps * args.lr < 1:  # (bad values are refused by importance() below)
        # Under L1, Adam moves an unneeded γ by about lr per step: it cannot reach 0 in fewer than 1/lr steps.
        print(
            f"note: {args.epochs} epochs are only {steps} optimizer steps on {args.data}; importance will be nearly "
            f"uniform. Raise --epochs to about {math.ceil(args.epochs / (steps * args.lr))} or --lr.",
            file=sys.stderr,
        )
    with progress_bars(quiet=args.quiet) as progress:
        network = importance(
            model, splits, epochs=args.epochs, penalty=args.penalty, strength=args.strength, lr=args.lr,
            seed=args.seed, device=args.device, progress=progress,
        )  # fmt: skip
    source = {**json.loads(network.metadata["source"]), "model_file": str(args.model), "data": args.data}
    network = network.with_changes(metadata={**network.metadata, "source": json.dumps(source)})
    network.save(out)
    seconds = float(network.metadata["importance_seconds"])
    print(
        f"wrote {out}: layers {','.join(map(str, network.layer_sizes.tolist()))}, {network.n_classes} classes, "
        f"{network.n_edges} edges ({seconds:.1f} s)"
    )
    return 0
