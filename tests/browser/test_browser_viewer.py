"""The viewer in Chromium against the real server: it draws the network, and every control changes the pixels
the way it should (issue 5, "Checked by")."""

from __future__ import annotations

import io
import json
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser_support import (
    MANY_CLASSES,
    MANY_CLASSES_LAYERS,
    PLAIN,
    PROCESSED,
    TINY_LAYERS,
    ViewerPage,
    changed_pixels,
    ink,
)
from PIL import Image

from nnscape.config import EDGE_MODES, NODE_MODES
from nnscape.io import load

pytestmark = pytest.mark.browser

# Palette colours of classes 0 and 3 (docs/viewer.md).
PALETTE = {0: (0.133, 0.545, 0.133), 3: (1.0, 0.271, 0.0)}
# Two pictures differ when at least this many pixels changed (the renderer is deterministic: 0 when equal).
CHANGED = 100
JOB_TIMEOUT_MS = 120_000
# The orbit turns about 6° a second: a clear change, whatever the frame rate.
ROTATION_WAIT_MS = 1000
# The statistics panel refreshes twice a second.
STATISTICS_REFRESH_MS = 600
# Bandwidth shrinking this slowly makes even a tiny network's processing take long enough to stop it.
SLOW_BANDWIDTH_REDUCTION = 0.995


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_processed_network_is_coloured_on_white(viewer: ViewerPage) -> None:
    viewer.open(PROCESSED)
    pixels = viewer.pixels()
    drawn = ink(pixels)
    free = viewer.free_canvas()
    assert 0.01 < drawn.mean() < 0.5, "the network should cover some, not all, of the canvas"
    # White all around: the network sits in the middle of the free canvas, the background is pure white.
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, free.width - 1]])
    assert (border == 255).all()
    rows, columns = np.nonzero(drawn)
    assert abs(rows.mean() - free.height / 2) < free.height / 6
    assert abs(columns.mean() - free.width / 2) < free.width / 6
    # Coloured, not grey: in the "All" view the class mix gives clearly saturated pixels.
    saturation = pixels.max(axis=2).astype(int) - pixels.min(axis=2)
    assert (saturation[drawn] > 40).mean() > 0.2


def test_statistics_show_the_file(viewer: ViewerPage, network_folder: Path) -> None:
    viewer.open(PROCESSED)
    network = load(network_folder / PROCESSED)

    def statistic(name: str) -> str:
        return viewer.page.get_by_role("textbox", name=name, exact=True).input_value()

    viewer.page.wait_for_timeout(STATISTICS_REFRESH_MS)
    assert statistic("edges") == str(network.n_edges)
    assert statistic("samples") == str(network.n_samples)
    assert statistic("pruned edges") == network.metadata.get("pruned_edges", "0")


def test_unprocessed_network_draws_straight_edges(viewer: ViewerPage) -> None:
    viewer.open(PLAIN)
    assert 0.01 < ink(viewer.pixels()).mean() < 0.5


def test_first_page_shows_a_processed_file_by_default(viewer: ViewerPage) -> None:
    viewer.open()
    assert viewer.page.evaluate("window.nnscapeViewer.network").endswith(".processed.nnscape")


def test_every_render_mode_changes_the_picture(viewer: ViewerPage) -> None:
    viewer.open(PROCESSED)
    pictures = {}
    viewer.set_render("node_mode", "none")
    assert EDGE_MODES[0] == NODE_MODES[0] == "none"
    for mode in EDGE_MODES:
        viewer.set_render("edge_mode", mode)
        pictures[f"edges {mode}"] = viewer.pixels()
    viewer.set_render("edge_mode", "none")
    for mode in NODE_MODES[1:]:  # "none" with edges "none" is pictured already
        viewer.set_render("node_mode", mode)
        pictures[f"nodes {mode}"] = viewer.pixels()
    assert not ink(pictures["edges none"]).any(), "no nodes and no edges must leave the canvas white"
    names = list(pictures)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert changed_pixels(pictures[first], pictures[second]) > CHANGED, f"{first} looks like {second}"


