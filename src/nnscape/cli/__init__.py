"""The ``nnscape`` command: one module per subcommand, each a thin layer over the library.

A subcommand module defines ``register(subparsers)``, which adds its parser and sets ``run`` to a function
taking the parsed arguments and returning the exit status. Heavy imports (torch, the server) happen inside
``run`` so that ``nnscape --help`` and ``nnscape info`` stay fast.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import gc
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from importlib import import_module
from types import FrameType
from typing import NoReturn

from nnscape import __version__
from nnscape.cli.common import OneLineParser, UsageError
from nnscape.errors import NnscapeError

__all__ = ["console_main", "main"]

# Order of appearance in ``nnscape --help``.
COMMANDS = ("demo", "generate", "train", "importance", "process", "info", "view", "export", "evaluate")
USAGE_STATUS = 2  # argparse's status for a command line it cannot parse
# Exit statuses of a command stopped by Ctrl+C (SIGINT) or by SIGTERM: 128 + the signal's number, as shells do.
INTERRUPTED_STATUS = 128 + signal.SIGINT
TERMINATED_STATUS = 128 + signal.SIGTERM
BROKEN_PIPE_STATUS = 128 + 13  # SIGPIPE's number on POSIX (Windows has no signal.SIGPIPE)
# mallopt parameters (glibc's malloc.h).
_M_TOP_PAD, _M_MMAP_THRESHOLD = -2, -3


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a service stop), raised like Ctrl+C so that every ``finally`` and temp cleanup runs."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="nnscape",
        description="Show a trained neural network as a 3D landscape of its parameters.",
    )
    parser.add_argument("--version", action="version", version=f"nnscape {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        import_module(f"nnscape.cli.{name}").register(subparsers)
    return parser


def console_main() -> NoReturn:
    """The ``nnscape`` program (console script and ``python -m nnscape``): :func:`main` in a process of its own."""
    _keep_freed_memory()
    status = main()
    # The interpreter's own shutdown (module teardown, every object torch created, torch's static destructors)
    # takes 0.1-0.4 s and does nothing a finished command needs: run the exit handlers, flush, and leave.
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def _keep_freed_memory() -> None:
    """Let glibc's malloc keep freed memory for reuse instead of handing it back to the kernel.

    Processing allocates and frees many temporaries of 1-30 MB per iteration. By default glibc maps each
    anew (and unmaps it when freed), so every iteration pays the kernel for fresh zeroed pages again: 0.1-0.2 s
    of page faults in a fresh ``nnscape process`` (190 000 faults; 104 000 with these settings). At most the
    64 MiB pad stays held beyond what is in use, so a long-running ``nnscape view`` does not hoard memory.
    Elsewhere (no glibc) this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):  # a C library without mallopt (musl)
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's ceiling: blocks below it come from the reusable heap
    mallopt(_M_TOP_PAD, 64 << 20)  # grow the heap in steps of 64 MiB and keep that much when it shrinks


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; user mistakes print one line on stderr and return a non-zero status."""
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return USAGE_STATUS
    in_main_thread = threading.current_thread() is threading.main_thread()  # only it may set signal handlers
    frozen_before = gc.get_freeze_count()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main_thread else None
    try:
        # Our own line says what went wrong; library warnings (torch's about pickles, say) would only muddle it.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            status: int = args.run(args)
    except NnscapeError as exc:
        print(f"nnscape {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except Terminated:
        print(f"nnscape {args.command}: terminated", file=sys.stderr)
        return TERMINATED_STATUS
    except KeyboardInterrupt:
        print(f"nnscape {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED_STATUS
    except BrokenPipeError:
        # The reader of our output has gone (`nnscape info F | head`): stop quietly, as pipelines expect, and
        # point stdout at nothing so that Python's flush at exit does not fail on the closed pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_STATUS
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        if not frozen_before:  # called in a longer-lived process (tests): let the collector see everything again
            gc.unfreeze()
    return status
