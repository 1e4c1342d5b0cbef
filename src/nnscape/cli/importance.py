"""``nnscape importance``: per-class node and edge importance of a model on a data set, as a .nnscape file."""

from __future__ import annotations

import argparse
import json
import math
import sys

from nnscape.cli.common import device_name, output_path, progress_bars, quick_imports, seed_number, whole_number

PENALTY_CHOICES = ("l1", "l2", "none")
PRECISION_CHOICES = ("auto", "float32", "bfloat16")  # a test checks these are batchnorm-gamma's
BATCH_NORM_CHOICES = ("insert", "existing")  # likewise
BATCH_SIZE = 128  # importance()'s default, which this command keeps
# The registry (nnscape.importance.METHODS) imports torch, which `nnscape --help` must not; a test checks that
# these names are the registry's.
DEFAULT_METHOD = "batchnorm-gamma"
METHOD_HELP = (
    "importance method: batchnorm-gamma (the thesis's fine-tuning, default), activation (|w| × activation "
    "spread) or taylor (|activation × gradient|)"
)
# The options below that only batchnorm-gamma has.
FINE_TUNING = ("epochs", "penalty", "strength", "lr", "precision", "batch_norm")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("importance", help="estimate per-class importance of a model's neurons")
    parser.add_argument("--method", default=DEFAULT_METHOD, help=METHOD_HELP)
    parser.add_argument("model", metavar="MODEL", help="TorchScript, torch.export .pt2, .onnx or nnscape checkpoint")
    parser.add_argument("--data", required=True, help="digits, fashion-mnist, idx:FOLDER, or a .npz/.pt file")
    parser.add_argument("--out", required=True, help="the .nnscape file to write")
    parser.add_argument("--epochs", type=whole_number(1), help="batchnorm-gamma: fine-tuning epochs (default 20)")
    parser.add_argument("--penalty", choices=PENALTY_CHOICES, help="batchnorm-gamma: penalty on γ (default l1)")
    parser.add_argument("--strength", type=float, help="batchnorm-gamma: penalty weight (default 0.01)")
    parser.add_argument("--lr", type=float, help="batchnorm-gamma: Adam learning rate (default 0.001)")
    parser.add_argument(
        "--precision",
        choices=PRECISION_CHOICES,
        help="batchnorm-gamma: of the matrix products (default auto: bfloat16 where the hardware has it)",
    )
    parser.add_argument(
        "--batch-norm",
        choices=BATCH_NORM_CHOICES,
        help="batchnorm-gamma: insert a batch norm over every layer's input (default), or fine-tune the model's "
        "own batch norms where a layer has one (docs/importance.md)",
    )
    parser.add_argument("--seed", type=seed_number, default=0, help="random seed (default 0)")
    parser.add_argument("--device", type=device_name, help="cpu, cuda or cuda:N (default: cuda when available)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with quick_imports():
        import torch

        from nnscape.datasets import load_dataset
        from nnscape.errors import ConfigError
        from nnscape.importance import importance, method_settings
        from nnscape.importance.bn_gamma import steps_per_epoch
        from nnscape.intake import load_model

    out = output_path(args.out)
    settings = {name: getattr(args, name) for name in FINE_TUNING if getattr(args, name) is not None}
    if args.device is not None and args.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {args.device}: no CUDA device is available")
    model = load_model(args.model)
    splits = load_dataset(args.data)
    if args.method == DEFAULT_METHOD:
        epochs, lr = ({**method_settings(DEFAULT_METHOD), **settings}[name] for name in ("epochs", "lr"))
        steps = epochs * steps_per_epoch(splits.train_y, n_classes=splits.n_classes, batch_size=BATCH_SIZE)
        if 0 < steps * lr < 1:  # (bad values are refused by importance() below)
            # Under L1, Adam moves an unneeded γ by about lr per step: it cannot reach 0 in fewer than 1/lr steps.
            print(
                f"note: {epochs} epochs are only {steps} optimizer steps on {args.data}; importance will be nearly "
                f"uniform. Raise --epochs to about {math.ceil(epochs / (steps * lr))} or --lr.",
                file=sys.stderr,
            )
    with progress_bars(quiet=args.quiet) as progress:
        network = importance(
            model, splits, method=args.method, seed=args.seed, device=args.device, progress=progress, **settings
        )
    source = {**json.loads(network.metadata["source"]), "model_file": str(args.model), "data": args.data}
    network = network.with_changes(metadata={**network.metadata, "source": json.dumps(source)})
    network.save(out)
    seconds = float(network.metadata["importance_seconds"])
    print(
        f"wrote {out}: layers {','.join(map(str, network.layer_sizes.tolist()))}, {network.n_classes} classes, "
        f"{network.n_edges} edges ({seconds:.1f} s)"
    )
    return 0
