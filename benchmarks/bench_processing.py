"""Processing speed and memory against the targets of issue 4 (median of several runs, each in a fresh process).

    python benchmarks/bench_processing.py [--repeats 3] [--device cpu] [--threads N] [--only 784-81-49-10]

Each run generates a random network (not timed), processes it with the default config (the prune fraction of
its case), and reports wall seconds, CPU seconds of the process (all threads; on a shared machine wall time
depends on the load, CPU time much less) and the peak resident memory of its process. Runs are separate
processes so that the peak of one case does not hide another's. The last table shows how time grows with
edges.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    layers: tuple[int, ...]
    prune: float
    seconds: float  # target
    memory_gb: float | None  # target, if any

    @property
    def name(self) -> str:
        return "-".join(map(str, self.layers)) + (f" prune {self.prune}" if self.prune else "")


CASES = (
    Case((784, 81, 49, 10), 0.0, 5.0, 2.0),
    Case((784, 256, 128, 10), 0.0, 20.0, None),
    Case((784, 1024, 1024, 10), 0.9, 60.0, 8.0),
)


def run_once(case: Case, device: str, threads: int | None) -> dict[str, float]:
    """Process one network in this process; returns seconds, peak memory, sizes and the ink ratio."""
    import torch

    from nnscape.config import ProcessingConfig
    from nnscape.generate import random_network
    from nnscape.processing import process

    if threads:
        torch.set_num_threads(threads)
    network = random_network(list(case.layers), seed=0)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = process(network, ProcessingConfig(prune_percentage=case.prune), device=device)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    quality = json.loads(result.metadata["quality"])
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_gb": peak_kb / 2**20,
        "edges": result.n_edges,
        "samples": result.n_samples,
        "ink": quality["ink"],
        "inside": quality["inside"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--only", help="run only the case whose layers start with this, e.g. 784-81")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(run_once(CASES[args.child], args.device, args.threads)))
        return

    header = ("case", "edges", "samples", "wall s", "cpu s", "target", "peak GB", "target")
    print("{:34} {:>8} {:>9} {:>7} {:>7} {:>7} {:>8} {:>7}  ink".format(*header))
    rows = []
    for index, case in enumerate(CASES):
        if args.only and not case.name.startswith(args.only):
            continue
        runs = []
        for _ in range(args.repeats):
            command = [sys.executable, __file__, "--child", str(index), "--device", args.device]
            command += ["--threads", str(args.threads)] if args.threads else []
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(output.strip().splitlines()[-1]))
        seconds = statistics.median(r["seconds"] for r in runs)
        cpu_seconds = statistics.median(r["cpu_seconds"] for r in runs)
        peak = statistics.median(r["peak_gb"] for r in runs)
        first = runs[0]
        memory_target = f"{case.memory_gb:g}" if case.memory_gb else "-"
        each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        verdict = "ok" if seconds <= case.seconds and (case.memory_gb is None or peak <= case.memory_gb) else "MISS"
        print(
            f"{case.name:34} {first['edges']:>8} {first['samples']:>9} {seconds:>7.2f} {cpu_seconds:>7.2f} "
            f"{case.seconds:>7g} "
            f"{peak:>8.2f} {memory_target:>7}  {first['ink']:.3f}  {verdict}  "
            f"(runs: {each})"
        )
        rows.append((first["edges"], first["samples"], cpu_seconds))
    if len(rows) > 1:
        print("\ngrowth (CPU seconds per million edges and per million final samples):")
        for edges, samples, cpu_seconds in rows:
            print(
                f"  {edges:>8} edges, {samples:>8} samples: {cpu_seconds:7.2f} s = "
                f"{cpu_seconds / edges * 1e6:6.1f} s/M edges = {cpu_seconds / samples * 1e6:5.2f} s/M samples"
            )


if __name__ == "__main__":
    main()
