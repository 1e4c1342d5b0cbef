"""Train, estimate importance and bundle a 784-81-49-10 MLP on Fashion-MNIST (the original tool's MNIST example).

Needs the Debian package ``dataset-fashion-mnist`` (IDX files under /usr/share/datasets/fashion-mnist). Writes
into ``--out`` (default ``fashion-mnist-example``):

- ``fashion-mnist-<variant>.pt``: the trained model (a checkpoint ``nnscape importance``/``evaluate`` read);
- ``fashion-mnist-<variant>.nnscape``: its per-class node importance and edge importance;
- ``fashion-mnist-<variant>.processed.nnscape``: the bundled landscape.

Then look at it with ``nnscape view fashion-mnist-example``. A few minutes on a laptop CPU.

    python examples/fashion_mnist.py [--variant basic|untrained|l1] [--out DIR] [--epochs 15]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import nnscape
from nnscape.cli.common import progress_bars
from nnscape.datasets import load_dataset
from nnscape.train import VARIANTS, save_checkpoint, train_mlp

HIDDEN = (81, 49)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, default="basic", help="which model to train (default basic)")
    parser.add_argument("--out", default="fashion-mnist-example", help="output folder (created if missing)")
    parser.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"fashion-mnist-{args.variant}"
    splits = load_dataset("fashion-mnist")
    with progress_bars(quiet=args.quiet) as progress:
        trained = train_mlp(splits, hidden=HIDDEN, variant=args.variant, epochs=args.epochs, progress=progress)
        save_checkpoint(stem.with_suffix(".pt"), trained)
        network = nnscape.importance(trained.model, splits, progress=progress)
        network.save(stem.with_suffix(".nnscape"))
        processed = nnscape.process(network, nnscape.ProcessingConfig(), progress=progress)
        processed.save(stem.with_suffix(".processed.nnscape"))

    quality = json.loads(processed.metadata["quality"])
    print(f"{args.variant}: test accuracy {trained.test_accuracy:.3f}, {network.n_edges} edges")
    print(
        f"processed in {float(processed.metadata['processing_seconds']):.1f} s: spread {quality['spread']:.4f}, "
        f"ink {quality['ink']:.3f}"
    )
    print(f"wrote {stem}.pt, .nnscape, .processed.nnscape; view with: nnscape view {out}")


if __name__ == "__main__":
    main()
