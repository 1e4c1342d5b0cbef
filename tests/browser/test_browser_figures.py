"""The picture figures (docs/viewer.md, "Figures") on a trained network: the camera frames it beside the panel at
every preset, after a resize and on key F; a class view shows its class's colour; the All view is vivid."""

from __future__ import annotations

import statistics
from collections.abc import Iterator

import pytest
import torch
from browser_support import ViewerPage, changed_pixels
from playwright.sync_api import BrowserContext

from nnscape import datasets
from nnscape.figures import framing, vivid_share_of_canvas, vivid_share_of_ink
from nnscape.importance import importance
from nnscape.processing import process
from nnscape.server import create_app, serve_in_thread
from nnscape.train import train_mlp

pytestmark = pytest.mark.browser

TRAINED = "digits.processed.nnscape"
# A digits MLP trained well enough (~0.96 test accuracy) for class-specific importance, in ~15 s on one core.
HIDDEN = (32, 16)
TRAIN_EPOCHS = 100
IMPORTANCE_EPOCHS = 200
# Goals of issue 9 for the viewer's default settings (docs/viewer.md, "Figures").
FRAMING_FLOOR = 0.75
CLASS_INK_GOAL = 0.01
ALL_VIVID_GOAL = 0.30
PRESETS = range(10)
RESIZED = {"width": 1000, "height": 620}


@pytest.fixture(scope="module")
def trained_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("trained")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a network this small trains fastest on one thread
    try:
        splits = datasets.load_dataset("digits")
        trained = train_mlp(splits, hidden=HIDDEN, variant="basic", epochs=TRAIN_EPOCHS, seed=0)
        network = importance(trained.model, splits, epochs=IMPORTANCE_EPOCHS, seed=0, class_names=splits.class_names)
        process(network, seed=0).save(folder / TRAINED)
    finally:
        torch.set_num_threads(threads)
    url, stop = serve_in_thread(create_app(folder, config_folder=folder / "configs"))
    yield url
    stop()


@pytest.fixture
def trained(browser_context: BrowserContext, trained_url: str) -> Iterator[ViewerPage]:
    page = browser_context.new_page()
    viewer = ViewerPage(page, trained_url)
    viewer.open(TRAINED)
    yield viewer
    page.close()


def _assert_framed(viewer: ViewerPage, what: str) -> None:
    free = viewer.free_canvas()
    frame = framing(viewer.pixels(), free)
    assert frame.share >= FRAMING_FLOOR, f"{what}: the network spans {frame.share:.2f} of the free canvas"
    assert frame.right < free.width, f"{what}: the network reaches under the panel"


def test_every_preset_frames_the_network_beside_the_panel(trained: ViewerPage) -> None:
    for preset in PRESETS:
        trained.set_camera(preset)
        _assert_framed(trained, f"preset {preset}")


def test_resizing_keeps_the_network_framed(trained: ViewerPage) -> None:
    before = trained.frames
    trained.page.set_viewport_size(RESIZED)
    trained.page.wait_for_function(f"document.querySelector('canvas').width === {RESIZED['width']}")
    trained.wait_frame_after(before)
    _assert_framed(trained, "after resizing")


def test_key_f_fits_again_after_zooming(trained: ViewerPage) -> None:
    fitted = trained.pixels()
    box = trained.page.locator("canvas").bounding_box()
    assert box is not None
    trained.page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
    before = trained.frames
    trained.page.mouse.wheel(0, 800)  # zoom out
    trained.wait_frame_after(before)
    assert changed_pixels(trained.pixels(), fitted) > 0, "the wheel should zoom"
    trained.press("f")
    _assert_framed(trained, "after key F")


def test_class_views_show_their_class_colour(trained: ViewerPage) -> None:
    shares = []
    for k in range(10):
        trained.set_class_view(k)
        shares.append(vivid_share_of_canvas(trained.pixels()))
    assert statistics.mean(shares) >= CLASS_INK_GOAL, [round(s, 4) for s in shares]
    assert min(shares) > 0, "every class should show some colour"


def test_all_view_is_vivid(trained: ViewerPage) -> None:
    trained.set_class_view("all")
    assert vivid_share_of_ink(trained.pixels()) >= ALL_VIVID_GOAL


def test_framing_figure_reads_the_free_canvas(trained: ViewerPage) -> None:
    """The figure's own reading: the free canvas ends at the panel's left edge."""
    width, height = trained.canvas_size()
    free = trained.free_canvas()
    assert free.height == height
    assert 0 < free.width < width
