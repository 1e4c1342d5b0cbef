"""The README's Python example runs as written (in a scratch folder, with the browser opener stubbed out)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import nnscape

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "README.md has no Python example"
    monkeypatch.chdir(tmp_path)
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *args, **kwargs: opened.append(url) or True)
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    processed = nnscape.load(tmp_path / "digits.processed.nnscape")
    assert processed.kind == "processed"
    assert int(processed.metadata["pruned_edges"]) == processed.n_edges  # half of the edges were pruned
    assert opened
    assert opened[0].startswith("http://127.0.0.1:")
