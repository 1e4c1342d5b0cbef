"""``nnscape export --out OUT.png``: a headless render for papers and slides.

The standalone page (:mod:`nnscape.export.html`) is opened in headless Chromium through Playwright, with
every http(s) request refused, and the viewer's own screenshot (what key K saves) is written: the viewer's
renderer at that size, camera preset, class view and render settings, on white, without the control panel (so
the network is framed on the whole canvas, not beside the panel).
"""

from __future__ import annotations

import base64
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from nnscape.errors import NnscapeError
from nnscape.export.html import html_page
from nnscape.export.payload import NetworkSource, ViewOptions
from nnscape.io import atomic_write_bytes

__all__ = ["CHROMIUM_ARGS", "DEFAULT_SIZE", "chromium_executable", "export_png"]

DEFAULT_SIZE = (1600, 1000)
MAX_SIDE = 8192
# Debian's Chromium (never `playwright install` in CI); another one can be named by this variable.
CHROMIUM_VARIABLE = "NNSCAPE_CHROMIUM"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
# Software WebGL through ANGLE on EGL (Mesa llvmpipe) works headless without a GPU; the rest keeps Chromium
# from reaching the network or doing first-run work.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--use-angle=gl-egl",
    "--ignore-gpu-blocklist",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
RENDER_TIMEOUT_MS = 120_000
INSTALL_HINT = (
    "PNG export renders in headless Chromium through Playwright: `pip install playwright`, then "
    "`apt-get install chromium` (or `playwright install chromium`)"
)
DATA_URL_PREFIX = "data:image/png;base64,"


def chromium_executable() -> str | None:
    """The Chromium to use: ``$NNSCAPE_CHROMIUM``, else Debian's, else None (Playwright's own)."""
    named = os.environ.get(CHROMIUM_VARIABLE)
    if named:
        return named
    return DEBIAN_CHROMIUM if Path(DEBIAN_CHROMIUM).exists() else None


def _render(page_html: str, width: int, height: int) -> str:
    """The viewer's screenshot (a PNG data URL) of ``page_html`` in a ``width`` × ``height`` headless page."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="nnscape-png-") as folder, sync_playwright() as playwright:
        page_file = Path(folder) / "page.html"
        page_file.write_text(page_html, encoding="utf-8")
        try:
            browser = playwright.chromium.launch(executable_path=chromium_executable(), args=list(CHROMIUM_ARGS))
        except PlaywrightError as exc:
            raise NnscapeError(f"{INSTALL_HINT} ({_first_line(exc)})") from exc
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route("http://**/*", lambda route: route.abort())
            page.route("https://**/*", lambda route: route.abort())
            page.goto(page_file.as_uri() + "?test=1")
            page.wait_for_function(
                "['ready', 'error'].includes(document.body.dataset.state)", timeout=RENDER_TIMEOUT_MS
            )
            if page.evaluate("document.body.dataset.state") != "ready":
                raise NnscapeError(f"render failed: {page.evaluate('document.body.dataset.error')}")
            return str(page.evaluate("window.nnscapeViewer.screenshot()"))
        except PlaywrightError as exc:
            raise NnscapeError(f"render failed in Chromium: {_first_line(exc)}") from exc
        finally:
            browser.close()


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def export_png(
    network: NetworkSource,
    out: str | os.PathLike[str],
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    view: ViewOptions | None = None,
) -> Path:
    """Render ``network`` to the PNG ``out`` (``size`` = width, height in pixels); atomic, returns the path."""
    width, height = size
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise NnscapeError(f"size {width}x{height}: each side must be 1-{MAX_SIDE} pixels")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        raise NnscapeError(INSTALL_HINT) from exc
    # Without the control panel: the viewer frames the network beside a panel, a figure wants it centred.
    page_html = html_page(network, view=replace(view or ViewOptions(), panels=False))
    # Playwright's sync API refuses to run where an asyncio loop runs (a notebook, another Playwright): a thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        url = pool.submit(_render, page_html, width, height).result()
    if not url.startswith(DATA_URL_PREFIX):
        raise NnscapeError("render failed: the viewer returned no PNG")
    path = Path(out)
    atomic_write_bytes(path, base64.b64decode(url[len(DATA_URL_PREFIX) :]))
    return path
