"""Progressive drawing of a network too large for one frame of the first budget (about 100 000 samples): the first
frame shows the nodes and the strongest samples before the picture is finished, the picture then finishes, and
the finished picture is, pixel for pixel, the one a single frame draws (the level of detail changes nothing at
rest)."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import numpy as np
import pytest
from browser_support import ViewerPage, changed_pixels, ink
from playwright.sync_api import Page

from nnscape.figures import FRAME_TIMEOUT_MS, Pixels
from nnscape.generate import random_network
from nnscape.processing import process
from nnscape.server import create_app, serve_in_thread

pytestmark = pytest.mark.browser

NAME = "mid.processed.nnscape"
# 8 800 edges; processed, about 100 000 samples: several chunks of the viewer's draw order.
LAYERS = (100, 60, 40, 10)
# Edge samples of the held first frame: a few per cent of the file.
HELD_SAMPLES = 3000


@pytest.fixture(scope="module")
def mid_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("progressive")
    process(random_network(LAYERS, seed=0), seed=0).save(folder / NAME)
    url, stop = serve_in_thread(create_app(folder, config_folder=folder / "configs"))
    yield url
    stop()


@pytest.fixture
def viewer(page: Page, mid_url: str) -> ViewerPage:
    viewer = ViewerPage(page, mid_url)
    viewer.open(NAME)
    return viewer


def hook(viewer: ViewerPage, expression: str) -> float:
    return float(viewer.page.evaluate(f"window.nnscapeViewer.{expression}"))


def single_frame(viewer: ViewerPage) -> Pixels:
    """The whole picture drawn in one frame (the PNG key K saves), as (H, W, 3) uint8."""
    from PIL import Image

    url = str(viewer.page.evaluate("window.nnscapeViewer.screenshot()"))
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def test_the_picture_fills_in_over_several_frames_and_finishes(viewer: ViewerPage) -> None:
    timings = viewer.page.evaluate("({...window.nnscapeViewer.timings})")
    assert 0 < timings["firstFrame"] < timings["finished"]
    assert hook(viewer, "framesDrawn") > hook(viewer, "framesRendered")
    assert hook(viewer, "progress.drawn") == hook(viewer, "progress.shown") > 50_000


def draw_held(viewer: ViewerPage, script: str) -> None:
    """Run `script`, which starts a new picture, and wait for its first frame, held at HELD_SAMPLES samples."""
    viewer.page.evaluate(f"window.nnscapeViewer.holdPicture({HELD_SAMPLES})")
    drawn = hook(viewer, "framesDrawn")
    viewer.page.evaluate(script)
    viewer.page.wait_for_function(f"window.nnscapeViewer.framesDrawn > {drawn}", timeout=FRAME_TIMEOUT_MS)


def release(viewer: ViewerPage) -> None:
    """Let the held picture finish (at least one more frame, drawn on top of the first) and wait for it."""
    pictures = hook(viewer, "framesRendered")
    viewer.page.evaluate("window.nnscapeViewer.holdPicture(null)")
    viewer.wait_frame_after(int(pictures))


def test_first_frame_shows_the_strongest_samples_then_the_picture_finishes(viewer: ViewerPage) -> None:
    finished = viewer.pixels()
    pictures = hook(viewer, "framesRendered")
    draw_held(viewer, "window.nnscapeViewer.setCamera(9)")  # the same view, drawn anew
    assert 0 < hook(viewer, "progress.drawn") <= HELD_SAMPLES < hook(viewer, "progress.shown")
    assert hook(viewer, "framesRendered") == pictures
    first = viewer.pixels()
    # The network is there, lighter: the blending only darkens, so later samples add ink and never remove it.
    assert 0.05 * ink(finished).sum() < ink(first).sum() < ink(finished).sum()
    assert (ink(first) & ~ink(finished)).sum() == 0
    release(viewer)
    assert changed_pixels(viewer.pixels(), finished) == 0


@pytest.mark.parametrize("mode", ["transparent_ellipsoid", "line", "sphere"])
def test_finished_picture_is_what_one_frame_draws(viewer: ViewerPage, mode: str) -> None:
    draw_held(viewer, f"window.nnscapeViewer.setRender('edge_mode', '{mode}')")
    release(viewer)
    progressive = viewer.pixels()
    assert ink(progressive).sum() > 10_000
    assert changed_pixels(progressive, single_frame(viewer)) == 0


def test_threshold_leaves_the_weak_samples_undrawn(viewer: ViewerPage) -> None:
    shown = hook(viewer, "progress.shown")
    draw_held(viewer, "window.nnscapeViewer.setRender('edges.importance_threshold', 0.3)")
    release(viewer)
    assert 0 < hook(viewer, "progress.shown") < 0.8 * shown
    assert changed_pixels(viewer.pixels(), single_frame(viewer)) == 0
