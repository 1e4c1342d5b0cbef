"""Benchmark: batch-norm importance of a 784-81-49-10 MLP on Fashion-MNIST (60 000 images, 10 classes, 20 epochs).

Target (issue 3): under 60 s on a 2-core CPU; the reference tool ran 10 separate TensorFlow fine-tunings and took
3-4 minutes on a GPU. The model is a freshly initialised MLP (seeded): the cost does not depend on the weights.
Prints the median and every run, the time per epoch, the thread count and the load average, since timings on
a shared machine are noisy.

    python benchmarks/bench_importance.py [--runs 3] [--epochs 20] [--threads N] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from nnscape.datasets import load_dataset
from nnscape.importance import importance
from nnscape.intake import build_mlp

TARGET_SECONDS = 60.0
LAYERS = (784, 81, 49, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument("--epochs", type=int, default=20, help="fine-tuning epochs (default 20)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    splits = load_dataset("fashion-mnist")
    torch.manual_seed(0)
    model = build_mlp(LAYERS)
    seconds = []
    for run in range(args.runs):
        started = time.perf_counter()
        network = importance(model, splits, epochs=args.epochs, device=args.device)
        seconds.append(time.perf_counter() - started)
        print(f"run {run + 1}: {seconds[-1]:.1f} s ({seconds[-1] / args.epochs:.2f} s per epoch)", flush=True)
    median = statistics.median(seconds)
    full = median * 20 / args.epochs
    print(
        f"importance {'-'.join(map(str, LAYERS))}, {splits.train_x.shape[0]} images, {network.n_classes} classes, "
        f"{args.epochs} epochs on {args.device}, {torch.get_num_threads()} thread(s), load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(f"median {median:.1f} s over {args.runs} runs, {median / args.epochs:.2f} s per epoch")
    print(f"20 epochs: {full:.1f} s, target < {TARGET_SECONDS:.0f} s: {'met' if full < TARGET_SECONDS else 'MISSED'}")


if __name__ == "__main__":
    main()
