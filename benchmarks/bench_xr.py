"""Headset benchmark: frames per second in the emulated Quest 3 (iwer) for a processed 784-81-49-10 network, with
the headset's sample budget and with every sample drawn.

    python benchmarks/bench_xr.py                      # processes a random 784-81-49-10 network first
    python benchmarks/bench_xr.py --file net.processed.nnscape --frames 10

Runs Debian's Chromium headless with the browser tests' flags and injects iwer (web/node_modules) as the
browser tests do. Without a GPU, WebGL runs on Mesa's llvmpipe on the CPU: the absolute figures measure the
CPU; the ratio between the two runs shows how the budget's threshold scales the cost (docs/deploy.md turns
that into the headset estimate).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, sync_playwright

from nnscape.export.png import CHROMIUM_ARGS, DEBIAN_CHROMIUM
from nnscape.io import load
from nnscape.server import create_app, serve_in_thread

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))
from test_xr import INSTALL_HEADSET, IWER

from bench_viewer import processed_file

VIEWPORT: ViewportSize = {"width": 1280, "height": 720}
TARGET_FPS = 72  # the Quest's lowest refresh rate
WAIT_MS = 600_000
THRESHOLD_KEY = "edges.importance_threshold"


def frames_per_second(page: Page, frames: int) -> float:
    """Frames per second over the next ``frames`` frames (after one to let a change take effect)."""
    page.wait_for_function(f"window.nnscapeViewer.framesRendered > {_frames(page)}", timeout=WAIT_MS)
    first = _frames(page)
    start = time.perf_counter()
    page.wait_for_function(f"window.nnscapeViewer.framesRendered >= {first + frames}", timeout=WAIT_MS, polling=50)
    return frames / (time.perf_counter() - start)


def _frames(page: Page) -> int:
    return int(page.evaluate("window.nnscapeViewer.framesRendered"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, help="a processed .nnscape file (default: a random 784-81-49-10)")
    parser.add_argument("--frames", type=int, default=5, help="frames each run counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.file.resolve() if args.file else processed_file(Path(scratch))
        samples = load(path).n_samples
        url, stop = serve_in_thread(create_app(path.parent, config_folder=Path(scratch) / "configs"))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=DEBIAN_CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                page = browser.new_page(viewport=VIEWPORT)
                page.add_init_script(script=IWER.read_text(encoding="utf-8") + INSTALL_HEADSET)
                page.goto(f"{url}?test=1&network={path.name}")
                page.wait_for_function("document.body.dataset.state === 'ready'", timeout=WAIT_MS)
                page.get_by_role("button", name="ENTER VR").click(timeout=WAIT_MS)
                page.wait_for_function("window.nnscapeHeadset.activeSession !== undefined", timeout=WAIT_MS)
                budget_fps = frames_per_second(page, args.frames)
                page.evaluate(f"window.nnscapeViewer.setRender({THRESHOLD_KEY!r}, 0)")
                all_fps = frames_per_second(page, args.frames)
                browser.close()
        finally:
            stop()
    eye = f"{VIEWPORT['width'] // 2}×{VIEWPORT['height']}"
    print(f"{path.name}: {samples:,} edge samples; two eyes of {eye} px")
    ratio = budget_fps / max(all_fps, 1e-9)
    print(f"  with the headset budget (XR_SAMPLE_BUDGET): {budget_fps:6.2f} frames/s")
    print(f"  every sample drawn:                         {all_fps:6.2f} frames/s  (the budget is {ratio:.1f}× faster)")
    print(f"  target on a headset GPU: {TARGET_FPS} frames/s (llvmpipe here draws on the CPU: see docs/deploy.md)")


if __name__ == "__main__":
    main()
