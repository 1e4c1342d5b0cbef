"""The viewer's picture figures, and the headless browser that measures them (docs/viewer.md, "Figures").

Each figure is a number read from the pixels of the real page: how much of the free canvas the network spans
(framing), how much class colour a "Class k" view shows (class ink), how vivid the "All" view is. The browser
tests assert them and ``docs/make_figures.py`` reports them beside the README pictures; both use these
definitions and this driver. Needs the test extra (Playwright) and a Chromium.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

__all__ = [
    "INK_THRESHOLD",
    "VIVID_SATURATION",
    "VIVID_VALUE",
    "Framing",
    "FreeCanvas",
    "Pixels",
    "ViewerPage",
    "chromium",
    "framing",
    "ink",
    "vivid",
    "vivid_share_of_canvas",
    "vivid_share_of_ink",
]

WHITE = 255
# A pixel is ink when some channel is clearly below white (antialiasing leaves faint fringes).
INK_THRESHOLD = 8
# A pixel is vivid (shows a class colour rather than grey or a pale tint) at HSV saturation and value ≥ these.
VIVID_SATURATION = 0.3
VIVID_VALUE = 0.3
# The network's extent on screen: this percentile range of the ink's columns and rows (stray dots ignored).
FRAMING_PERCENTILES = (2.0, 98.0)

Pixels = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]


def ink(pixels: Pixels) -> Mask:
    """``(H, W) bool``: pixels of an ``(H, W, 3) uint8`` picture that are not (nearly) white."""
    drawn: Mask = (WHITE - pixels.astype(np.int16)).max(axis=2) > INK_THRESHOLD
    return drawn


def vivid(pixels: Pixels) -> Mask:
    """``(H, W) bool``: pixels with HSV saturation ≥ :data:`VIVID_SATURATION` and value ≥ :data:`VIVID_VALUE`."""
    high = pixels.max(axis=2).astype(np.float32)
    low = pixels.min(axis=2).astype(np.float32)
    saturation = np.divide(high - low, high, out=np.zeros_like(high), where=high > 0)
    result: Mask = (saturation >= VIVID_SATURATION) & (high >= VIVID_VALUE * WHITE)
    return result


def vivid_share_of_canvas(pixels: Pixels) -> float:
    """Class ink: vivid pixels as a share of the whole canvas (a "Class k" view's figure)."""
    return float(vivid(pixels).mean())


def vivid_share_of_ink(pixels: Pixels) -> float:
    """Vividness: vivid pixels as a share of the ink (the "All" view's figure); 0 for a blank picture."""
    drawn = ink(pixels)
    total = int(drawn.sum())
    return float((vivid(pixels) & drawn).sum() / total) if total else 0.0


@dataclass(frozen=True)
class FreeCanvas:
    """The part of the canvas no panel covers, in canvas pixels: columns ``[0, width)``, rows ``[0, height)``."""

    width: int
    height: int


@dataclass(frozen=True)
class Framing:
    """Where the network's ink lies (robust box, canvas pixels) and the share of the free canvas it spans."""

    left: float
    top: float
    right: float
    bottom: float
    share: float


def framing(pixels: Pixels, free: FreeCanvas) -> Framing:
    """The robust box of the ink and its limiting share of the free canvas: max(box width / free width, box
    height / free height), so 1 when the network touches two opposite sides of the free canvas."""
    rows, columns = np.nonzero(ink(pixels))
    if rows.size == 0:
        return Framing(0.0, 0.0, 0.0, 0.0, 0.0)
    left, right = np.percentile(columns, FRAMING_PERCENTILES)
    top, bottom = np.percentile(rows, FRAMING_PERCENTILES)
    share = max((right - left + 1) / free.width, (bottom - top + 1) / free.height)
    return Framing(float(left), float(top), float(right), float(bottom), float(share))


# Overlays (panels, status line) hidden while the canvas is captured, so pixels are the canvas's own.
# The control panel (lil-gui's root element, old and new class name).
_PANEL = ".lil-gui.lil-auto-place, .lil-gui.autoPlace"
_HIDE_OVERLAYS = ".lil-gui, #message { visibility: hidden !important; }"
FRAME_TIMEOUT_MS = 60_000


@contextmanager
def chromium(profile: Path, width: int, height: int) -> Iterator[BrowserContext]:
    """A headless Chromium (as ``nnscape export`` finds it) with a ``width`` × ``height`` viewport."""
    from playwright.sync_api import sync_playwright

    from nnscape.export.png import CHROMIUM_ARGS, chromium_executable

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium_executable(),
            args=list(CHROMIUM_ARGS),
            headless=True,
            viewport={"width": width, "height": height},
            accept_downloads=True,
        )
        try:
            yield context
        finally:
            context.close()


class ViewerPage:
    """One browser page on the viewer: open it in test mode, change things, wait for the frame, read pixels.

    The page's test hooks (``window.nnscapeViewer``) only set things up and say when a frame is done; every
    figure comes from the canvas's real pixels.
    """

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

    def set_camera(self, preset: int) -> None:
        self.apply(f"window.nnscapeViewer.setCamera({preset})")

    def canvas_size(self) -> tuple[int, int]:
        width, height = self.page.evaluate(
            "[document.querySelector('canvas').width, document.querySelector('canvas').height]"
        )
        return int(width), int(height)

    def free_canvas(self) -> FreeCanvas:
        """The canvas left of the control panel (all of it when the panel does not overlap it)."""
        width, height = self.canvas_size()
        panel_left = self.page.evaluate(
            """(PANEL) => {
                const canvas = document.querySelector('canvas').getBoundingClientRect();
                const panel = document.querySelector(PANEL)?.getBoundingClientRect();
                if (!panel || panel.left >= canvas.right || panel.right <= canvas.left) return null;
                return (panel.left - canvas.left) * (document.querySelector('canvas').width / canvas.width);
            }""",
            _PANEL,
        )
        return FreeCanvas(width if panel_left is None else max(1, int(panel_left)), height)

    def pixels(self) -> Pixels:
        """``(H, W, 3) uint8``: what the canvas shows now, without the overlays."""
        from PIL import Image

        style = self.page.add_style_tag(content=_HIDE_OVERLAYS)
        try:
            png = self.page.locator("canvas").screenshot()
        finally:
            style.evaluate("element => element.remove()")
        with Image.open(io.BytesIO(png)) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
