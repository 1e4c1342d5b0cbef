"""The Python reader against the shared corpus of tests/corpus/ (the viewer's parser is run on the same files by
``npm test`` in web/, which the last test here calls): valid files read to what the manifest says, broken ones
are refused with one line naming the file, the field and the reason, by ``load`` and by ``nnscape info``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnscape.cli import main
from nnscape.errors import FormatError
from nnscape.io import load, read_metadata

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
FILES = CORPUS / "files"
MANIFEST: list[dict[str, Any]] = json.loads((FILES / "manifest.json").read_text())
VALID = [entry for entry in MANIFEST if entry["valid"]]
BROKEN = [entry for entry in MANIFEST if not entry["valid"]]


def test_corpus_is_what_the_script_writes(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(CORPUS / "make_corpus.py"), str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == sorted(path.name for path in FILES.iterdir())
    for name in written:
        assert (tmp_path / name).read_bytes() == (FILES / name).read_bytes(), f"{name}: rerun make_corpus.py"
    assert len(VALID) >= 4
    assert len(BROKEN) >= 50


@pytest.mark.parametrize("entry", VALID, ids=[entry["file"] for entry in VALID])
def test_valid_file_reads_as_the_manifest_says(entry: dict[str, Any]) -> None:
    network = load(FILES / entry["file"])
    assert read_metadata(FILES / entry["file"])["version"] == entry["version"]
    assert network.kind == entry["kind"]
    assert network.layer_sizes.tolist() == entry["layer_sizes"]
    assert list(network.layer_names) == entry["layer_names"]
    assert list(network.layer_kinds) == entry["layer_kinds"]
    assert list(network.class_names) == entry["class_names"]
    assert network.n_edges == entry["edges"]
    assert int((network.edge_span > 1).sum()) == entry["skip_edges"]
    assert network.n_samples == entry["samples"]


def test_unaligned_file_reads_the_same_values() -> None:
    aligned, unaligned = load(FILES / "v2-network-with-skip.nnscape"), load(FILES / "v2-unaligned.nnscape")
    for name in ("node_importance", "node_position", "edge_source", "edge_target", "edge_weight"):
        np.testing.assert_array_equal(getattr(unaligned, name), getattr(aligned, name))


@pytest.mark.parametrize("entry", BROKEN, ids=[entry["file"] for entry in BROKEN])
def test_broken_file_is_refused_naming_the_field(entry: dict[str, Any]) -> None:
    with pytest.raises(FormatError) as caught:
        load(FILES / entry["file"], name=entry["file"])
    message = str(caught.value)
    assert message.startswith(f"{entry['file']}: ")
    assert entry["field"] in message, message
    assert entry["reason"] in message, message
    assert "\n" not in message


def test_info_refuses_every_broken_file_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for entry in BROKEN:
        path = FILES / entry["file"]
        assert main(["info", str(path)]) == 1, entry["file"]
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.count("\n") == 1, captured.err
        assert str(path) in captured.err


def test_cli_prints_no_traceback() -> None:
    path = FILES / "truncated-data.nnscape"
    result = subprocess.run([sys.executable, "-m", "nnscape", "info", str(path)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "truncated-data.nnscape" in result.stderr


def test_missing_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["info", str(tmp_path / "nope.nnscape")]) == 1
    assert "cannot read file" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.nnscape"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "nnscape", "info", str(fifo)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "not a regular file" in result.stderr


def test_header_is_checked_before_the_file_is_read(tmp_path: Path) -> None:
    """A 1 GiB file (sparse) whose 8-byte prefix is wrong is refused after reading a few bytes only."""
    path = tmp_path / "big.nnscape"
    with open(path, "wb") as file:
        file.write((2**40).to_bytes(8, "little"))
        file.truncate(2**30)
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match="header length"):
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_viewer_parser_passes_the_same_corpus() -> None:
    npm = shutil.which("npm")
    if npm is None or not (ROOT / "web" / "node_modules").exists():
        pytest.skip("Node's npm and web/node_modules are needed for the viewer's tests")
    result = subprocess.run([npm, "test"], cwd=ROOT / "web", capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # The corpus's tests (one per file and two more) and the viewer's other Node tests, none failed or skipped.
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    assert passed is not None, result.stdout[-2000:]
    assert int(passed.group(1)) >= len(MANIFEST) + 2
    assert "# fail 0" in result.stdout
    assert "# skipped 0" in result.stdout
