"""Benchmark: the whole digits demo pipeline (what `nnscape demo` does before the viewer opens), and its claim.

Three 64-32-16-10 MLPs (untrained, basic, L1) on scikit-learn's digits: training, batch-norm importance and
processing with the default config, into a fresh folder each run (nothing reused); run i uses seed i.
Time target (issue 6): under 30 s on this 2-core CPU; above 60 s counts as failed. Prints the median and every
run (wall and CPU seconds: on a shared machine the wall time says more about the others' load), the time of
each stage of the last run, and the load average.

The claim (issue 9): the picture narrows from untrained to basic to L1, measured by the ``drawn_spread`` quality
figure (docs/processing.md: the spread of what the viewer draws), with each gap between the variants' means
larger than the spread (max - min) of either variant over the seeds. Prints every seed's figures, the gaps and
the seed spreads, and the same for ``spread`` (every point alike, drawn or hidden) and ``visible_ink``.

    python benchmarks/bench_demo.py [--runs 3] [--data digits] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections import defaultdict

import torch

from nnscape.demo import SINGLE_THREAD_DATA, VARIANTS, build_demo, demo_recipe
from nnscape.io import load
from nnscape.progress import ProgressEvent

TARGET_SECONDS = 30.0
FAIL_SECONDS = 60.0
# The figure the claim is measured by, then the others reported beside it.
CLAIM = "drawn_spread"
FIGURES = (CLAIM, "spread", "visible_ink")


class StageTimer:
    """A progress callback charging the time since the previous event to this event's stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.last = time.perf_counter()

    def __call__(self, event: ProgressEvent) -> None:
        now = time.perf_counter()
        self.seconds[event.phase.split(": ")[-1]] += now - self.last  # "digits-basic: edges" → "edges"
        self.last = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument("--data", default="digits", help="digits or fashion-mnist (default digits)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    seconds: list[float] = []
    cpu: list[float] = []
    figures: dict[str, list[list[float]]] = {name: [] for name in FIGURES}  # per figure, per run: each variant
    timer = StageTimer()
    for run in range(args.runs):
        timer = StageTimer()
        with tempfile.TemporaryDirectory(prefix="nnscape-bench-demo-") as folder:
            started = timer.last = time.perf_counter()
            cpu_started = time.process_time()
            paths = build_demo(folder, recipe=demo_recipe(args.data, seed=run), progress=timer)
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            qualities = [json.loads(load(path).metadata["quality"]) for path in paths]
        for name in FIGURES:
            figures[name].append([quality[name] for quality in qualities])
        shown = "; ".join(
            f"{name} " + ", ".join(f"{v} {value:.5f}" for v, value in zip(VARIANTS, figures[name][-1], strict=True))
            for name in FIGURES
        )
        print(f"run {run + 1} (seed {run}): {seconds[-1]:.1f} s, {cpu[-1]:.1f} CPU s; {shown}", flush=True)
    stages = timer.seconds

    median = statistics.median(seconds)
    print(
        f"demo on {args.data}, 3 networks, {SINGLE_THREAD_DATA.get(args.data, torch.get_num_threads())} thread(s), "
        f"load average "
        f"{os.getloadavg()[0]:.1f}; last run by stage: "
        + ", ".join(f"{stage} {value:.1f} s" for stage, value in sorted(stages.items(), key=lambda kv: -kv[1]))
    )
    verdict = "met" if median < TARGET_SECONDS else ("within the fail line" if median < FAIL_SECONDS else "FAILED")
    print(
        f"median {median:.1f} s over {args.runs} runs (runs: {', '.join(f'{s:.1f}' for s in seconds)}; "
        f"CPU s: {', '.join(f'{s:.1f}' for s in cpu)}); "
        f"target < {TARGET_SECONDS:.0f} s, fail line {FAIL_SECONDS:.0f} s: {verdict}"
    )
    for name in FIGURES:
        by_variant = list(zip(*figures[name], strict=True))
        means = [statistics.mean(values) for values in by_variant]
        spreads = [max(values) - min(values) for values in by_variant]
        gaps = [means[k] - means[k + 1] for k in range(len(VARIANTS) - 1)]
        held = all(gap > max(spreads[k], spreads[k + 1]) for k, gap in enumerate(gaps))
        print(
            f"{name}, mean (seed spread): "
            + ", ".join(f"{v} {m:.5f} ({d:.5f})" for v, m, d in zip(VARIANTS, means, spreads, strict=True))
            + "; gaps "
            + ", ".join(f"{VARIANTS[k]}-{VARIANTS[k + 1]} {gap:.5f}" for k, gap in enumerate(gaps))
            + "; untrained > basic > l1, each gap above both neighbours' seed spreads: "
            + ("yes" if held else "no")
            + (
                " (the claim's figure: goal met)"
                if held and name == CLAIM
                else " (the claim's figure: goal NOT met)"
                if name == CLAIM
                else ""
            )
        )


if __name__ == "__main__":
    main()