@pytest.mark.parametrize("k", sorted(PALETTE))
def test_class_view_tints_towards_the_class_colour(viewer: ViewerPage, k: int) -> None:
    viewer.open(PROCESSED)
    before = viewer.frames
    viewer.page.get_by_text(f"Class {k}: {k}", exact=True).click()  # random networks name classes "0", "1", …
    viewer.wait_frame_after(before)
    picture = viewer.pixels()
    pixels = picture.astype(float) / 255
    drawn = ink(picture)
    assert drawn.mean() > 0.005
    # Over white, a colour c at opacity a gives 1 - a(1 - c): the "ink" 1 - pixel points along 1 - c.
    darkness = 1 - pixels[drawn]
    expected = 1 - np.array(PALETTE[k])
    cosine = darkness @ expected / (np.linalg.norm(darkness, axis=1) * np.linalg.norm(expected))
    assert np.median(cosine) > 0.98
    other = 1 - np.array(PALETTE[3 - k])
    cosine_other = darkness @ other / (np.linalg.norm(darkness, axis=1) * np.linalg.norm(other))
    assert np.median(cosine) > np.median(cosine_other) + 0.1


def test_higher_importance_threshold_removes_pixels(viewer: ViewerPage) -> None:
    viewer.open(PROCESSED)
    counts = []
    for threshold in (0.01, 0.3, 0.6, 1.0):
        viewer.set_render("edges.importance_threshold", threshold)
        viewer.set_render("nodes.importance_threshold", threshold)
        counts.append(int(ink(viewer.pixels()).sum()))
    assert counts[0] > counts[1] > counts[2] > counts[3] == 0, counts


def test_key_k_downloads_a_png_of_the_canvas(viewer: ViewerPage) -> None:
    viewer.open(PROCESSED)
    with viewer.page.expect_download() as download:
        viewer.page.keyboard.press("k")
    data = download.value.path().read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert image.size == viewer.canvas_size()
        picture = np.asarray(image.convert("RGB"))
    assert 0.01 < ink(picture).mean() < 0.5
    assert download.value.suggested_filename == "tiny.processed.png"


def test_number_keys_move_the_camera(viewer: ViewerPage) -> None:
    viewer.open(PROCESSED)
    pictures = []
    for key in "0123456789":
        viewer.press(key)
        pictures.append(viewer.pixels())
        assert ink(pictures[-1]).any(), f"preset {key} shows nothing"
    for i in range(10):
        for j in range(i + 1, 10):
            assert changed_pixels(pictures[i], pictures[j]) > CHANGED, f"keys {i} and {j} show the same view"
    viewer.press("9")
    assert changed_pixels(viewer.pixels(), pictures[9]) == 0, "the same key must give the same view"


def test_key_h_toggles_rotation(viewer: ViewerPage) -> None:
    viewer.open(PROCESSED)
    still = viewer.pixels()
    viewer.press("h")
    viewer.page.wait_for_timeout(ROTATION_WAIT_MS)
    viewer.wait_frame_after(viewer.frames)
    assert changed_pixels(viewer.pixels(), still) > CHANGED, "rotation on: the view turns"
    viewer.press("h")
    viewer.page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    stopped = viewer.pixels()
    viewer.page.wait_for_timeout(300)
    assert changed_pixels(viewer.pixels(), stopped) == 0, "rotation off: the view stays"


def test_local_file_opens_from_the_picker(viewer: ViewerPage, network_folder: Path) -> None:
    viewer.open(PROCESSED)
    before = viewer.frames
    viewer.page.locator("input[type=file]").set_input_files(network_folder / PLAIN)
    viewer.wait_frame_after(before)
    viewer.wait_ready()
    assert viewer.page.evaluate("window.nnscapeViewer.network") == PLAIN
    assert ink(viewer.pixels()).any()


