"""``nnscape.show`` in a real JupyterLab (issue 11): a cell shows the network's pixels in its output area,
Python changes the picture, and the widget's panel changes Python's traits.

JupyterLab runs on 127.0.0.1 with a token, its configuration, data and runtime folders in a temporary folder,
the notebook's kernel being this Python (so it imports this checkout's nnscape).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from browser_support import PROCESSED, changed_pixels, ink
from PIL import Image
from playwright.sync_api import Page, ViewportSize

pytestmark = pytest.mark.browser

START_TIMEOUT_S = 120
WIDGET_TIMEOUT_MS = 120_000
CHANGED = 100
SETTLE_MS = 500
NOTEBOOK = "widget.ipynb"
CELLS = [
    f"import nnscape\nw = nnscape.show({PROCESSED!r}, height=400)\nw",
    'w.set_render(edge_mode="line")',
    'print("class view:", w.class_view, "edge mode:", w.render["edge_mode"])',
]
WIDGET = ".nnscape-widget"
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
# Room for the notebook and the whole widget, panel included.
JUPYTER_VIEWPORT: ViewportSize = {"width": 1280, "height": 960}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_notebook(path: Path) -> None:
    cells = [
        {"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {}, "outputs": [], "source": s}
        for i, s in enumerate(CELLS)
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook))


@pytest.fixture(scope="module")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory, network_folder: Path) -> Iterator[str]:
    """A JupyterLab on a folder holding the test network and a notebook; yields the notebook's URL."""
    root = tmp_path_factory.mktemp("notebooks")
    (root / PROCESSED).write_bytes((network_folder / PROCESSED).read_bytes())
    write_notebook(root / NOTEBOOK)
    home = tmp_path_factory.mktemp("jupyter-home")
    # The news prompt would pop up over the output area (and the widget's panel) while the test clicks there.
    labconfig = home / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": {NEWS_PLUGIN: True}}))
    token = secrets.token_hex(16)
    port = free_port()
    source = str(Path(__file__).resolve().parents[2] / "src")
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        "--ServerApp.allow_root=True", "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    log = (home / "jupyter.log").open("wb")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(home / 'jupyter.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield f"{base}/lab/tree/{NOTEBOOK}?token={token}"
    finally:
        # Shown by pytest only when the test failed: what JupyterLab and the kernel said.
        print(f"JupyterLab's log (end): {(home / 'jupyter.log').read_text(errors='replace')[-3000:]}")
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def run_cell(page: Page, index: int) -> None:
    """Run the notebook's cell ``index``."""
    page.evaluate(
        """async (index) => {
            window.jupyterapp.shell.currentWidget.content.activeCellIndex = index;
            await window.jupyterapp.commands.execute('notebook:run-cell');
        }""",
        index,
    )


def widget_pixels(page: Page, size: tuple[int, int] | None = None) -> np.ndarray:
    """The widget's canvas without its panel, once its layout has settled; scaled to ``size`` (w, h) if given.

    JupyterLab may still be laying out the output area (the canvas then changes size between two pictures),
    so the picture waits until the canvas keeps its size for a while.
    """
    page.wait_for_function(
        f"""() => new Promise(done => {{
            const rect = () => JSON.stringify(document.querySelector('{WIDGET} canvas').getBoundingClientRect());
            const before = rect();
            setTimeout(() => requestAnimationFrame(() => done(rect() === before)), {SETTLE_MS});
        }})""",
        timeout=WIDGET_TIMEOUT_MS,
    )
    style = page.add_style_tag(content=f"{WIDGET} .lil-gui {{ visibility: hidden !important; }}")
    try:
        png = page.locator(f"{WIDGET} canvas").screenshot()
    finally:
        style.evaluate("element => element.remove()")
    with Image.open(io.BytesIO(png)) as image:
        picture = image.convert("RGB")
        if size is not None and picture.size != size:
            picture = picture.resize(size, Image.Resampling.NEAREST)
        return np.asarray(picture, dtype=np.uint8)


def wait_frames(page: Page) -> None:
    """Two animation frames: whatever changed has been drawn."""
    page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


@pytest.mark.timeout(2 * START_TIMEOUT_S + 4 * WIDGET_TIMEOUT_MS // 1000)
def test_show_draws_the_network_in_jupyterlab(page: Page, jupyter_lab: str) -> None:
    page.set_viewport_size(JUPYTER_VIEWPORT)
    page.goto(jupyter_lab)
    page.wait_for_function(
        "window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=WIDGET_TIMEOUT_MS,
    )
    run_cell(page, 0)
    widget = page.locator(WIDGET)
    widget.wait_for(timeout=WIDGET_TIMEOUT_MS)
    page.wait_for_function(
        f"['ready', 'error'].includes(document.querySelector('{WIDGET}').dataset.state)", timeout=WIDGET_TIMEOUT_MS
    )
    assert widget.get_attribute("data-state") == "ready", widget.get_attribute("data-error")
    wait_frames(page)
    first = widget_pixels(page)
    drawn = ink(first)
    assert 0.01 < drawn.mean() < 0.5, "the network is drawn in the output area"
    saturation = first.max(axis=2).astype(int) - first.min(axis=2)
    assert (saturation[drawn] > 40).mean() > 0.2, "coloured by class"

    # Python → widget: a render setting set in the kernel changes the picture.
    run_cell(page, 1)
    deadline = time.monotonic() + WIDGET_TIMEOUT_MS / 1000
    size = (first.shape[1], first.shape[0])
    while changed_pixels(first, widget_pixels(page, size)) <= CHANGED:
        assert time.monotonic() < deadline, "setting edge_mode in Python did not change the picture"
        page.wait_for_timeout(200)

    # Widget → Python: a class button and a render control in the widget's panel set the traits the kernel reads.
    page.locator(f"{WIDGET} .lil-gui .lil-name", has_text="Class 3:").click(timeout=WIDGET_TIMEOUT_MS)
    page.locator(f"{WIDGET} .lil-controller", has_text="edge mode").locator("select").select_option(
        label="point", timeout=WIDGET_TIMEOUT_MS
    )
    # The widget manager sends one update at a time (the next after the kernel's answer): ask until both arrived.
    expected = "class view: 3 edge mode: point"
    deadline = time.monotonic() + WIDGET_TIMEOUT_MS / 1000
    while True:
        run_cell(page, 2)
        output = page.locator(".jp-OutputArea-output", has_text="class view:")
        output.wait_for(timeout=WIDGET_TIMEOUT_MS)
        shown = output.inner_text().strip()
        if shown == expected or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)
    assert shown == expected
