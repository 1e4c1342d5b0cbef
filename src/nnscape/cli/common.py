"""Pieces several subcommands share: --set/--config handling, checked argument types, progress bars, outputs."""

from __future__ import annotations

import argparse
import gc
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from nnscape.config import C, load_config, parse_overrides
from nnscape.errors import NnscapeError
from nnscape.files import check_writable
from nnscape.limits import MAX_PORT, MAX_SEED
from nnscape.progress import ProgressCallback, ProgressEvent, throttled

__all__ = [
    "OneLineParser",
    "UsageError",
    "add_config_arguments",
    "config_from_args",
    "device_name",
    "output_path",
    "port_number",
    "progress_bars",
    "quick_imports",
    "seed_number",
    "shown_argument",
    "whole_number",
]

CONFIG_FOLDER = Path("configs")
# In a log, a long phase says how far it is at most this often.
LOG_INTERVAL_S = 10.0
# Devices the commands run on: the CPU or a CUDA card (torch's other devices, such as meta, compute nothing).
_DEVICE = re.compile(r"cpu|cuda(:[0-9]{1,3})?")
# An argument quoted in an error line is cut to this many characters.
_MAX_SHOWN_ARGUMENT = 40


class UsageError(Exception):
    """A command line argparse cannot parse; ``str()`` is the one line to print."""


class OneLineParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` with one line instead of printing a usage block and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` accepting whole numbers in ``[low, high]`` (no upper end when ``high`` is None)."""
    allowed = f"in [{low}, {high}]" if high is not None else f">= {low}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:  # also a number of more than 4 300 digits
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f"{shown_argument(text)} is not allowed; expected a whole number {allowed}"
            )
        return value

    return parse


seed_number = whole_number(0, MAX_SEED)
port_number = whole_number(0, MAX_PORT)  # 0, like leaving --port out, picks a free port


def device_name(text: str) -> str:
    """An argparse ``type`` for ``--device``: cpu, cuda or cuda:N."""
    if not _DEVICE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{shown_argument(text)} is not allowed; expected cpu, cuda or cuda:N")
    return text


def shown_argument(text: str) -> str:
    """``text`` quoted for an error line, cut short."""
    if len(text) > _MAX_SHOWN_ARGUMENT:
        text = text[: _MAX_SHOWN_ARGUMENT - 1] + "…"
    return repr(text)


def add_config_arguments(parser: argparse.ArgumentParser, config_name: str) -> None:
    """``--config FILE`` and repeated ``--set key=value`` for one config."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"JSON settings (default: {CONFIG_FOLDER / (config_name + '.json')} if it exists, else defaults)",
    )
    parser.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        dest="overrides",
        help="override one setting; may be repeated",
    )


def config_from_args(config_type: type[C], args: argparse.Namespace) -> C:
    """The config from ``--config`` (or ``configs/NAME.json``), then ``--set`` overrides applied."""
    path = Path(args.config) if args.config else CONFIG_FOLDER / f"{config_type.NAME}.json"
    if args.config and not path.exists():
        raise NnscapeError(f"--config {path}: no such file")
    config = load_config(config_type, path)
    return config.with_overrides(parse_overrides(args.overrides, config_type.SETTINGS))


def output_path(value: str) -> Path:
    """Check that an output file can be written (folder, permissions, name length) before the long work."""
    return check_writable(value, "--out")


@contextmanager
def quick_imports() -> Iterator[None]:
    """Import a command's modules with Python's cycle collector paused, then exempt what they built from it.

    Importing torch creates about a million long-lived objects, and the collector scans all of them again
    each time their number grows by a quarter: 0.1-0.2 s of a command that should take 2 s. Frozen (moved
    to the collector's permanent generation), they are never scanned; garbage made later is collected as
    usual, so a long-running ``nnscape view`` still frees its cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


@contextmanager
def progress_bars(*, quiet: bool = False) -> Iterator[ProgressCallback | None]:
    """A progress callback for stderr: one tqdm bar per phase on a terminal; in a log (stderr not a terminal)
    a line when a phase starts and ends and at most one every LOG_INTERVAL_S between; ``None`` when quiet."""
    if quiet:
        yield None
        return
    if not sys.stderr.isatty():
        yield throttled(_log_line, LOG_INTERVAL_S)
        return
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def on_progress(event: ProgressEvent) -> None:
        bar = bars.get(event.phase)
        if bar is None:
            for other in bars.values():
                other.close()
            bars.clear()
            bar = bars[event.phase] = tqdm(total=event.total, desc=event.phase, file=sys.stderr, leave=True)
        bar.total = event.total
        if event.values:
            bar.set_postfix({k: f"{v:.4g}" for k, v in event.values.items()}, refresh=False)
        # update() redraws at most every tqdm's mininterval; the last step always shows.
        bar.update(event.step - bar.n)
        if event.step >= event.total:
            bar.refresh()

    try:
        yield on_progress
    finally:
        for bar in bars.values():
            bar.close()


def _log_line(event: ProgressEvent) -> None:
    values = "".join(f" {key}={value:.4g}" for key, value in event.values.items())
    print(f"{event.phase}: {event.step}/{event.total}{values}", file=sys.stderr, flush=True)