def test_dropped_file_opens(viewer: ViewerPage, network_folder: Path) -> None:
    viewer.open(PROCESSED)
    transfer = viewer.page.evaluate_handle(
        """([name, bytes]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name));
            return transfer;
        }""",
        [PLAIN, list((network_folder / PLAIN).read_bytes())],
    )
    before = viewer.frames
    viewer.page.dispatch_event("#viewport", "drop", {"dataTransfer": transfer})
    viewer.wait_frame_after(before)
    viewer.wait_ready()
    assert viewer.page.evaluate("window.nnscapeViewer.network") == PLAIN
    assert ink(viewer.pixels()).any()


def test_render_settings_save_to_the_server(viewer: ViewerPage, server_url: str) -> None:
    viewer.open(PROCESSED)
    defaults = get_json(f"{server_url}api/config/rendering")
    viewer.set_render("edges.size", 0.05)
    viewer.page.get_by_text("Save render settings (server)", exact=True).click()
    viewer.page.wait_for_function("document.getElementById('message').textContent.includes('saved')")
    try:
        saved = get_json(f"{server_url}api/config/rendering")
        assert saved["edges"]["size"] == 0.05
        assert saved["nodes"] == defaults["nodes"]
    finally:
        restore = urllib.request.Request(
            f"{server_url}api/config/rendering",
            data=json.dumps(defaults).encode(),
            headers={"Content-Type": "application/json"},
            method="PUT",
        )
        urllib.request.urlopen(restore, timeout=10).close()


CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "files"
# Broken files of the shared corpus (tests/corpus/), as a user might hand the viewer: the message names the field.
BROKEN = {entry["file"]: entry for entry in json.loads((CORPUS / "manifest.json").read_text()) if not entry["valid"]}
SHOWN_BROKEN = ("truncated-data.nnscape", "position-nan.nnscape", "edge-target-out-of-range.nnscape",
                "importance-above-one.nnscape", "missing-tensor.nnscape", "future-version.nnscape")  # fmt: skip


@pytest.mark.parametrize("name", SHOWN_BROKEN)
def test_broken_local_file_is_reported_not_drawn(viewer: ViewerPage, name: str) -> None:
    viewer.open(PROCESSED)
    viewer.page.locator("input[type=file]").set_input_files(CORPUS / name)
    viewer.page.wait_for_function("document.body.dataset.state !== 'ready'")
    assert viewer.wait_settled() == "error"
    message = viewer.page.locator("#message").inner_text()
    assert message.startswith(f"{name}: ")
    assert BROKEN[name]["field"] in message
    assert BROKEN[name]["reason"] in message


def test_version_1_and_version_2_files_with_a_skip_edge_are_drawn(viewer: ViewerPage, tmp_path: Path) -> None:
    """The same 3-2-2 network of the shared corpus, as a version 1 file and as version 2 with one skip edge."""
    viewer.open(PROCESSED)
    pictures = []
    for name in ("v1-network.nnscape", "v2-network-with-skip.nnscape"):
        before = viewer.frames
        viewer.page.locator("input[type=file]").set_input_files(CORPUS / name)
        viewer.wait_frame_after(before)
        viewer.wait_ready()
        assert viewer.page.evaluate("window.nnscapeViewer.network") == name
        pictures.append(viewer.pixels())
        Image.fromarray(pictures[-1]).save(tmp_path / f"{name}.png")
    assert ink(pictures[0]).any()
    assert changed_pixels(pictures[0], pictures[1]) > 0  # the skip edge from layer 0 to layer 2 is drawn


def test_more_classes_than_palette_colours(viewer: ViewerPage) -> None:
    viewer.open(MANY_CLASSES)
    n_classes = MANY_CLASSES_LAYERS[-1]
    buttons = viewer.page.get_by_text("Class 12: 12", exact=True)
    assert buttons.count() == 1
    viewer.set_class_view(n_classes - 1)
    assert ink(viewer.pixels()).any()


