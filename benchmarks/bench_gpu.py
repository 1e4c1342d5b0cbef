"""Processing on a CUDA GPU: seconds per network beside the goals of issue 13, from source, nothing to download.

    PYTHONPATH=src python benchmarks/bench_gpu.py [--repeats 5] [--only 784-81] [--no-cpu] [--device cuda:1]

Needs torch with CUDA and a CUDA device; without one it says so in one line and exits with status 2. All
networks are generated (random, seeded), so nothing is read or downloaded; the whole run takes a few minutes,
most of it the unpruned 1.86 M-edge network (skip it with ``--only``). Every case runs once untimed in the
same process (CUDA context, kernel loading, the caching allocator's first requests), then ``--repeats`` timed
runs; each time ends with ``torch.cuda.synchronize()``. Printed per case: median wall seconds of ``process``
(the whole call: layout, node and edge phase, the copy back, and the quality figures, which run on the CPU)
beside the goal, the seconds of the quality figures alone, the peak GPU memory, and the figures ink and
class separation. The first network is also processed on the CPU (``--no-cpu`` skips it) so that its
figures can be compared: CUDA's ``index_add_`` adds in no fixed order, so the bits differ, the figures should
not.

``--device cpu`` runs the same measurement on the CPU (how the script itself is tested without a GPU).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import dataclass

import torch

from nnscape.config import ProcessingConfig
from nnscape.generate import random_network
from nnscape.network import Network
from nnscape.processing import process, quality


@dataclass(frozen=True)
class Case:
    layers: tuple[int, ...]
    prune: float
    seconds: float | None  # goal on one GPU, if the issue sets one

    @property
    def name(self) -> str:
        return "-".join(map(str, self.layers)) + (f" prune {self.prune}" if self.prune else "")


CASES = (
    Case((784, 81, 49, 10), 0.0, 0.2),
    Case((784, 256, 128, 10), 0.0, None),
    Case((784, 1024, 1024, 10), 0.9, None),
    Case((784, 1024, 1024, 10), 0.0, None),
)
# Warm-up network: every kernel the cases use, in a fraction of a second.
WARM_UP = (64, 32, 10)
NO_DEVICE_STATUS = 2


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(network: Network, config: ProcessingConfig, device: torch.device) -> tuple[float, Network]:
    _synchronize(device)
    started = time.perf_counter()
    result = process(network, config, device=device)
    _synchronize(device)
    return time.perf_counter() - started, result


def _describe(device: torch.device) -> str:
    if device.type == "cuda":
        properties = torch.cuda.get_device_properties(device)
        return (
            f"{torch.cuda.get_device_name(device)} ({properties.total_memory / 2**30:.0f} GiB), "
            f"torch {torch.__version__}, CUDA {torch.version.cuda}"
        )
    processor = platform.processor() or platform.machine()
    return f"CPU {processor}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def _device(name: str) -> torch.device | None:
    """The device to measure on, or None (after one line on stderr) where it is not usable."""
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        print(f"bench_gpu: {name!r} is not a torch device (expected cuda, cuda:N or cpu)", file=sys.stderr)
        return None
    if device.type == "cuda" and not torch.cuda.is_available():
        built = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "built without CUDA"
        print(
            f"bench_gpu: no CUDA device here (torch {torch.__version__}, {built}); run it on a machine with an "
            "NVIDIA GPU, or pass --device cpu",
            file=sys.stderr,
        )
        return None
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        print(f"bench_gpu: {name}: only {torch.cuda.device_count()} CUDA device(s) here", file=sys.stderr)
        return None
    if device.type not in ("cuda", "cpu"):
        print(f"bench_gpu: {name}: only cuda and cpu are measured", file=sys.stderr)
        return None
    return device


def _figures(result: Network) -> str:
    figures = json.loads(result.metadata["quality"])
    return f"ink {figures['ink']:.3f}  separation {figures.get('class_separation', float('nan')):.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N (default cuda), or cpu to test the script")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case after the untimed one")
    parser.add_argument("--only", help="only the cases whose name starts with this, e.g. 784-81")
    parser.add_argument("--layers", help="one case of these layers instead, e.g. 16,8,2 (no goal)")
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU run of the first network")
    args = parser.parse_args(argv)
    device = _device(args.device)
    if device is None:
        return NO_DEVICE_STATUS
    cases: tuple[Case, ...] = CASES
    if args.layers:
        cases = (Case(tuple(int(size) for size in args.layers.split(",")), 0.0, None),)
    elif args.only:
        cases = tuple(case for case in CASES if case.name.startswith(args.only))
    print(f"device: {_describe(device)}")
    _timed(random_network(list(WARM_UP), seed=0), ProcessingConfig(), device)

    print(f"{'case':32} {'edges':>8} {'samples':>9} {'median s':>9} {'goal':>5} {'quality s':>9} {'peak GB':>8}")
    for index, case in enumerate(cases):
        network = random_network(list(case.layers), seed=0)
        config = ProcessingConfig(prune_percentage=case.prune)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        first, result = _timed(network, config, device)
        runs = [_timed(network, config, device)[0] for _ in range(args.repeats)]
        seconds = statistics.median(runs) if runs else first
        peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
        started = time.perf_counter()
        quality(result)
        quality_seconds = time.perf_counter() - started
        goal = f"{case.seconds:g}" if case.seconds is not None else "-"
        verdict = "" if case.seconds is None else ("ok" if seconds <= case.seconds else "MISS")
        each = ", ".join(f"{run:.3f}" for run in runs)
        print(
            f"{case.name:32} {result.n_edges:>8} {result.n_samples:>9} {seconds:>9.3f} {goal:>5} "
            f"{quality_seconds:>9.3f} {peak:>8.2f}  {_figures(result)}  {verdict}  (first {first:.3f}; runs: {each})"
        )
        if index == 0 and not args.no_cpu and device.type == "cuda":
            cpu_seconds, cpu_result = _timed(network, config, torch.device("cpu"))
            print(
                f"{'  the same on the CPU':32} {'':>8} {cpu_result.n_samples:>9} {cpu_seconds:>9.3f} {'':>5} "
                f"{'':>9} {'':>8}  {_figures(cpu_result)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
