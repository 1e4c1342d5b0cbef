"""Progress reports and cancellation shared by every long-running stage.

A stage takes ``progress: ProgressCallback | None`` and ``cancel: threading.Event | None``; it reports one
:class:`ProgressEvent` per step and calls :func:`check_cancelled` at the same points, so the CLI (progress
bars) and the server (server-sent events, stop button) drive every stage the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from nnscape.errors import Cancelled

__all__ = ["ProgressCallback", "ProgressEvent", "check_cancelled", "report", "throttled"]


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a phase: ``step`` of ``total`` (1-based), with figures such as bandwidth or loss."""

    phase: str
    step: int
    total: int
    values: Mapping[str, float] = field(default_factory=dict)


ProgressCallback = Callable[[ProgressEvent], None]


def check_cancelled(cancel: threading.Event | None) -> None:
    """Raise :class:`Cancelled` when ``cancel`` is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled on request")


def report(
    progress: ProgressCallback | None,
    phase: str,
    step: int,
    total: int,
    **values: float,
) -> None:
    """Send one event to ``progress`` if there is a listener."""
    if progress is not None:
        progress(ProgressEvent(phase, step, total, values))


def throttled(
    progress: ProgressCallback, interval_s: float, *, clock: Callable[[], float] = time.monotonic
) -> ProgressCallback:
    """``progress`` called for the first and the last step of every phase and otherwise at most once every
    ``interval_s`` seconds: for logs, which want a line per phase rather than one per step."""
    last_phase: str | None = None
    last_time = 0.0

    def on_progress(event: ProgressEvent) -> None:
        nonlocal last_phase, last_time
        now = clock()
        if event.phase != last_phase or event.step >= event.total or now - last_time >= interval_s:
            last_phase, last_time = event.phase, now
            progress(event)

    return on_progress
