"""Processing speed, memory and bundling quality against the goals of issue 13 (median of runs, each a fresh process).

    python benchmarks/bench_processing.py [--repeats 3] [--device cpu] [--threads N] [--only 784-81-49-10]

Each run generates a random network (not timed), processes it with the default config (the prune fraction of
its case), and reports wall seconds, CPU seconds of the process (all threads; on a shared machine wall time
depends on the load, CPU time much less), the peak resident memory of its process, and the quality figures
(ink, inside, class separation, visible ink; docs/processing.md), which must not get worse when the code
gets faster. Runs are separate processes so that the peak of one case does not hide another's. The first
line is the command a user waits for: ``nnscape process FILE`` on 784-81-49-10 in a fresh process, start-up
(importing torch) and reading and writing the files included; the line under it times a fresh Python that only
imports torch, the floor under that figure. The load average is printed with the
figures: above the core count, wall times are inflated by other work. The last table shows how time grows
with edges.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    layers: tuple[int, ...]
    prune: float
    seconds: float  # goal
    memory_gb: float | None  # goal, if any

    @property
    def name(self) -> str:
        return "-".join(map(str, self.layers)) + (f" prune {self.prune}" if self.prune else "")


CASES = (
    Case((784, 81, 49, 10), 0.0, 2.0, 1.0),
    Case((784, 256, 128, 10), 0.0, 8.0, None),
    Case((784, 1024, 1024, 10), 0.9, 6.0, None),
    Case((784, 1024, 1024, 10), 0.0, 60.0, 4.0),
)
# `nnscape process FILE` on the first case, start-up included: the goal for what a user waits for.
CLI_SECONDS = 2.0
FIGURES = ("ink", "inside", "class_separation", "visible_ink")


def run_once(case: Case, device: str, threads: int | None) -> dict[str, float]:
    """Process one network in this process; returns seconds, peak memory, sizes and the quality figures."""
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
        **{name: quality.get(name, float("nan")) for name in FIGURES},
    }


def cli_seconds(device: str, threads: int | None, repeats: int) -> list[tuple[float, float]]:
    """Wall and CPU seconds of ``nnscape process`` on a random 784-81-49-10 file, each in a fresh process."""
    from nnscape.generate import random_network

    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)  # torch's default thread count follows it
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "random.nnscape"
        random_network(list(CASES[0].layers), seed=0).save(source)
        command = [sys.executable, "-m", "nnscape", "process", str(source), "--out", str(Path(folder) / "out.nnscape")]
        command += ["--quiet", "--device", device]
        for _ in range(repeats):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, check=True, env=env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            runs.append((time.perf_counter() - started, cpu))
    return runs


def start_up_seconds(repeats: int) -> float:
    """Median wall seconds of a fresh Python that only imports torch and leaves as ``nnscape`` does (the cycle
    collector paused while it imports, no interpreter shutdown): the part of the command's time that no change
    to nnscape can remove."""
    script = "import os\nfrom nnscape.cli.common import quick_imports\nwith quick_imports(): import torch\nos._exit(0)"
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", script], check=True)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--only", help="run only the cases whose name starts with this, e.g. 784-81")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(run_once(CASES[args.child], args.device, args.threads)))
        return

    print(
        f"threads {args.threads or 'torch default'}, {os.cpu_count()} cores, load average at start "
        f"{os.getloadavg()[0]:.1f}"
    )
    if not args.only or CASES[0].name.startswith(args.only):
        cli_runs = cli_seconds(args.device, args.threads, args.repeats)
        wall = statistics.median(run[0] for run in cli_runs)
        cpu = statistics.median(run[1] for run in cli_runs)
        verdict = "ok" if wall <= CLI_SECONDS else "MISS"
        each = ", ".join(f"{run[0]:.2f}" for run in cli_runs)
        print(
            f"nnscape process (784-81-49-10 file, start-up included): wall {wall:.2f} s (goal {CLI_SECONDS:g}), "
            f"cpu {cpu:.2f} s  {verdict}  (runs: {each})"
        )
        print(f"  of which Python and import torch alone: {start_up_seconds(args.repeats):.2f} s (median)\n")

    header = ("case", "edges", "samples", "wall s", "cpu s", "goal", "peak GB", "goal")
    print("{:26} {:>8} {:>9} {:>7} {:>7} {:>5} {:>8} {:>5}  ink    inside sep    visible".format(*header))
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
        memory_goal = f"{case.memory_gb:g}" if case.memory_gb else "-"
        each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        verdict = "ok" if seconds <= case.seconds and (case.memory_gb is None or peak <= case.memory_gb) else "MISS"
        figures = "  ".join(f"{first[name]:.4f}" for name in FIGURES)
        print(
            f"{case.name:26} {first['edges']:>8} {first['samples']:>9} {seconds:>7.2f} {cpu_seconds:>7.2f} "
            f"{case.seconds:>5g} {peak:>8.2f} {memory_goal:>5}  {figures}  {verdict}  (runs: {each})"
        )
        rows.append((first["edges"], first["samples"], cpu_seconds))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if len(rows) > 1:
        print("\ngrowth (CPU seconds per million edges and per million final samples):")
        for edges, samples, cpu_seconds in rows:
            print(
                f"  {edges:>8} edges, {samples:>8} samples: {cpu_seconds:7.2f} s = "
                f"{cpu_seconds / edges * 1e6:6.1f} s/M edges = {cpu_seconds / samples * 1e6:5.2f} s/M samples"
            )


if __name__ == "__main__":
    main()