def test_generate_from_an_edited_layer_list(viewer: ViewerPage, server_url: str) -> None:
    viewer.open(PROCESSED)
    page = viewer.page
    page.get_by_text("Generate random network", exact=True).click()
    page.get_by_text("Remove last layer", exact=True).click()
    page.get_by_text("Remove last layer", exact=True).click()  # 784-81-49-10 → 784-10
    page.get_by_text("Add layer", exact=True).click()  # → 784-16-10
    page.get_by_text("Generate", exact=True).click()
    page.wait_for_function(f"window.nnscapeViewer.network !== {json.dumps(PROCESSED)}", timeout=JOB_TIMEOUT_MS)
    viewer.wait_ready()
    name = page.evaluate("window.nnscapeViewer.network")
    entries = {entry["name"]: entry for entry in get_json(f"{server_url}api/networks")}
    assert entries[name]["layer_sizes"] == [784, 16, 10]
    assert ink(viewer.pixels()).any()


def test_processing_from_the_page_reports_progress_and_adds_a_file(viewer: ViewerPage, server_url: str) -> None:
    pytest.importorskip("nnscape.processing", reason="processing lands with the processing issue")
    from nnscape import processing

    if not hasattr(processing, "process"):
        pytest.skip("nnscape.processing.process does not exist yet")
    viewer.open(PLAIN)
    page = viewer.page
    # Record every job state the page goes through.
    page.evaluate(
        """window.jobStates = [];
        new MutationObserver(() => window.jobStates.push(document.body.dataset.job))
            .observe(document.body, {attributes: true, attributeFilter: ['data-job']});"""
    )
    before = {entry["name"] for entry in get_json(f"{server_url}api/networks")}
    page.get_by_text("Processing", exact=True).click()
    page.get_by_text("Process shown network").click()
    page.wait_for_function(
        "window.nnscapeViewer.network !== " + json.dumps(PLAIN) + " && document.body.dataset.state === 'ready'",
        timeout=JOB_TIMEOUT_MS,
    )
    states = page.evaluate("window.jobStates")
    assert "running" in states, states
    assert states[-1] == "done", states
    progress = page.locator(".lil-gui input[disabled]").evaluate_all("inputs => inputs.map(i => i.value)")
    assert any("done" in value for value in progress), progress
    output = page.evaluate("window.nnscapeViewer.network")
    entries = {entry["name"]: entry for entry in get_json(f"{server_url}api/networks")}
    assert output not in before
    assert entries[output]["kind"] == "processed"
    assert entries[output]["layer_sizes"] == list(TINY_LAYERS)
    assert ink(viewer.pixels()).any()


def test_stop_cancels_a_processing_job_without_leaving_a_file(viewer: ViewerPage, server_url: str) -> None:
    viewer.open(PLAIN)
    page = viewer.page
    before = {entry["name"] for entry in get_json(f"{server_url}api/networks")}
    page.get_by_text("Processing", exact=True).click()
    for setting in ("edge bandwidth reduction", "node bandwidth reduction"):  # hundreds of iterations
        field = page.locator(".lil-controller", has_text=setting).locator("input")
        field.fill(str(SLOW_BANDWIDTH_REDUCTION))
        field.press("Enter")
    page.get_by_text("Process shown network").click()
    page.wait_for_function("document.body.dataset.job === 'running'", timeout=JOB_TIMEOUT_MS)
    page.get_by_text("Stop", exact=True).click()
    page.wait_for_function("document.body.dataset.job === 'cancelled'", timeout=JOB_TIMEOUT_MS)
    assert {entry["name"] for entry in get_json(f"{server_url}api/networks")} == before
    assert viewer.page.evaluate("window.nnscapeViewer.network") == PLAIN
