"""Regenerate the README's viewer pictures and print the picture figures (docs/viewer.md, "Figures").

    python docs/make_figures.py                    # digits demo networks, cached in ~/.cache/nnscape/figures
    python docs/make_figures.py --cache DIR --out docs/images

Trains the three digits demo variants through ``nnscape.demo`` (once; reused while their recipe is unchanged),
derives the processing stages from the basic one, serves them with the real server and drives the real viewer
in headless Chromium with its default settings. Each picture is the free canvas (left of the control panel):

- ``variants.png``: untrained / basic / L1, Independent view, preset 9, one camera (one network's framing, kept
  for the others of the same architecture; the one that cuts least off), so their widths compare;
- ``stages.png``: straight edges on the grid layout / nodes bundled with straight edges / edges bundled, All
  view, one camera;
- ``class-view.png``: the basic network, "Class k" view of class :data:`CLASS_SHOWN`;
- ``demo.png``: the basic network, All view (the README's opening picture).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from nnscape.demo import build_demo, default_demo_dir
from nnscape.figures import (
    Pixels,
    ViewerPage,
    chromium,
    framing,
    ink,
    vivid_share_of_canvas,
    vivid_share_of_ink,
)
from nnscape.io import load
from nnscape.layout import grid_layout
from nnscape.server import create_app, serve_in_thread

SIZE = (1280, 720)
CLASS_SHOWN = 3
DEFAULT_PRESET = 9
PRESETS = range(10)
LABEL_HEIGHT = 48
FONT_SIZE = 32
BLACK = (0, 0, 0)


def stage_files(basic: Path, folder: Path) -> list[str]:
    """The basic network before bundling (grid layout, straight edges), with bundled nodes but straight edges,
    and processed; written into ``folder``; returns their file names in that order."""
    processed = load(basic)
    config = json.loads(processed.metadata["processing_config"])
    layout = grid_layout(
        processed.layer_sizes.tolist(), layer_width=config["layer_width"], layer_distance=config["layer_distance"]
    )
    straight = processed.with_changes(node_position=layout, edge_offsets=None, edge_points=None)
    nodes_only = processed.with_changes(edge_offsets=None, edge_points=None)
    names = ["stage-1-straight.nnscape", "stage-2-nodes-bundled.nnscape", "stage-3-edges-bundled.processed.nnscape"]
    for network, name in zip((straight, nodes_only, processed), names, strict=True):
        network.save(folder / name)
    return names


def same_camera(viewer: ViewerPage, names: list[str], view: str) -> list[Pixels]:
    """The free canvas for each of ``names`` (one architecture) seen with one camera: the framing of one of
    them, the one whose camera leaves the least ink on the border of all the pictures (the framing lets a
    network's outermost strands leave the canvas, so a wider network seen with a narrower one's camera is cut)."""
    best: tuple[int, list[Pixels]] | None = None
    for first in names:
        viewer.open(first)
        viewer.set_class_view(view)
        pictures = {first: free_pixels(viewer)}
        for name in names:
            if name != first:
                switch(viewer, name)
                pictures[name] = free_pixels(viewer)
        cut = sum(border_ink(picture) for picture in pictures.values())
        if best is None or cut < best[0]:
            best = (cut, [pictures[name] for name in names])
    assert best is not None
    return best[1]


def border_ink(picture: Pixels) -> int:
    """Ink pixels on the picture's outermost rows and columns."""
    drawn = ink(picture)
    return int(drawn[[0, -1], :].sum() + drawn[:, [0, -1]].sum())


def switch(viewer: ViewerPage, name: str) -> None:
    """Open another file of the served folder in the same page (the camera stays for the same architecture)."""
    before = viewer.frames
    select = viewer.page.locator(".lil-controller", has_text="file").locator("select")
    labels = select.locator("option").all_inner_texts()
    select.select_option(label=next(label for label in labels if label.startswith(name)))
    viewer.page.get_by_text("Load selected", exact=True).click()
    viewer.page.wait_for_function(f"window.nnscapeViewer.network === {json.dumps(name)}")
    viewer.wait_ready()
    viewer.wait_frame_after(before)


def free_pixels(viewer: ViewerPage) -> Pixels:
    """The canvas left of the panel."""
    return viewer.pixels()[:, : viewer.free_canvas().width]


def side_by_side(pictures: list[Pixels], labels: list[str]) -> Image.Image:
    """Pictures in a row, each cropped to the union of their ink boxes, a label under each."""
    rows, columns = np.nonzero(np.any([ink(p) for p in pictures], axis=0))
    margin = 8
    top, bottom = max(rows.min() - margin, 0), rows.max() + margin
    left, right = max(columns.min() - margin, 0), columns.max() + margin
    tiles = [Image.fromarray(p[top:bottom, left:right]) for p in pictures]
    width, height = tiles[0].size
    sheet = Image.new("RGB", (width * len(tiles), height + LABEL_HEIGHT), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=FONT_SIZE)
    for i, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        sheet.paste(tile, (i * width, 0))
        draw.text((i * width + width // 2, height + LABEL_HEIGHT // 2), label, fill=BLACK, anchor="mm", font=font)
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=default_demo_dir().parent / "figures")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "images")
    args = parser.parse_args()

    demo = build_demo(args.cache / "demo", data="digits")
    served = args.cache / "served"
    shutil.rmtree(served, ignore_errors=True)
    served.mkdir(parents=True)
    for path in demo:
        shutil.copy(path, served / path.name)
    untrained, basic, l1 = (path.name for path in demo)
    stages = stage_files(served / basic, served)
    args.out.mkdir(parents=True, exist_ok=True)

    url, stop = serve_in_thread(create_app(served, config_folder=served / "configs"))
    try:
        with tempfile.TemporaryDirectory() as profile, chromium(Path(profile), *SIZE) as context:
            viewer = ViewerPage(context.new_page(), url)
            variants = same_camera(viewer, [untrained, basic, l1], "independent")
            side_by_side(variants, ["untrained", "basic", "L1"]).save(args.out / "variants.png")
            pictures = same_camera(viewer, stages, "all")
            labels = ["straight edges", "nodes bundled", "edges bundled"]
            side_by_side(pictures, labels).save(args.out / "stages.png")

            viewer.open(basic)
            free = viewer.free_canvas()
            shares = []
            for preset in PRESETS:
                viewer.set_camera(preset)
                shares.append(framing(viewer.pixels(), free).share)
            viewer.set_camera(DEFAULT_PRESET)
            class_ink = []
            for k in range(len(load(served / basic).class_names)):
                viewer.set_class_view(k)
                picture = viewer.pixels()
                class_ink.append(vivid_share_of_canvas(picture))
                if k == CLASS_SHOWN:
                    Image.fromarray(picture[:, : free.width]).save(args.out / "class-view.png")
            viewer.set_class_view("all")
            picture = viewer.pixels()
            Image.fromarray(picture[:, : free.width]).save(args.out / "demo.png")
    finally:
        stop()
    print(f"pictures in {args.out}: variants.png, stages.png, class-view.png, demo.png")
    print(f"framing, share of the free canvas, presets 0-9: {' '.join(f'{s:.2f}' for s in shares)}")
    print(f"class ink (vivid share of the canvas), mean of {len(class_ink)} classes: {statistics.mean(class_ink):.4f}")
    print(f"All view, vivid share of the ink: {vivid_share_of_ink(picture):.3f}")


if __name__ == "__main__":
    main()
