"""Benchmark: every importance method on a 784-81-49-10 MLP and Fashion-MNIST (60 000 images, 10 classes).

Target (issues 13 and 14): each method ≤ 8 s on a 2-core CPU (the thesis's batchnorm-gamma at its defaults:
20 epochs). The model is a freshly initialised MLP (seeded): the cost does not depend on the weights. Prints,
per method, the median wall time and median CPU seconds (process time, all threads) of the runs beside the
goal, the precision of batchnorm-gamma's products, and the load average before and after: when the load
exceeds the cores, other processes took CPU time from the runs, so the wall time is load-affected (an upper
bound), and with several threads so is the CPU time (threads spin while they wait for each other).

    python benchmarks/bench_importance.py [--runs 3] [--method NAME ...] [--epochs 20] [--threads N] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch

from nnscape.datasets import load_dataset
from nnscape.importance import METHODS, importance
from nnscape.importance.bn_gamma import NAME as FINE_TUNING
from nnscape.intake import build_mlp

TARGET_SECONDS = 8.0
LAYERS = (784, 81, 49, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per method (default 3)")
    parser.add_argument("--method", action="append", choices=list(METHODS), help="methods to time (default all)")
    parser.add_argument("--epochs", type=int, default=20, help="batchnorm-gamma epochs (default 20)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    splits = load_dataset("fashion-mnist")
    torch.manual_seed(0)
    model = build_mlp(LAYERS)
    print(
        f"importance {'-'.join(map(str, LAYERS))}, {splits.train_x.shape[0]} images on {args.device}, "
        f"{torch.get_num_threads()} thread(s), load average {os.getloadavg()[0]:.1f}"
    )
    for method in args.method or list(METHODS):
        settings = {"epochs": args.epochs} if method == FINE_TUNING else {}
        wall, cpu = [], []
        load_before = os.getloadavg()[0]
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            network = importance(model, splits, method=method, device=args.device, **settings)
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        load = max(load_before, os.getloadavg()[0])
        scale = 20 / args.epochs if method == FINE_TUNING else 1.0  # to the default 20 epochs when fewer ran
        median, median_cpu = statistics.median(wall) * scale, statistics.median(cpu) * scale
        runs = ", ".join(f"{seconds * scale:.1f}" for seconds in wall)
        verdict = "met" if median <= TARGET_SECONDS else "MISSED"
        precision = json.loads(network.metadata["importance_config"]).get("precision", "float32")
        affected = f"; load-affected (load {load:.1f} > {os.cpu_count()} cores)" if load > (os.cpu_count() or 1) else ""
        print(
            f"{method:<16} {median:6.1f} s wall (runs {runs}), {median_cpu:6.1f} CPU s; goal ≤ {TARGET_SECONDS:.0f} s "
            f"wall: {verdict} [{precision}{affected}]"
        )


if __name__ == "__main__":
    main()
