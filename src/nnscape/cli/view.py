"""``nnscape view``: serve a folder of networks on this machine and open the viewer in the browser."""

from __future__ import annotations

import argparse

from nnscape.cli.common import port_number, quick_imports


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
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: the local network, which "
        "then needs the token printed in the address)",
    )
    parser.add_argument(
        "--https",
        action="store_true",
        help="serve https with a self-signed certificate (a headset's browser offers VR only on https pages)",
    )
    parser.add_argument("--no-browser", action="store_true", help="only print the address, do not open a browser")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with quick_imports():
        from nnscape.server import view

    view(
        args.paths or None,
        port=args.port,
        host=args.host,
        open_browser=not args.no_browser,
        block=True,
        https=args.https,
    )
    return 0
