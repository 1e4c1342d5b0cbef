"""The house rules that tools can check: ruff (lint and format) and mypy strict over the package and the benchmarks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON_FOLDERS = [name for name in ("src", "tests", "benchmarks", "examples") if (ROOT / name).is_dir()]


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "ruff", "check", *PYTHON_FOLDERS],
        [sys.executable, "-m", "ruff", "format", "--check", *PYTHON_FOLDERS],
        [sys.executable, "-m", "mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_is_clean(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
