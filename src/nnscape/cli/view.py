"""``nnscape view``: serve a folder of networks on this machine and open the viewer in the browser."""

from __future__ import annotations

import argparse

from nnscape.cli.common import port_number


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("view", help="open the 3D viewer on .nnscape files or a folder of them")
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="FILES or FOLDER",
        help="a folder to serve (default: the current one), or files in one folder (the first opens first)",
    )
    parser.add_argument("--port", type=port_number, help="port to listen on (default: a free one)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; other addresses expose the folder)",
    )
    parser.add_argument("--no-browser", action="store_true", help="only print the address, do not open a browser")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nnscape.server import view

    view(args.paths or None, port=args.port, host=args.host, open_browser=not args.no_browser, block=True)
    return 0
