"""Viewer benchmark: page open → first frame and finished picture of a processed network in headless Chromium.

Prints, each beside its target: the time from opening the page to the first frame that shows the network (the
nodes and the strongest edge samples; the page draws a large network progressively) and to the finished
picture, where the load spent its time, the time of a redraw after a camera move, the frame time while the view
orbits (frames then draw only as many of the strongest samples as fit in a frame), and the page's memory: the
JavaScript heap (CDP ``Performance.getMetrics``), the arrays and GPU buffers the viewer allocates for the network
(its own count) and the proportional memory of all of Chromium's processes (PSS from /proc).

    python benchmarks/bench_viewer.py                      # processes a random 784-81-49-10 network first
    python benchmarks/bench_viewer.py --file net.processed.nnscape --runs 5
    python benchmarks/bench_viewer.py --samples 20000000   # a synthetic processed file of 20 M samples

Chromium is Debian's (/usr/bin/chromium) with the browser tests' flags: without a GPU, WebGL runs on Mesa's
llvmpipe on the CPU, so the frame figures measure the CPU, not what a laptop's GPU does.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, ViewportSize, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from nnscape.export.png import CHROMIUM_ARGS, DEBIAN_CHROMIUM
from nnscape.generate import random_network
from nnscape.io import load
from nnscape.server import create_app, serve_in_thread

LAYERS = (784, 81, 49, 10)
# 1.86 M edges of 11 samples: 20.5 M samples.
LARGE_LAYERS = (784, 1024, 1024, 10)
VIEWPORT: ViewportSize = {"width": 1280, "height": 720}
# Targets: a link opens to a picture within a few seconds; orbiting stays fluid (30 frames per second); the
# page stays well within what a browser tab may use on a laptop.
FIRST_FRAME_TARGET_S = 3.0
FRAME_TARGET_S = 1 / 30
MEMORY_TARGET_BYTES = 2 * 1024**3
WAIT_MS = 1_800_000
REDRAW_PRESETS = (1, 9)
ORBIT_S = 5.0
# The page's own account of a load (window.nnscapeViewer.timings), medians printed under the total.
STEPS = {
    "read": "download the bytes",
    "parse": "header, typed-array views, invariants",
    "prepare": "samples in draw order, colours, buffers",
    "draw": "GPU upload and the frames of the picture",
}
MB = 1e6
RENDERER_SCRIPT = """() => { const gl = document.querySelector('canvas').getContext('webgl2');
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER); }"""


def processed_file(folder: Path) -> Path:
    from nnscape.processing import process

    path = folder / "random-784-81-49-10.processed.nnscape"
    print(f"processing a random {'-'.join(map(str, LAYERS))} network (once) …", flush=True)
    start = time.perf_counter()
    process(random_network(LAYERS, seed=0), seed=0).save(path)
    print(f"  processed in {time.perf_counter() - start:.0f} s", flush=True)
    return path


def synthetic_file(folder: Path, samples: int) -> Path:
    """A processed file of about `samples` samples: a random dense network whose straight edges are bent towards
    the layer axis (as bundles are), the same number of samples on every edge."""
    network = random_network(LARGE_LAYERS, seed=0)
    per_edge = max(2, round(samples / network.n_edges))
    path = folder / f"synthetic-{network.n_edges * per_edge // 1_000_000}M.processed.nnscape"
    print(f"writing {path.name}: {network.n_edges:,} edges × {per_edge} samples …", flush=True)
    along = np.linspace(0.0, 1.0, per_edge, dtype=np.float32)[None, :, None]
    pull = (1 - 0.5 * np.sin(np.pi * along)).astype(np.float32)
    points = np.empty((network.n_edges, per_edge, 3), dtype=np.float32)
    step = 200_000  # edges at a time, so the float32 temporaries stay small
    for first in range(0, network.n_edges, step):
        s = network.node_position[network.edge_source[first : first + step]][:, None, :]
        t = network.node_position[network.edge_target[first : first + step]][:, None, :]
        line = s * (1 - along) + t * along
        line[:, :, :2] *= pull[:, :, :1]
        points[first : first + step] = line
    offsets = np.arange(network.n_edges + 1, dtype=np.int64) * per_edge
    network.with_changes(edge_offsets=offsets, edge_points=points.reshape(-1, 3)).save(path)
    return path


def chromium_pss_bytes() -> int:
    """Proportional set size of every Chromium process this benchmark started (its descendants in /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    mine = {os.getpid()}
    for _ in range(8):  # the process tree is a few levels deep
        mine |= {pid for pid, parent in parents.items() if parent in mine}
    total = 0
    for pid in mine - {os.getpid()}:
        try:
            if "chrom" not in Path(f"/proc/{pid}/comm").read_text():
                continue
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) * 1024 for line in rollup.splitlines() if line.startswith("Pss:"))
    return total


