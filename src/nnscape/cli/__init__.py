"""The ``nnscape`` command: one module per subcommand, each a thin layer over the library.

A subcommand module defines ``register(subparsers)``, which adds its parser and sets ``run`` to a function
taking the parsed arguments and returning the exit status. Heavy imports (torch, the server) happen inside
``run`` so that ``nnscape --help`` and ``nnscape info`` stay fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from nnscape import __version__
from nnscape.errors import NnscapeError

__all__ = ["main"]

# Order of appearance in ``nnscape --help``.
COMMANDS = ("demo", "generate", "train", "importance", "process", "info", "view", "export", "evaluate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnscape",
        description="Show a trained neural network as a 3D landscape of its parameters.",
    )
    parser.add_argument("--version", action="version", version=f"nnscape {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        import_module(f"nnscape.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; user mistakes print one line on stderr and return a non-zero status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except NnscapeError as exc:
        print(f"nnscape {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"nnscape {args.command}: interrupted", file=sys.stderr)
        return 130
    return status
