"""docs/limits.md states each limit beside the constant that enforces it: the two must agree."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

LIMITS_DOC = Path(__file__).resolve().parents[2] / "docs" / "limits.md"
_CONSTANT = re.compile(r"`(nnscape(?:\.\w+)+)\.([A-Z_]+)`")


def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in LIMITS_DOC.read_text(encoding="utf-8").splitlines():
        match = _CONSTANT.search(line)
        if line.startswith("|") and match:
            rows.append((match.group(1), match.group(2), line.split("|")[2]))
    return rows


def test_the_table_names_constants() -> None:
    assert len(_rows()) >= 10


@pytest.mark.parametrize(("module", "name", "limit"), _rows())
def test_each_stated_limit_is_the_constant(module: str, name: str, limit: str) -> None:
    value = getattr(importlib.import_module(module), name)
    stated = limit.replace(" ", "").replace("(", " ").replace(")", " ").replace(",", " ").replace("]", " ")
    assert re.search(rf"(?<![\d.]){re.escape(str(value))}(?![\d.])", stated), f"{name} = {value} not in {limit!r}"
