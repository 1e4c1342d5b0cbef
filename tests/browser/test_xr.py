"""The viewer in a headset, emulated: Meta's WebXR runtime ``iwer`` (an npm dev dependency, injected into the
test page only) poses as a Quest 3 in headless Chromium. ENTER VR starts an immersive session, both eyes draw
the network, and a hand that grabs it and moves carries it along.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from browser_support import PROCESSED, ViewerPage, ink
from playwright.sync_api import Page

from nnscape.figures import FRAME_TIMEOUT_MS

pytestmark = pytest.mark.browser

IWER = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "iwer" / "build" / "iwer.min.js"
# Installed before the page's own scripts, so three.js's VR button finds the emulated headset.
INSTALL_HEADSET = """
window.nnscapeHeadset = new IWER.XRDevice(IWER.metaQuest3);
window.nnscapeHeadset.stereoEnabled = true;  // two views side by side on the page, as in a headset
window.nnscapeHeadset.installRuntime({ forceInstall: true });
"""
# Enough frames for the session's first poses, the placement and a held grip to take effect.
SETTLE_FRAMES = 10
# How far the right controller moves while it holds the network (metres, to the viewer's right).
HAND_MOVE_M = 0.1
COLOUR_SPREAD = 40


@pytest.fixture
def headset(page: Page, server_url: str) -> ViewerPage:
    if not IWER.is_file():
        pytest.fail(f"{IWER} is missing: run `npm ci` in web/ (iwer is a dev dependency of the viewer)")
    page.add_init_script(script=IWER.read_text(encoding="utf-8") + INSTALL_HEADSET)
    viewer = ViewerPage(page, server_url)
    viewer.open(PROCESSED)
    return viewer


def settle(viewer: ViewerPage) -> None:
    """Let the session draw SETTLE_FRAMES frames (pending button and pose changes apply on a frame)."""
    viewer.wait_frame_after(viewer.frames + SETTLE_FRAMES)


def enter_vr(viewer: ViewerPage) -> None:
    viewer.page.get_by_role("button", name="ENTER VR").click(timeout=FRAME_TIMEOUT_MS)
    viewer.page.wait_for_function(
        "window.nnscapeHeadset.activeSession !== undefined && window.nnscapeHeadset.appCanvas !== undefined",
        timeout=FRAME_TIMEOUT_MS,
    )
    settle(viewer)


def eyes(viewer: ViewerPage) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """The left and right eye's pictures: iwer draws the two views side by side on the page."""
    pixels = viewer.pixels()
    half = pixels.shape[1] // 2
    return pixels[:, :half], pixels[:, half:]


def centre_x(pixels: npt.NDArray[np.uint8]) -> float:
    drawn = ink(pixels)
    assert drawn.any(), "nothing drawn"
    return float(np.nonzero(drawn)[1].mean())


def colourful(pixels: npt.NDArray[np.uint8]) -> int:
    """How many pixels are clearly coloured (not grey): channels spread by more than COLOUR_SPREAD."""
    spread = pixels.astype(np.int16).max(axis=2) - pixels.astype(np.int16).min(axis=2)
    return int((spread > COLOUR_SPREAD).sum())


def test_no_vr_button_without_a_headset(viewer: ViewerPage) -> None:
    viewer.open(PROCESSED)
    assert viewer.page.get_by_role("button", name="ENTER VR").count() == 0


def test_both_eyes_draw_the_network(headset: ViewerPage) -> None:
    enter_vr(headset)
    left, right = eyes(headset)
    left_ink, right_ink = int(ink(left).sum()), int(ink(right).sum())
    print(f"ink pixels: left eye {left_ink}, right eye {right_ink} of {left.shape[0] * left.shape[1]} each")
    assert left_ink > 500
    assert right_ink > 500
    # The eyes see the same network from 6 cm apart: similar amounts of ink, not the same picture.
    assert 0.5 < left_ink / right_ink < 2
    assert not np.array_equal(left, right)
    # Coloured by class as on screen, not grey.
    assert colourful(left) > 100


def test_a_hand_that_grabs_and_moves_carries_the_network(headset: ViewerPage) -> None:
    enter_vr(headset)
    before, _ = eyes(headset)
    page = headset.page
    page.evaluate("window.nnscapeHeadset.controllers.right.updateButtonValue('squeeze', 1)")
    settle(headset)
    page.evaluate(f"window.nnscapeHeadset.controllers.right.position.x += {HAND_MOVE_M}")
    settle(headset)
    page.evaluate("window.nnscapeHeadset.controllers.right.updateButtonValue('squeeze', 0)")
    settle(headset)
    after, _ = eyes(headset)
    shift = centre_x(after) - centre_x(before)
    print(f"left eye: ink centre moved {shift:.1f} px to the right")
    assert shift > 20
    # Released: moving the hand again leaves the network where it is.
    page.evaluate(f"window.nnscapeHeadset.controllers.right.position.x += {HAND_MOVE_M}")
    settle(headset)
    still, _ = eyes(headset)
    assert abs(centre_x(still) - centre_x(after)) < 2


def test_button_a_cycles_the_class_view(headset: ViewerPage) -> None:
    enter_vr(headset)
    before, _ = eyes(headset)
    page = headset.page
    page.evaluate("window.nnscapeHeadset.controllers.right.updateButtonValue('a-button', 1)")
    settle(headset)
    page.evaluate("window.nnscapeHeadset.controllers.right.updateButtonValue('a-button', 0)")
    settle(headset)
    after, _ = eyes(headset)
    # "All" → "Independent": the class colours give way to grey.
    assert colourful(after) < colourful(before) / 4


def test_two_hands_pulled_apart_scale_the_network_up(headset: ViewerPage) -> None:
    enter_vr(headset)
    before, _ = eyes(headset)
    page = headset.page
    for hand in ("left", "right"):
        page.evaluate(f"window.nnscapeHeadset.controllers.{hand}.updateButtonValue('squeeze', 1)")
    settle(headset)
    # Hands 0.5 m apart move to 0.7 m apart, symmetrically: the network grows by 1.4 about the same centre.
    page.evaluate("window.nnscapeHeadset.controllers.left.position.x -= 0.1")
    page.evaluate("window.nnscapeHeadset.controllers.right.position.x += 0.1")
    settle(headset)
    after, _ = eyes(headset)
    grown = ink(after).sum() / ink(before).sum()
    print(f"left eye: {grown:.2f} times the ink after pulling the hands apart")
    assert grown > 1.3
