"""Progress reports and cancellation shared by every long-running stage.

A stage takes ``progress: ProgressCallback | None`` and ``cancel: threading.Event | None``; it reports one
:class:`ProgressEvent` per step and calls :func:`check_cancelled` at the same points, so the CLI (progress
bars) and the server (server-sent events, stop button) drive every stage the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from nnscape.errors import Cancelled

__all__ = ["ProgressCallback", "ProgressEvent", "check_cancelled", "report"]


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
