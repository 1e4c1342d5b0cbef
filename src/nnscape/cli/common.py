"""Pieces several subcommands share: --set/--config handling, progress bars, output paths."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nnscape.config import C, load_config, parse_overrides
from nnscape.errors import NnscapeError
from nnscape.progress import ProgressCallback, ProgressEvent, throttled

__all__ = ["add_config_arguments", "config_from_args", "output_path", "progress_bars"]

CONFIG_FOLDER = Path("configs")
# In a log, a long phase says how far it is at most this often.
LOG_INTERVAL_S = 10.0


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


def output_path(value: str, *, overwrite: bool = True) -> Path:
    """Check that an output file's folder exists, so long work does not end in a failed write."""
    path = Path(value)
    if not path.parent.is_dir():
        raise NnscapeError(f"--out {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise NnscapeError(f"--out {path}: is a folder, expected a file name")
    if not overwrite and path.exists():
        raise NnscapeError(f"--out {path}: exists already")
    return path


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
