"""End to end with a residual CNN: trained on digits as 1×8×8 images, exported with torch.export, then
``nnscape importance FILE --data digits`` → ``nnscape process`` → ``nnscape info`` → the viewer, which must show
the shortcut as bundled edges crossing a layer."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from browser_support import ViewerPage, changed_pixels, ink
from PIL import Image
from playwright.sync_api import Page
from torch import nn

from nnscape.cli import main
from nnscape.datasets import load_dataset
from nnscape.io import load
from nnscape.network import Network
from nnscape.server import create_app, serve_in_thread

pytestmark = pytest.mark.browser

NAMES = ("residual.processed.nnscape", "residual-without-skips.processed.nnscape")


class ResidualDigits(nn.Module):
    """Stem, a basic block whose identity shortcut crosses a layer, a strided conv, global pooling, Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.conv1, self.bn1 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.head = nn.Sequential(
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Linear(16, 10),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(h)))))
        result: torch.Tensor = self.head(torch.relu(out + h))
        return result


def _cli(arguments: list[str]) -> str:
    """Run ``nnscape ARGUMENTS``; returns what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(arguments) == 0
    return printed.getvalue()


@pytest.fixture(scope="module")
def pipeline(
    tmp_path_factory: pytest.TempPathFactory, fit_on_digits: Callable[[nn.Module], float]
) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("residual")
    digits = load_dataset("digits")
    torch.manual_seed(0)
    model = ResidualDigits()
    accuracy = fit_on_digits(model)
    exported = folder / "residual.pt2"
    torch.export.save(torch.export.export(model, (digits.test_x[:2],)), exported)
    network, processed = folder / "residual.nnscape", folder / NAMES[0]
    _cli(["importance", str(exported), "--data", "digits", "--out", str(network), "--epochs", "3", "--quiet"])
    _cli(["process", str(network), "--out", str(processed), "--quiet"])
    info = _cli(["info", str(processed)])
    result = load(processed)
    ordinary = result.edge_span == 1
    _edges_only(result, ordinary).save(folder / NAMES[1])
    return {"folder": folder, "accuracy": accuracy, "info": info, "processed": result}


def _edges_only(network: Network, keep: np.ndarray) -> Network:
    """A processed ``network`` with only the edges ``keep`` (and their polylines); nodes unchanged."""
    assert network.edge_offsets is not None
    assert network.edge_points is not None
    offsets = network.edge_offsets
    counts = (offsets[1:] - offsets[:-1])[keep]
    points = np.concatenate([network.edge_points[offsets[e] : offsets[e + 1]] for e in np.nonzero(keep)[0]])
    return network.with_changes(
        edge_source=network.edge_source[keep],
        edge_target=network.edge_target[keep],
        edge_weight=network.edge_weight[keep],
        edge_importance=network.edge_importance[keep],
        edge_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(offsets.dtype),
        edge_points=points,
    )


@pytest.fixture(scope="module")
def residual_url(pipeline: dict[str, object]) -> Iterator[str]:
    folder = pipeline["folder"]
    assert isinstance(folder, Path)
    url, stop = serve_in_thread(create_app(folder, config_folder=folder / "configs"))
    yield url
    stop()


def test_a_trained_residual_cnn_goes_through_importance_process_and_info(pipeline: dict[str, object]) -> None:
    assert float(pipeline["accuracy"]) > 0.8  # type: ignore[arg-type]
    info = str(pipeline["info"])
    assert "kind:         processed" in info
    assert "layers:       1 - 8 - 8 - 8 - 16 - 10 (51 nodes)" in info  # channels are the nodes
    assert "conv2 (add)" in info
    assert "8 skip edges crossing layers" in info  # the identity shortcut: channel c → channel c
    processed = pipeline["processed"]
    assert isinstance(processed, Network)
    assert processed.edge_offsets is not None
    assert processed.edge_points is not None
    skip = np.nonzero(processed.edge_span == 2)[0]
    assert (processed.edge_layer[skip] == 1).all()
    # Bundled, not straight: the middle of each shortcut's polyline lies off the middle of its chord.
    offsets, points = processed.edge_offsets, processed.edge_points
    chord_middles = (points[offsets[skip]] + points[offsets[skip + 1] - 1]) / 2
    bends = np.linalg.norm(points[(offsets[skip] + offsets[skip + 1]) // 2] - chord_middles, axis=1)
    assert float(np.median(bends)) > 0.02


def test_the_viewer_draws_the_shortcut_as_edges_crossing_a_layer(page: Page, residual_url: str, tmp_path: Path) -> None:
    viewer = ViewerPage(page, residual_url)
    pictures = []
    for name in NAMES:
        viewer.open(name)
        pictures.append(viewer.pixels())
        Image.fromarray(pictures[-1]).save(tmp_path / f"{name}.png")
    with_skips, without = pictures
    assert ink(with_skips).any()
    assert changed_pixels(with_skips, without) > 100  # the shortcut's edges are drawn
    # The default camera looks from the side: layers lie left to right, 5 gaps over the network's width. The
    # shortcut's pixels run across 2 of those gaps without a break: they cross the layer between.
    changed = (np.abs(with_skips.astype(np.int16) - without.astype(np.int16)).max(axis=2) > 8).any(axis=0)
    drawn = np.nonzero(ink(with_skips).any(axis=0))[0]
    columns = np.nonzero(changed)[0]
    width = drawn[-1] - drawn[0]
    assert columns[-1] - columns[0] > 0.3 * width
    assert changed[columns[0] : columns[-1] + 1].mean() > 0.9
