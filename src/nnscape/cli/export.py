"""``nnscape export``: a network as a standalone HTML page, a PNG render, glTF, or importance tables."""

from __future__ import annotations

import argparse
import re

from nnscape.cli.common import (
    add_config_arguments,
    config_from_args,
    output_path,
    quick_imports,
    shown_argument,
    whole_number,
)
from nnscape.errors import NnscapeError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from nnscape.export import FORMATS, TABLES
    from nnscape.export.payload import CAMERA_PRESETS, DEFAULT_CAMERA
    from nnscape.export.png import DEFAULT_SIZE

    parser = subparsers.add_parser(
        "export",
        help="write a network as HTML, PNG, glTF (.glb/.gltf), CSV tables or Model Explorer JSON",
        description="The format follows --out's suffix: " + ", ".join(FORMATS) + ".",
    )
    parser.add_argument("file", help="a .nnscape file")
    parser.add_argument("--out", required=True, help="output file; its suffix picks the format")
    parser.add_argument(
        "--size", default=f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}", help="PNG size WIDTHxHEIGHT in pixels"
    )
    parser.add_argument(
        "--camera",
        type=whole_number(0, CAMERA_PRESETS - 1),
        default=DEFAULT_CAMERA,
        help=f"camera preset 0-{CAMERA_PRESETS - 1} for HTML/PNG (default {DEFAULT_CAMERA})",
    )
    parser.add_argument(
        "--class-view", default="all", help="independent, all, a class index or name, for HTML/PNG (default all)"
    )
    # Render settings for HTML/PNG: those the viewer saved (configs/rendering.json), then --set edges.size=0.03.
    add_config_arguments(parser, "rendering")
    parser.add_argument("--table", choices=TABLES, default="edges", help="which table a .csv holds (default edges)")
    parser.set_defaults(run=run)


def parse_size(text: str) -> tuple[int, int]:
    # At most 9 digits a side: the renderer's own bound is far below, and int() of any longer string is refused.
    match = re.fullmatch(r"([0-9]{1,9})x([0-9]{1,9})", text.lower())
    if match is None:
        raise NnscapeError(f"--size {shown_argument(text)}: expected WIDTHxHEIGHT, e.g. 1600x1000")
    return int(match.group(1)), int(match.group(2))


def run(args: argparse.Namespace) -> int:
    with quick_imports():
        from nnscape.config import RenderConfig
        from nnscape.export import ViewOptions, export

    view = ViewOptions.create(
        render=config_from_args(RenderConfig, args), class_view=args.class_view, camera=args.camera
    )
    path = export(args.file, output_path(args.out), view=view, size=parse_size(args.size), table=args.table)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0
