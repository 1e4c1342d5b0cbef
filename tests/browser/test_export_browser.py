"""Exports in Chromium (issue 11): the standalone HTML page from file:// with every http(s) request refused,
the PNG render against the served viewer's own pixels, and the served page not waiting on settings to fetch
the network."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from browser_support import PROCESSED, ViewerPage, changed_pixels, ink
from PIL import Image
from playwright.sync_api import Page, Route

from nnscape.export import ViewOptions, export_html, export_png
from nnscape.io import load

pytestmark = pytest.mark.browser

CHANGED = 100
# The served viewer's canvas in the browser fixture (conftest.VIEWPORT).
VIEWPORT_SIZE = (800, 500)
# Share of the border's pixels that must be pure white (the background; see the PNG test).
WHITE_BORDER = 0.9
SERVER_ONLY = ("Processing", "Load selected", "Refresh list", "Generate random network", "Save render settings")
# Long enough for any request the page makes at once; far shorter than the test's frame timeout.
HOLD_TIMEOUT_MS = 10_000


def block_web(page: Page) -> list[str]:
    """Refuse every http(s) request of ``page``; returns the list the refused URLs are collected in."""
    refused: list[str] = []

    def refuse(route: Route) -> None:
        refused.append(route.request.url)
        route.abort()

    page.route("http://**/*", refuse)
    page.route("https://**/*", refuse)
    return refused


def open_file(page: Page, path: Path) -> ViewerPage:
    viewer = ViewerPage(page, path.parent.as_uri())
    page.goto(path.as_uri() + "?test=1")
    viewer.wait_ready()
    return viewer


def test_html_export_draws_from_file_url_with_the_web_blocked(page: Page, network_folder: Path, tmp_path: Path) -> None:
    out = export_html(network_folder / PROCESSED, tmp_path / "tiny.html")
    refused = block_web(page)
    viewer = open_file(page, out)
    pixels = viewer.pixels()
    drawn = ink(pixels)
    assert 0.01 < drawn.mean() < 0.5, "the network covers some, not all, of the canvas"
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    assert (border == 255).all(), "on white"
    saturation = pixels.max(axis=2).astype(int) - pixels.min(axis=2)
    assert (saturation[drawn] > 40).mean() > 0.2, "coloured by class in the All view"
    assert refused == [], f"the page asked the web for {refused}"
    assert page.evaluate("window.nnscapeViewer.network") == PROCESSED


def test_html_export_keeps_the_controls_that_need_no_server(page: Page, network_folder: Path, tmp_path: Path) -> None:
    out = export_html(network_folder / PROCESSED, tmp_path / "tiny.html")
    block_web(page)
    viewer = open_file(page, out)
    titles = (
        page.locator(".lil-gui .lil-title").all_inner_texts() + page.locator(".lil-gui .lil-name").all_inner_texts()
    )
    shown = " | ".join(titles)
    for kept in ("Statistics", "Render", "Class visibility", "Open local file", "Save shown file"):
        assert kept in shown, f"{kept!r} missing from the panels: {shown}"
    for server_only in SERVER_ONLY:
        assert server_only not in shown, f"{server_only!r} needs a server but is shown"
    # Controls work: a class button and a render mode change the picture.
    before = viewer.pixels()
    frames = viewer.frames
    page.locator(".lil-gui .lil-name", has_text="Class 3:").click()
    viewer.wait_frame_after(frames)
    after_class = viewer.pixels()
    assert changed_pixels(before, after_class) > CHANGED
    viewer.set_render("edge_mode", "line")
    assert changed_pixels(after_class, viewer.pixels()) > CHANGED


def test_html_export_starts_with_the_given_view(page: Page, network_folder: Path, tmp_path: Path) -> None:
    network = network_folder / PROCESSED
    default = open_file(page, export_html(network, tmp_path / "default.html")).pixels()
    view = ViewOptions.create(class_view=3, camera=1, render={"edge_mode": "line"})
    other = open_file(page, export_html(network, tmp_path / "other.html", view=view))
    assert changed_pixels(default, other.pixels()) > CHANGED
    assert page.evaluate("document.body.dataset.state") == "ready"


def test_png_export_has_the_viewers_pixels(page: Page, network_folder: Path, tmp_path: Path) -> None:
    """The PNG is the viewer's own canvas with those settings, the panel left out and the network centred."""
    view = ViewOptions.create(class_view=3, camera=1)
    out = export_png(network_folder / PROCESSED, tmp_path / "tiny.png", size=VIEWPORT_SIZE, view=view)
    with Image.open(out) as image:
        assert image.size == VIEWPORT_SIZE
        exported = np.asarray(image.convert("RGB"), dtype=np.uint8)
    drawn = ink(exported)
    assert drawn.mean() > 0.01, "the network is drawn"
    border = np.concatenate([exported[0], exported[-1], exported[:, 0], exported[:, -1]])
    # On white: the framing lets the outermost ~2 % of the ink leave the canvas (docs/viewer.md, "Framing"),
    # so a few stray strands may cross the border; the rest of it is the white background.
    assert (border == 255).all(axis=1).mean() > WHITE_BORDER, "on white"
    _, columns = np.nonzero(drawn)
    assert abs(columns.mean() - VIEWPORT_SIZE[0] / 2) < VIEWPORT_SIZE[0] / 8, "centred: no room kept for a panel"
    # The viewer page with the same settings and no panel draws the same picture.
    page_view = ViewOptions.create(class_view=3, camera=1, panels=False)
    shown = open_file(page, export_html(network_folder / PROCESSED, tmp_path / "tiny.html", view=page_view))
    assert changed_pixels(exported, shown.pixels()) < CHANGED, "the export differs from the viewer"


def test_png_export_size_changes_the_image(network_folder: Path, tmp_path: Path) -> None:
    out = export_png(network_folder / PROCESSED, tmp_path / "wide.png", size=(320, 200))
    with Image.open(io.BytesIO(out.read_bytes())) as image:
        assert image.size == (320, 200)
    assert load(network_folder / PROCESSED).n_edges > 0


def test_served_page_fetches_the_network_while_settings_load(viewer: ViewerPage) -> None:
    """The network's bytes are requested while the settings requests are still unanswered, and the page
    draws once they are."""
    page = viewer.page
    held: list[Route] = []
    page.route("**/api/config/**", lambda route: held.append(route))
    with page.expect_request(f"**/api/networks/{PROCESSED}", timeout=HOLD_TIMEOUT_MS):
        page.goto(f"{viewer.base_url}/?test=1&network={PROCESSED}")
    assert held, "the settings were requested too"
    assert page.evaluate("document.body.dataset.state") == "loading"
    for route in held:
        route.continue_()
    viewer.wait_ready()
    assert ink(viewer.pixels()).mean() > 0.01
