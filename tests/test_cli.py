"""The command line's own conduct around a command: Python's cycle collector while modules load."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from nnscape.cli import main
from nnscape.cli.common import quick_imports


def test_quick_imports_pauses_the_collector_and_exempts_what_the_imports_built() -> None:
    assert gc.isenabled()
    before = gc.get_freeze_count()
    try:
        with quick_imports():
            assert not gc.isenabled()
            built = [[index] for index in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(built)
    finally:
        gc.unfreeze()


def test_quick_imports_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with quick_imports():
            pass
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_command_run_in_a_longer_lived_process_leaves_nothing_frozen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gc.get_freeze_count() == 0
    assert main(["generate", "--layers", "6,4,2", "--out", str(tmp_path / "net.nnscape")]) == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
