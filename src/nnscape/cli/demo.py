"""``nnscape demo``: train three small networks, estimate importance, bundle them and open the viewer."""

from __future__ import annotations

import argparse
from pathlib import Path

from nnscape.cli.common import port_number, progress_bars, quick_imports


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from nnscape.demo import DEMO_DATA

    parser = subparsers.add_parser(
        "demo", help="train untrained/basic/L1 networks on a bundled data set, bundle them and view them"
    )
    parser.add_argument("--dir", help="folder for the demo files (default: a folder in your user cache)")
    parser.add_argument(
        "--data", choices=tuple(DEMO_DATA), default="digits", help="data set (default digits, no download)"
    )
    parser.add_argument("--no-browser", action="store_true", help="print the viewer's address instead of opening it")
    parser.add_argument("--port", type=port_number, help="viewer port (default: a free one)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with quick_imports():
        from nnscape.demo import SHOWN_VARIANT, VARIANTS, build_demo, default_demo_dir, demo_stamp
        from nnscape.server import view
        from nnscape.summary import describe

    folder = Path(args.dir) if args.dir else default_demo_dir()
    with progress_bars(quiet=args.quiet) as progress:
        paths = build_demo(folder, data=args.data, progress=progress)
    for path in paths:
        info = describe(path)
        accuracy = demo_stamp(path).get("test_accuracy")
        shown = f"test accuracy {accuracy:.3f}, " if isinstance(accuracy, float) else ""
        quality = info.get("quality")
        figures = ", ".join(
            f"{key.replace('_', ' ')} {quality[key]:.4f}"
            for key in ("drawn_spread", "spread", "visible_ink", "ink")
            if isinstance(quality, dict) and key in quality
        )
        print(f"{path.name}: {shown}{info['edges']} edges, {figures}")
    print(f"demo files in {folder}")
    view(
        paths[VARIANTS.index(SHOWN_VARIANT)],
        folder=folder,
        port=args.port,
        open_browser=not args.no_browser,
        block=True,
    )
    return 0
