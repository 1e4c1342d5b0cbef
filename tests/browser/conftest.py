"""Browser tests: one Debian Chromium for the session (never ``playwright install``), the real server
(``create_app`` + uvicorn on a thread, 127.0.0.1, a free port) over a temporary folder of networks, a fresh
page per test, and a screenshot of the page saved when a test fails.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import numpy as np
import pytest
from browser_support import MANY_CLASSES, MANY_CLASSES_LAYERS, PLAIN, PROCESSED, TINY_LAYERS, ViewerPage
from playwright.sync_api import BrowserContext, Page

from nnscape.export.png import DEBIAN_CHROMIUM
from nnscape.figures import chromium
from nnscape.generate import random_network
from nnscape.network import Network
from nnscape.server import create_app, serve_in_thread
from nnscape.server.app import STATIC_DIR

VIEWPORT = (800, 500)
# Where failure screenshots go (CI can upload this folder); default: pytest's temporary folder.
ARTIFACTS_VARIABLE = "NNSCAPE_BROWSER_ARTIFACTS"

CURVE_SAMPLES = 8


def _processed(network: Network) -> Network:
    """The tiny network processed by nnscape.processing, or, until that exists, given bent polylines."""
    try:
        from nnscape.processing import process
    except ImportError:
        return _bent_polylines(network)
    return process(network, seed=0)


def _bent_polylines(network: Network) -> Network:
    points = []
    for s, t in zip(network.edge_source, network.edge_target, strict=True):
        along = np.linspace(0.0, 1.0, CURVE_SAMPLES, dtype=np.float32)[:, None]
        line = network.node_position[s] * (1 - along) + network.node_position[t] * along
        line[:, :2] *= 1 - 0.5 * np.sin(np.pi * along)  # pulled toward the axis: a bundle
        points.append(line)
    offsets = np.arange(network.n_edges + 1, dtype=np.int64) * CURVE_SAMPLES
    return network.with_changes(edge_offsets=offsets, edge_points=np.concatenate(points).astype(np.float32))


@pytest.fixture(scope="session")
def network_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("networks")
    network = random_network(TINY_LAYERS, seed=0)
    network.save(folder / PLAIN)
    _processed(network).save(folder / PROCESSED)
    random_network(MANY_CLASSES_LAYERS, seed=1).save(folder / MANY_CLASSES)
    return folder


@pytest.fixture(scope="session")
def server_url(network_folder: Path) -> Iterator[str]:
    if not (STATIC_DIR / "index.html").is_file():
        pytest.fail(f"the viewer is not built ({STATIC_DIR} is empty): `pip install -e .` builds it (needs npm)")
    url, stop = serve_in_thread(create_app(network_folder, config_folder=network_folder / "configs"))
    yield url
    stop()


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not Path(DEBIAN_CHROMIUM).exists():
        pytest.skip(f"{DEBIAN_CHROMIUM} is missing: apt-get install chromium")
    with chromium(tmp_path_factory.mktemp("chromium-profile"), *VIEWPORT) as context:
        yield context


# Set on a test item whose call phase failed, so its page fixture saves a screenshot.
_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture
def page(
    browser_context: BrowserContext, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Page]:
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    if request.node.stash.get(_FAILED, False):
        folder = Path(os.environ.get(ARTIFACTS_VARIABLE) or tmp_path_factory.getbasetemp() / "browser-failures")
        folder.mkdir(parents=True, exist_ok=True)
        shot = folder / f"{request.node.name}.png"
        page.screenshot(path=shot)
        print(f"screenshot of the failed page: {shot}; page errors: {errors or 'none'}")
    page.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def viewer(page: Page, server_url: str) -> ViewerPage:
    return ViewerPage(page, server_url)