def hook(page: Page, name: str) -> float:
    return float(page.evaluate(f"window.nnscapeViewer.{name}"))


def open_page(page: Page, url: str, finish_s: float) -> dict[str, float]:
    """Open the viewer and wait for its first frame, then up to `finish_s` for the finished picture; the page's
    timings (ms; no "finished" when it did not finish)."""
    page.goto(url)
    page.wait_for_function(
        "window.nnscapeViewer?.timings.firstFrame > 0 || document.body.dataset.state === 'error'", timeout=WAIT_MS
    )
    with contextlib.suppress(PlaywrightTimeout):  # a huge file on a software renderer: report its progress
        page.wait_for_function("document.body.dataset.state !== 'loading'", timeout=finish_s * 1000, polling=50)
    if page.evaluate("document.body.dataset.state") == "error":
        sys.exit(f"viewer failed: {page.evaluate('document.body.dataset.error')}")
    timings = dict(page.evaluate("({...window.nnscapeViewer.timings})"))
    if page.evaluate("document.body.dataset.state") != "ready":
        timings.pop("finished")
        timings["progress"] = hook(page, "progress.drawn") / max(hook(page, "progress.shown"), 1)
    return timings


def redraw(page: Page, preset: int, finish: bool) -> tuple[float, float | None]:
    """Seconds to the first frame and (when `finish`) to the finished picture after a camera move."""
    drawn = hook(page, "framesDrawn")
    finished = hook(page, "framesRendered")
    start = time.perf_counter()
    page.evaluate(f"window.nnscapeViewer.setCamera({preset})")
    page.wait_for_function(f"window.nnscapeViewer.framesDrawn > {drawn}", timeout=WAIT_MS, polling=1)
    first = time.perf_counter() - start
    if not finish:
        return first, None
    page.wait_for_function(f"window.nnscapeViewer.framesRendered > {finished}", timeout=WAIT_MS, polling=10)
    return first, time.perf_counter() - start


def orbit(page: Page) -> tuple[float, float]:
    """While the view turns for ORBIT_S: mean seconds per frame and mean edge samples drawn per frame."""
    page.evaluate("window.nnscapeViewer.setRotating(true)")
    page.wait_for_timeout(500)  # the level of detail settles
    frames = hook(page, "framesDrawn")
    drawn: list[float] = []
    start = time.perf_counter()
    while time.perf_counter() - start < ORBIT_S:
        drawn.append(hook(page, "progress.drawn"))
        page.wait_for_timeout(100)
    seconds = time.perf_counter() - start
    frames = hook(page, "framesDrawn") - frames
    page.evaluate("window.nnscapeViewer.setRotating(false)")
    return seconds / max(frames, 1), statistics.mean(drawn)


