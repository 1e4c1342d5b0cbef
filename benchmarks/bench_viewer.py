"""Viewer benchmark: page open → first full frame of a processed 784-81-49-10 network in headless Chromium.

Prints the file size, the time from opening the page to the first finished frame (download, parse, GPU upload,
draw), and the time of a redraw (a camera move), each the median of several runs, beside the targets. The
frame is "finished" when the page's test mode has read a pixel back after drawing it.

    python benchmarks/bench_viewer.py                      # processes a random 784-81-49-10 network first
    python benchmarks/bench_viewer.py --file net.processed.nnscape --runs 5

Chromium is Debian's (/usr/bin/chromium) with the browser tests' flags: without a GPU, WebGL runs on Mesa's
llvmpipe on the CPU, so the frame figures measure the CPU, not what a laptop's GPU does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, sync_playwright

from nnscape.export.png import CHROMIUM_ARGS, DEBIAN_CHROMIUM
from nnscape.generate import random_network
from nnscape.io import load
from nnscape.server import create_app, serve_in_thread

LAYERS = (784, 81, 49, 10)
VIEWPORT: ViewportSize = {"width": 1280, "height": 720}
# Targets: a link opens to a picture within a few seconds; orbiting stays fluid (30 frames per second).
FIRST_FRAME_TARGET_S = 5.0
REDRAW_TARGET_S = 1 / 30
WAIT_MS = 600_000
REDRAW_PRESETS = (1, 9)
# The page's own account of a load (window.nnscapeViewer.timings), medians printed under the total.
STEPS = {
    "read": "download the bytes",
    "parse": "header, typed-array views, invariants",
    "prepare": "samples, colours, buffers",
    "draw": "GPU upload and the first frame",
}


def processed_file(folder: Path) -> Path:
    from nnscape.processing import process

    path = folder / "random-784-81-49-10.processed.nnscape"
    print(f"processing a random {'-'.join(map(str, LAYERS))} network (once) …", flush=True)
    start = time.perf_counter()
    process(random_network(LAYERS, seed=0), seed=0).save(path)
    print(f"  processed in {time.perf_counter() - start:.0f} s", flush=True)
    return path


def open_page(page: Page, url: str) -> float:
    """Seconds from navigation to the first finished frame of the network."""
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function("['ready', 'error'].includes(document.body.dataset.state)", timeout=WAIT_MS)
    elapsed = time.perf_counter() - start
    if page.evaluate("document.body.dataset.state") != "ready":
        sys.exit(f"viewer failed: {page.evaluate('document.body.dataset.error')}")
    return elapsed


def redraw(page: Page, preset: int) -> float:
    """Seconds for one frame after a camera move."""
    before = page.evaluate("window.nnscapeViewer.framesRendered")
    start = time.perf_counter()
    page.evaluate(f"window.nnscapeViewer.setCamera({preset})")
    page.wait_for_function(f"window.nnscapeViewer.framesRendered > {before}", timeout=WAIT_MS)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a processed .nnscape file (default: process a random one)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.file.resolve() if args.file else processed_file(Path(scratch))
        network = load(path)
        size_mb = path.stat().st_size / 1e6
        url, stop = serve_in_thread(create_app(path.parent, config_folder=Path(scratch) / "configs"))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=DEBIAN_CHROMIUM, args=list(CHROMIUM_ARGS))
                first: list[float] = []
                frames: list[float] = []
                steps: list[dict[str, float]] = []
                renderer = ""
                for _ in range(args.runs):
                    page = browser.new_page(viewport=VIEWPORT)
                    first.append(open_page(page, f"{url}?test=1&network={path.name}"))
                    steps.append(page.evaluate("({...window.nnscapeViewer.timings})"))
                    frames.extend(redraw(page, preset) for preset in REDRAW_PRESETS)
                    renderer = page.evaluate(
                        """() => { const gl = document.querySelector('canvas').getContext('webgl2');
                        const info = gl.getExtension('WEBGL_debug_renderer_info');
                        return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER); }"""
                    )
                    page.close()
                browser.close()
        finally:
            stop()
    print(f"file: {path.name}  {network.kind} {'-'.join(map(str, network.layer_sizes.tolist()))}  "
          f"{network.n_edges:,} edges  {network.n_samples:,} samples")  # fmt: skip
    print(f"file size:              {size_mb:8.1f} MB")
    print(f"WebGL renderer:         {renderer}  (viewport {VIEWPORT['width']}x{VIEWPORT['height']})")
    print(f"open → first frame:     {statistics.median(first):8.2f} s   (target {FIRST_FRAME_TARGET_S:.1f} s; "
          f"median of {len(first)}, min {min(first):.2f} s)")  # fmt: skip
    for step, meaning in STEPS.items():
        print(f"  {step + ':':21s} {statistics.median(t[step] for t in steps) / 1000:8.2f} s   ({meaning})")
    print(f"redraw (camera move):   {statistics.median(frames):8.3f} s   (target {REDRAW_TARGET_S:.3f} s; "
          f"median of {len(frames)}, min {min(frames):.3f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
