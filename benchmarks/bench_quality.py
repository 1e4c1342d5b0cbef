"""Whether a processing change keeps the quality figures, told apart from rounding noise.

    python benchmarks/bench_quality.py --set edge_bandwidth_reduction=0.9 [--set KEY=VALUE ...] [--variants 3]
    python benchmarks/bench_quality.py --save before.json        # on the code before a change, then
    python benchmarks/bench_quality.py --baseline before.json    # on the code after it

Processing is chaotic at the rounding level: importance scaled by 1 + 1e-6 noise alone moves ``ink`` and
``class_separation`` of one network by up to 2 %, so a single run cannot tell two configs apart. This runs
the default config and the ``--set`` one on a fixed set of networks (random 784-81-49-10 with seeds 0-2 and
784-256-128-10; the digits demo's untrained, basic and L1 networks, trained here, nothing downloaded), each on
``--variants`` near-identical inputs (the first unchanged, the others with importance scaled by 1 + 1e-6
noise), one thread. It prints, per network, each figure's mean under both configs with the spread (standard
deviation) over the variants, the change in per cent, and last the mean change over the networks and the
ratio of processing seconds. Lower ink is better, higher class separation is better, inside should stay 1.
A change to the code rather than the config is compared the same way: ``--save`` writes the figures of a run
to a JSON file, and ``--baseline`` takes them from there instead of running the default config.

docs/processing.md ("Speed and memory") quotes its figures for the current default.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from nnscape.config import PROCESSING_SETTINGS, ProcessingConfig, parse_overrides
from nnscape.demo import build_demo, demo_recipe
from nnscape.generate import random_network
from nnscape.io import load
from nnscape.network import Network
from nnscape.processing import process

FIGURES = ("ink", "class_separation", "inside")
NOISE = 1e-6  # relative size of the importance noise that makes a variant


def networks(folder: Path) -> dict[str, Network]:
    """The networks every config is measured on."""
    found = {f"random 784-81-49-10 seed {seed}": random_network([784, 81, 49, 10], seed=seed) for seed in range(3)}
    found["random 784-256-128-10"] = random_network([784, 256, 128, 10], seed=0)
    for path in build_demo(folder, recipe=demo_recipe("digits", seed=0)):
        found[path.name.split(".")[0]] = load(path)
    return found


def variant(network: Network, index: int) -> Network:
    """``network`` itself for index 0, else with its importance scaled by 1 + NOISE · (seeded normal noise)."""
    if index == 0:
        return network
    noise = np.random.default_rng(index).standard_normal(network.node_importance.shape)
    importance = np.clip(network.node_importance * (1 + NOISE * noise), 0.0, 1.0).astype(np.float32)
    return network.with_changes(node_importance=importance)


def measure(network: Network, config: ProcessingConfig, variants: int) -> tuple[dict[str, list[float]], float]:
    """Each figure over the variants, and the processing seconds they took together."""
    figures: dict[str, list[float]] = {name: [] for name in FIGURES}
    seconds = 0.0
    for index in range(variants):
        started = time.perf_counter()
        result = process(variant(network, index), config)
        seconds += time.perf_counter() - started
        quality = json.loads(result.metadata["quality"])
        for name in FIGURES:
            figures[name].append(quality.get(name, float("nan")))
    return figures, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="the config to compare")
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--save", type=Path, help="write the compared run's figures to this JSON file")
    parser.add_argument(
        "--baseline", type=Path, help="compare with the figures --save wrote (another version of the code) instead"
    )
    args = parser.parse_args()
    if args.variants < 1:
        parser.error(f"--variants {args.variants}: expected at least 1")
    baseline = _read_baseline(args.baseline, args.variants) if args.baseline else None
    torch.set_num_threads(1)
    changed = ProcessingConfig(**parse_overrides(args.set, PROCESSING_SETTINGS))
    default = ProcessingConfig()
    reference = f"the figures in {args.baseline}" if args.baseline else f"default: {default.to_dict()}"
    print(f"{reference}\ncompared: {', '.join(args.set) or '(the default config)'}\n")
    changes: dict[str, list[float]] = {name: [] for name in FIGURES}
    seconds = [0.0, 0.0]
    saved: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, network in networks(Path(folder)).items():
            if baseline is None:
                before, before_seconds = measure(network, default, args.variants)
            elif name in baseline:
                before, before_seconds = baseline[name]
            else:
                raise SystemExit(f"{args.baseline}: no figures for the network {name!r}")
            after, after_seconds = measure(network, changed, args.variants)
            saved[name] = {"figures": after, "seconds": after_seconds, "variants": args.variants}
            seconds[0] += before_seconds
            seconds[1] += after_seconds
            print(name)
            for figure in FIGURES:
                old, new = statistics.mean(before[figure]), statistics.mean(after[figure])
                change = 100 * (new / old - 1)
                changes[figure].append(change)
                print(
                    f"  {figure:17} {old:.4f} ± {statistics.pstdev(before[figure]):.4f}  ->  "
                    f"{new:.4f} ± {statistics.pstdev(after[figure]):.4f}   {change:+.2f} %"
                )
    if args.save:
        args.save.write_text(json.dumps(saved, indent=1))
    means = ", ".join(f"{name} {statistics.mean(change):+.2f} %" for name, change in changes.items())
    print(f"\nmean change over the networks: {means}")
    print(f"processing seconds (one thread): {seconds[0]:.1f} -> {seconds[1]:.1f}, x{seconds[1] / seconds[0]:.2f}")


def _read_baseline(path: Path, variants: int) -> dict[str, tuple[dict[str, list[float]], float]]:
    """The figures and seconds per network that ``--save`` wrote to ``path``, run with ``variants`` variants."""
    try:
        saved = json.loads(path.read_text())
        runs = {name: (run["figures"], float(run["seconds"])) for name, run in saved.items()}
        counts = {run["variants"] for run in saved.values()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SystemExit(f"{path}: not a file that --save wrote ({exc})") from exc
    if counts != {variants}:
        raise SystemExit(f"{path}: saved with --variants {sorted(counts)}, this run has --variants {variants}")
    return runs


if __name__ == "__main__":
    main()