def memory(page: Page) -> dict[str, float]:
    session = page.context.new_cdp_session(page)
    session.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in session.send("Performance.getMetrics")["metrics"]}
    session.detach()
    own = page.evaluate("({...window.nnscapeViewer.memory})")
    return {"heap": metrics["JSHeapUsedSize"], **own, "pss": chromium_pss_bytes()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a processed .nnscape file (default: process a random one)")
    parser.add_argument("--samples", type=int, help="write and show a synthetic processed file of about this many")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--finish", type=float, default=600, help="seconds to wait for a finished picture")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.file:
            path = args.file.resolve()
        elif args.samples:
            path = synthetic_file(Path(scratch), args.samples)
        else:
            path = processed_file(Path(scratch))
        network = load(path)
        size_mb = path.stat().st_size / MB
        url, stop = serve_in_thread(create_app(path.parent, config_folder=Path(scratch) / "configs"))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=DEBIAN_CHROMIUM, args=list(CHROMIUM_ARGS))
                timings: list[dict[str, float]] = []
                redraws: list[tuple[float, float | None]] = []
                for run in range(args.runs):
                    page = browser.new_page(viewport=VIEWPORT)
                    timings.append(open_page(page, f"{url}?test=1&network={path.name}", args.finish))
                    redraws.extend(redraw(page, preset, "finished" in timings[-1]) for preset in REDRAW_PRESETS)
                    if run == args.runs - 1:
                        frame, orbit_samples = orbit(page)
                        used = memory(page)
                        renderer = page.evaluate(RENDERER_SCRIPT)
                    page.close()
                browser.close()
        finally:
            stop()
    runs = f"median of {len(timings)}"
    print(f"file: {path.name}  {network.kind} {'-'.join(map(str, network.layer_sizes.tolist()))}  "
          f"{network.n_edges:,} edges  {network.n_samples:,} samples")  # fmt: skip
    print(f"file size:                 {size_mb:9.1f} MB")
    print(f"WebGL renderer:            {renderer}  (viewport {VIEWPORT['width']}x{VIEWPORT['height']})")
    first = statistics.median(t["firstFrame"] for t in timings) / 1000
    print(f"open → first frame:        {first:9.2f} s   (target {FIRST_FRAME_TARGET_S:.1f} s; {runs}; nodes and "
          "the strongest samples)")  # fmt: skip
    done = [t for t in timings if "finished" in t]
    if len(done) == len(timings):
        finished = statistics.median(t["finished"] for t in timings) / 1000
        print(f"open → finished picture:   {finished:9.2f} s   ({runs}; every sample drawn)")
        for step, meaning in STEPS.items():
            print(f"  {step + ':':24s} {statistics.median(t[step] for t in timings) / 1000:9.2f} s   ({meaning})")
    else:
        progress = statistics.median(t.get("progress", 1) for t in timings)
        print(f"open → finished picture:   not within {args.finish:.0f} s   ({progress:.0%} of the samples drawn then)")
        for step in ("read", "parse", "prepare"):
            print(f"  {step + ':':24s} {statistics.median(t[step] for t in timings) / 1000:9.2f} s   ({STEPS[step]})")
    print(f"camera move → first frame: {statistics.median(r[0] for r in redraws):9.3f} s   "
          f"(target {FRAME_TARGET_S:.3f} s; median of {len(redraws)})")  # fmt: skip
    finishes = [r[1] for r in redraws if r[1] is not None]
    if finishes:
        print(f"camera move → finished:    {statistics.median(finishes):9.3f} s   (median of {len(finishes)})")
    print(f"orbit, time per frame:     {frame:9.3f} s   (target {FRAME_TARGET_S:.3f} s; {ORBIT_S:.0f} s of "
          f"turning, {orbit_samples:,.0f} of {network.n_samples:,} samples a frame)")  # fmt: skip
    print(f"memory, JS heap:           {used['heap'] / MB:9.1f} MB")
    print(f"memory, file bytes:        {used['fileBytes'] / MB:9.1f} MB   (the download, kept while shown)")
    print(f"memory, derived arrays:    {used['arrayBytes'] / MB:9.1f} MB   (samples in draw order, colours)")
    print(f"memory, GPU buffers:       {used['gpuBytes'] / MB:9.1f} MB   (allocated by the viewer)")
    print(f"memory, Chromium (PSS):    {used['pss'] / MB:9.1f} MB   (target {MEMORY_TARGET_BYTES / MB:.0f} MB; "
          "every process of the browser, llvmpipe's GPU memory included)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
