"""A corpus of broken .nnscape files: each is refused with one line naming the problem, never a traceback."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save as safetensors_bytes

from nnscape.cli import main
from nnscape.errors import FormatError
from nnscape.generate import random_network
from nnscape.io import load

FIELDS = ("layer_sizes", "node_importance", "node_position", "edge_source", "edge_target",
          "edge_weight", "edge_importance")  # fmt: skip


def good_tensors() -> dict[str, np.ndarray]:
    network = random_network([4, 3, 2], seed=1)
    return {name: getattr(network, name).copy() for name in FIELDS}


def encode(tensors: dict[str, np.ndarray], **metadata: str) -> bytes:
    meta = {"format": "nnscape", "version": "1", "kind": "network", "class_names": '["a", "b"]', **metadata}
    return safetensors_bytes(tensors, metadata=meta)


def good_bytes() -> bytes:
    return encode(good_tensors())


def with_tensor(name: str, change: Callable[[np.ndarray], np.ndarray], **metadata: str) -> bytes:
    tensors = good_tensors()
    tensors[name] = change(tensors[name])
    return encode(tensors, **metadata)


def lying_header() -> bytes:
    data = good_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    header["node_position"]["shape"] = [999, 3]
    text = json.dumps(header).encode()
    text += b" " * (length - len(text)) if len(text) < length else b""
    return struct.pack("<Q", len(text)) + text + data[8 + length :]


def processed_with_offsets(offsets: Callable[[int], np.ndarray]) -> bytes:
    tensors = good_tensors()
    edges = tensors["edge_source"].shape[0]
    tensors["edge_offsets"] = offsets(edges)
    tensors["edge_points"] = np.zeros((3 * edges, 3), np.float32)
    return encode(tensors, kind="processed")


def non_monotonic(edges: int) -> np.ndarray:
    offsets = np.arange(edges + 1, dtype=np.int64) * 3
    offsets[2], offsets[3] = offsets[3], offsets[2]
    return offsets


CORPUS: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty": (lambda: b"", "empty or truncated"),
    "truncated-in-length": (lambda: good_bytes()[:5], "empty or truncated"),
    "truncated-in-header": (lambda: good_bytes()[:40], "does not fit the file"),
    "truncated-in-data": (lambda: good_bytes()[:-7], "truncated"),
    "truncated-half": (lambda: good_bytes()[: len(good_bytes()) // 2], "truncated"),
    "random-bytes": (lambda: np.random.default_rng(0).bytes(4096), "not a .nnscape file"),
    "wrong-magic-png": (lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "not a .nnscape file"),
    "plain-safetensors": (lambda: safetensors_bytes({"x": np.zeros(3, np.float32)}), "no string metadata"),
    "wrong-format-name": (lambda: encode(good_tensors(), format="other"), "metadata format is 'other'"),
    "future-version": (lambda: encode(good_tensors(), version="99"), "version '99' is not supported"),
    "unknown-kind": (lambda: encode(good_tensors(), kind="mystery"), "metadata kind is 'mystery'"),
    "missing-field": (
        lambda: encode({k: v for k, v in good_tensors().items() if k != "edge_weight"}),
        "field edge_weight is missing",
    ),
    "header-lies-about-shape": (lying_header, "node_position claims shape"),
    "nan-position": (
        lambda: with_tensor("node_position", lambda a: np.where(a == a.max(), np.nan, a)),
        "node_position: non-finite value nan",
    ),
    "edge-index-out-of-range": (lambda: with_tensor("edge_target", lambda a: a + 100), "edge_source|edge_target"),
    "importance-above-one": (
        lambda: with_tensor("node_importance", lambda a: a * 3),
        r"node_importance: values must lie in \[0, 1\]",
    ),
    "shape-disagrees-with-layers": (
        lambda: with_tensor("layer_sizes", lambda a: a + 1),
        r"node_importance: expected shape \(12, 2\)",
    ),
    "class-names-not-json": (lambda: encode(good_tensors(), class_names="a,b"), "class_names"),
    "offsets-not-monotonic": (lambda: processed_with_offsets(non_monotonic), "edge_offsets: not increasing"),
    "offsets-wrong-end": (
        lambda: processed_with_offsets(lambda e: np.arange(e + 1, dtype=np.int64) * 2),
        "edge_offsets: must start at 0 and end",
    ),
    "processed-without-points": (lambda: encode(good_tensors(), kind="processed"), "field edge_offsets is missing"),
}


@pytest.fixture(params=sorted(CORPUS))
def broken_file(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    make, message = CORPUS[request.param]
    path = tmp_path / f"{request.param}.nnscape"
    path.write_bytes(make())
    return path, message


def test_load_names_file_and_problem(broken_file: tuple[Path, str]) -> None:
    path, message = broken_file
    with pytest.raises(FormatError, match=message) as caught:
        load(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_info_exits_nonzero_with_one_line(broken_file: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = broken_file
    assert main(["info", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert str(path) in captured.err


def test_good_file_of_the_corpus_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.nnscape"
    path.write_bytes(good_bytes())
    assert load(path).n_edges == 4 * 3 + 3 * 2


def test_cli_process_prints_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "broken.nnscape"
    path.write_bytes(good_bytes()[:100])
    result = subprocess.run([sys.executable, "-m", "nnscape", "info", str(path)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "broken.nnscape" in result.stderr


def test_missing_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["info", str(tmp_path / "nope.nnscape")]) == 1
    assert "cannot read file" in capsys.readouterr().err
