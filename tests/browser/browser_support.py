"""Driving the viewer page in tests: open it in test mode, change things, wait for the frame, read pixels.

The page's test hooks (``window.nnscapeViewer``) only set things up and say when a frame is done; every check
looks at the canvas's real pixels.
"""

from __future__ import annotations

import io
import json

import numpy as np
import numpy.typing as npt
from PIL import Image
from playwright.sync_api import Page

# The networks every browser test session serves (see conftest.py).
PROCESSED = "tiny.processed.nnscape"
PLAIN = "tiny.nnscape"
TINY_LAYERS = (16, 9, 10)
# More classes than the ten palette colours of ALGORITHM.md.
MANY_CLASSES = "many-classes.nnscape"
MANY_CLASSES_LAYERS = (8, 6, 13)

FRAME_TIMEOUT_MS = 60_000
# Overlays (panels, status line) hidden while the canvas is captured, so pixels are the canvas's own.
_HIDE_OVERLAYS = ".lil-gui, #message { visibility: hidden !important; }"
WHITE = 255
# A pixel counts as drawn when some channel is clearly below white (antialiasing leaves faint fringes).
INK_THRESHOLD = 8


class ViewerPage:
    """One browser page on the viewer."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")

    def open(self, network: str | None = None) -> None:
        """Load ``/?test=1`` (and ``&network=``) and wait until its first frame of the network is drawn."""
        query = "?test=1" + (f"&network={network}" if network is not None else "")
        self.page.goto(f"{self.base_url}/{query}")
        self.wait_ready()

    def wait_ready(self) -> None:
        state = self.wait_settled()
        assert state == "ready", f"viewer failed: {self.page.evaluate('document.body.dataset.error')}"

    def wait_settled(self) -> str:
        """Wait until the page shows a network or an error; return which ("ready" or "error")."""
        self.page.wait_for_function(
            "['ready', 'error'].includes(document.body.dataset.state)", timeout=FRAME_TIMEOUT_MS
        )
        return str(self.page.evaluate("document.body.dataset.state"))

    @property
    def frames(self) -> int:
        return int(self.page.evaluate("window.nnscapeViewer.framesRendered"))

    def apply(self, script: str) -> None:
        """Run ``script`` (using ``nnscapeViewer``) and wait for the frame it causes."""
        before = self.frames
        self.page.evaluate(script)
        self.wait_frame_after(before)

    def press(self, key: str) -> None:
        """Press ``key`` on the page and wait for the frame it causes."""
        before = self.frames
        self.page.keyboard.press(key)
        self.wait_frame_after(before)

    def wait_frame_after(self, frames: int) -> None:
        self.page.wait_for_function(f"window.nnscapeViewer.framesRendered > {frames}", timeout=FRAME_TIMEOUT_MS)

    def set_render(self, key: str, value: object) -> None:
        self.apply(f"window.nnscapeViewer.setRender({json.dumps(key)}, {json.dumps(value)})")

    def set_class_view(self, view: object) -> None:
        self.apply(f"window.nnscapeViewer.setClassView({json.dumps(view)})")

    def canvas_size(self) -> tuple[int, int]:
        width, height = self.page.evaluate(
            "[document.querySelector('canvas').width, document.querySelector('canvas').height]"
        )
        return int(width), int(height)

    def pixels(self) -> npt.NDArray[np.uint8]:
        """``(H, W, 3) uint8``: what the canvas shows now, without the overlays."""
        style = self.page.add_style_tag(content=_HIDE_OVERLAYS)
        try:
            png = self.page.locator("canvas").screenshot()
        finally:
            style.evaluate("element => element.remove()")
        with Image.open(io.BytesIO(png)) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)


def ink(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """``(H, W) bool``: pixels that are not (nearly) white."""
    drawn: npt.NDArray[np.bool_] = (WHITE - pixels.astype(np.int16)).max(axis=2) > INK_THRESHOLD
    return drawn


def changed_pixels(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> int:
    """How many pixels of two pictures clearly differ (some channel by more than the ink threshold)."""
    return int((np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > INK_THRESHOLD).sum())
