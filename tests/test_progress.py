"""Progress in logs: a line when a phase starts and ends and at most one per interval between, never a
progress bar's redraws (which fill a log with thousands of lines)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nnscape.cli import main
from nnscape.progress import ProgressEvent, report, throttled


def test_throttled_passes_first_and_last_step_of_each_phase_and_one_per_interval() -> None:
    now = [0.0]
    seen: list[tuple[str, int]] = []
    progress = throttled(lambda event: seen.append((event.phase, event.step)), 10.0, clock=lambda: now[0])
    for step in range(1, 101):  # one step a second: lines at 1 (start), 11, 21, …, 91 and 100 (end)
        now[0] = float(step)
        report(progress, "train", step, 100)
    for step in range(1, 4):  # a new phase starts at once, fast steps: first and last only
        report(progress, "bundle", step, 3)
    assert seen == [("train", s) for s in (1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 100)] + [("bundle", 1), ("bundle", 3)]


def test_throttled_keeps_the_event_whole() -> None:
    seen: list[ProgressEvent] = []
    throttled(seen.append, 1.0)(ProgressEvent("train", 1, 2, {"loss": 0.5}))
    assert seen == [ProgressEvent("train", 1, 2, {"loss": 0.5})]


def test_a_command_logs_a_few_lines_per_phase_when_stderr_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = tmp_path / "net.nnscape", tmp_path / "out.nnscape"
    assert main(["generate", "--layers", "9,4,2", "--out", str(source)]) == 0
    capsys.readouterr()
    assert main(["process", str(source), "--out", str(out)]) == 0
    log = capsys.readouterr().err
    assert "\r" not in log  # no bar redraws
    lines = log.splitlines()
    phases = {line.split(":")[0] for line in lines}
    assert len(phases) >= 2, log  # it says what it does
    assert len(lines) <= 3 * len(phases), log  # start, end, and at most one in between on a fast run
    assert all(line.split(": ")[1].split()[0].count("/") == 1 for line in lines), log
