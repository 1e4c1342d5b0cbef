"""Write the shared corpus of good and broken ``.nnscape`` files and its manifest.

Both readers are tested on these files: the Python one by ``tests/test_format_corpus.py``, the viewer's
TypeScript one by ``web/test/format.test.ts`` (Node's test runner). The files are committed (a few hundred bytes
each) so the Node test needs no Python; ``test_format_corpus.py`` checks that this script still writes exactly
the committed bytes. Run ``python tests/corpus/make_corpus.py`` after changing it.

``manifest.json`` lists every file: ``valid`` files with what a reader must find in them, broken ones with
the ``field`` that the one-line error must name and a ``reason`` word it must contain (docs/format.md).
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save as safetensors_bytes

from nnscape.io import encode

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
Header = dict[str, Any]

LAYERS = [3, 2, 2]
CLASSES = ["cat", "dog"]
NAMES = ["pixels", "fc1", "fc2"]
KINDS = ["input", "linear", "add"]


def tensors(*, skip: bool, processed: bool = False) -> dict[str, np.ndarray]:
    """A 3-2-2 network with two classes; ``skip`` adds an edge from node 0 (layer 0) to node 5 (layer 2)."""
    starts = np.cumsum([0, *LAYERS])
    source = [s for gap in range(2) for s in range(starts[gap], starts[gap + 1]) for _ in range(LAYERS[gap + 1])]
    target = [t for gap in range(2) for _ in range(LAYERS[gap]) for t in range(starts[gap + 1], starts[gap + 2])]
    if skip:
        source, target = [*source, 0], [*target, 5]
    n_nodes, n_edges = int(starts[-1]), len(source)
    layer = np.repeat(np.arange(3), LAYERS)
    within = np.arange(n_nodes) - starts[layer]  # index of each node within its layer
    position = np.stack([within * 0.5 - 0.5, (within % 2) * 0.5 - 0.25, layer * 1.0], axis=1)
    result = {
        "layer_sizes": np.array(LAYERS, np.int64),
        "node_importance": np.linspace(0, 1, n_nodes * 2).reshape(n_nodes, 2).astype(np.float32),
        "node_position": position.astype(np.float32),
        "edge_source": np.array(source, np.int32),
        "edge_target": np.array(target, np.int32),
        "edge_weight": (np.arange(n_edges) / 10 - 0.5).astype(np.float32),
        "edge_importance": np.linspace(0, 1, n_edges).astype(np.float32),
    }
    if processed:
        result["edge_offsets"] = np.arange(n_edges + 1, dtype=np.int64) * 2
        result["edge_points"] = np.stack([position[source], position[target]], axis=1).reshape(-1, 3).astype(np.float32)
    return result


def metadata(version: str, *, processed: bool = False, **changes: str | None) -> dict[str, str]:
    meta = {
        "format": "nnscape",
        "version": version,
        "kind": "processed" if processed else "network",
        "class_names": json.dumps(CLASSES),
        "created_by": "nnscape corpus",
    }
    if version == "2":
        meta |= {"layer_names": json.dumps(NAMES), "layer_kinds": json.dumps(KINDS)}
    meta |= changes
    return {key: value for key, value in meta.items() if value is not None}


def good(version: str = "2", *, processed: bool = False, **changes: str | None) -> bytes:
    return encode(
        tensors(skip=version == "2" and not processed, processed=processed),
        metadata(version, processed=processed, **changes),
    )


def with_tensor(name: str, change: Callable[[np.ndarray], np.ndarray], version: str = "2") -> bytes:
    arrays = tensors(skip=version == "2")
    arrays[name] = change(arrays[name].copy())
    return encode(arrays, metadata(version))


def processed_with(name: str, change: Callable[[np.ndarray], np.ndarray]) -> bytes:
    arrays = tensors(skip=False, processed=True)
    arrays[name] = change(arrays[name].copy())
    return encode(arrays, metadata("2", processed=True))


def split(data: bytes) -> tuple[Header, bytes]:
    """The header and the data section of a file."""
    (length,) = struct.unpack("<Q", data[:8])
    header: Header = json.loads(data[8 : 8 + length])
    return header, data[8 + length :]


def join(header: Header | str, body: bytes, *, align: bool = True) -> bytes:
    text = (header if isinstance(header, str) else json.dumps(header)).encode()
    text += b" " * (-len(text) % 8 if align else 1 + len(text) % 2)  # unaligned: an odd data start
    return struct.pack("<Q", len(text)) + text + body


def edit(change: Callable[[Header], object]) -> bytes:
    """A good file whose header is changed in place."""
    header, rest = split(good())
    change(header)
    return join(header, rest)


def text_edit(old: str, new: str) -> bytes:
    """A good file whose header text has ``old`` replaced by ``new`` (for what a dict cannot hold)."""
    header, rest = split(good())
    text = json.dumps(header)
    assert old in text, old
    return join(text.replace(old, new, 1), rest)


def grow_last_tensor(header: Header) -> None:
    """The last tensor in the data section claims 8 rows of 3 floats, more than the file holds."""
    last = max((key for key in header if key != "__metadata__"), key=lambda key: header[key]["data_offsets"])
    begin = header[last]["data_offsets"][0]
    header[last].update(shape=[8, 3], data_offsets=[begin, begin + 8 * 3 * 4])


def shift_after(header: Header, name: str, by: int) -> None:
    """Move every tensor after ``name`` (in the data section) by ``by`` bytes."""
    begin = header[name]["data_offsets"][1]
    for key, entry in header.items():
        if key != "__metadata__" and entry["data_offsets"][0] >= begin:
            entry["data_offsets"] = [offset + by for offset in entry["data_offsets"]]


def insert_gap(data: bytes) -> bytes:
    header, rest = split(data)
    end = header["edge_source"]["data_offsets"][1]
    shift_after(header, "edge_source", 4)
    return join(header, rest[:end] + b"\0" * 4 + rest[end:])


def set_entry(name: str, **values: object) -> Callable[[Header], None]:
    return lambda header: header[name].update(values)


def deep_header() -> bytes:
    header, rest = split(good())
    text = json.dumps(header)[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}"
    return join(text, rest)


def backwards_edge(target: np.ndarray) -> np.ndarray:
    target[0] = 1  # node 0 → node 1: both in layer 0
    return target


def not_monotonic(data: bytes) -> bytes:
    header, rest = split(data)
    begin, _ = header["edge_offsets"]["data_offsets"]
    offsets = np.frombuffer(rest, np.int64, count=3, offset=begin).copy()
    offsets[1] = offsets[2]
    return join(header, rest[:begin] + offsets.tobytes() + rest[begin + offsets.nbytes :])


def valid(version: str, kind: str, edges: int, skips: int, samples: int) -> dict[str, Any]:
    names = NAMES if version == "2" else ["input", "hidden 1", "output"]
    kinds = KINDS if version == "2" else ["input", "linear", "linear"]
    return {
        "valid": True,
        "version": version,
        "kind": kind,
        "layer_sizes": LAYERS,
        "layer_names": names,
        "layer_kinds": kinds,
        "class_names": CLASSES,
        "edges": edges,
        "skip_edges": skips,
        "samples": samples,
    }


def broken(field: str, reason: str) -> dict[str, Any]:
    return {"valid": False, "field": field, "reason": reason}


BIG = 2**62
CASES: dict[str, tuple[Callable[[], bytes], dict[str, Any]]] = {
    # -- valid files --------------------------------------------------------------------------------
    "v1-network": (lambda: good("1"), valid("1", "network", 10, 0, 0)),
    "v1-processed": (lambda: good("1", processed=True), valid("1", "processed", 10, 0, 20)),
    "v2-network-with-skip": (good, valid("2", "network", 11, 1, 0)),
    "v2-processed": (lambda: good(processed=True), valid("2", "processed", 10, 0, 20)),
    "v2-unaligned": (
        lambda: join(json.dumps(split(good())[0]), split(good())[1], align=False),
        valid("2", "network", 11, 1, 0),
    ),
    # -- the length prefix and the JSON header -----------------------------------------------------------
    "empty": (lambda: b"", broken("header", "truncated")),
    "short-length-prefix": (lambda: good()[:5], broken("header", "truncated")),
    "random-bytes": (lambda: np.random.default_rng(0).bytes(4096), broken("header", "not a .nnscape file")),
    "png-image": (lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 64, broken("header", "not a .nnscape file")),
    "truncated-half": (lambda: good()[: len(good()) // 2], broken("header", "header length")),
    "header-length-past-end": (lambda: struct.pack("<Q", 2**63) + good()[8:], broken("header", "header length")),
    "header-truncated": (lambda: good()[:60], broken("header", "header length")),
    "header-not-json": (lambda: join("{not json", b""), broken("header", "not valid JSON")),
    "header-with-bom": (lambda: struct.pack("<Q", 5) + b"\xef\xbb\xbf{}", broken("header", "not valid JSON")),
    "header-not-utf8": (lambda: struct.pack("<Q", 4) + b'"\xff"}', broken("header", "not valid JSON")),
    "header-not-object": (lambda: join("[]", b""), broken("header", "not a JSON object")),
    "header-nan-literal": (
        lambda: text_edit('"shape": [7, 3]', '"shape": [NaN, 3]'),
        broken("header", "not valid JSON"),
    ),
    "header-huge-integer": (
        lambda: text_edit('"shape": [7, 3]', '"shape": [' + "9" * 30 + ", 3]"),
        broken("header", "not valid JSON"),
    ),
    "header-nested-4-levels": (
        lambda: text_edit('"shape": [7, 3]', '"shape": [[7], 3]'),
        broken("header", "nests deeper"),
    ),
    "header-nested-5000-levels": (deep_header, broken("header", "nests deeper")),
    "duplicate-tensor-key": (
        lambda: text_edit(
            '"edge_weight": {',
            '"edge_weight": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "edge_weight": {',
        ),
        broken("edge_weight", "appears twice"),
    ),
    "duplicate-metadata-key": (
        lambda: text_edit('"version": "2"', '"version": "2", "version": "2"'),
        broken("version", "appears twice"),
    ),
    "duplicate-entry-key": (
        lambda: text_edit('"dtype": "F32"', '"dtype": "F32", "dtype": "F32"'),
        broken("dtype", "appears twice"),
    ),
    # -- metadata ----------------------------------------------------------------------------------
    "plain-safetensors": (
        lambda: safetensors_bytes({"x": np.zeros(3, np.float32)}),
        broken("__metadata__", "plain safetensors"),
    ),
    "no-metadata": (lambda: edit(lambda h: h.pop("__metadata__")), broken("__metadata__", "metadata")),
    "metadata-not-string": (
        lambda: edit(lambda h: h["__metadata__"].update(created_by=3)),
        broken("__metadata__", "metadata"),
    ),
    "wrong-format-name": (lambda: good(format="other"), broken("format", "other")),
    "future-version": (lambda: good(version="99"), broken("version", "99")),
    "unknown-kind": (lambda: good(kind="mystery"), broken("kind", "mystery")),
    "v1-with-layer-names": (lambda: good("1", layer_names=json.dumps(NAMES)), broken("layer_names", "version 1")),
    "v2-without-layer-kinds": (lambda: good(layer_kinds=None), broken("layer_kinds", "JSON list")),
    "v2-layer-names-not-json": (lambda: good(layer_names="pixels,fc1,fc2"), broken("layer_names", "JSON list")),
    "v2-layer-names-too-few": (lambda: good(layer_names='["a", "b"]'), broken("layer_names", "one entry per layer")),
    "v2-layer-name-empty": (lambda: good(layer_names='["a", "", "c"]'), broken("layer_names", "layer 1")),
    "v2-layer-kind-not-a-word": (
        lambda: good(layer_kinds='["input", "Conv 2D", "add"]'),
        broken("layer_kinds", "layer 1"),
    ),
    "class-names-not-json": (lambda: good(class_names="cat,dog"), broken("class_names", "JSON list")),
    "class-names-one": (lambda: good(class_names='["cat"]'), broken("class_names", "at least 2")),
    "class-names-not-strings": (lambda: good(class_names="[1, 2]"), broken("class_names", "JSON list")),
    "pruned-edges-not-a-number": (lambda: good(pruned_edges="many"), broken("pruned_edges", "integer")),
    "pruned-edges-negative": (lambda: good(pruned_edges="-3"), broken("pruned_edges", "integer")),
    # -- tensor entries --------------------------------------------------------------------------
    "unknown-tensor": (
        lambda: encode({**tensors(skip=True), "extra": np.zeros(2, np.float32)}, metadata("2")),
        broken("extra", "not part of"),
    ),
    "missing-tensor": (
        lambda: encode({k: v for k, v in tensors(skip=True).items() if k != "edge_weight"}, metadata("2")),
        broken("edge_weight", "missing"),
    ),
    "polylines-in-plain-network": (
        lambda: encode(tensors(skip=False, processed=True), metadata("2")),
        broken("edge_offsets", "not part of"),
    ),
    "processed-without-polylines": (
        lambda: encode(tensors(skip=False), metadata("2", processed=True)),
        broken("edge_offsets", "missing"),
    ),
    "wrong-dtype": (
        lambda: edit(set_entry("edge_weight", dtype="I32")),
        broken("edge_weight", "dtype"),
    ),
    "entry-extra-key": (lambda: edit(set_entry("node_position", extra=1)), broken("node_position", "header entry")),
    "shape-float": (lambda: text_edit('"shape": [7, 3]', '"shape": [7.0, 3]'), broken("node_position", "shape")),
    "shape-negative": (lambda: edit(set_entry("node_position", shape=[-7, -3])), broken("node_position", "shape")),
    "shape-wrong-rank": (lambda: edit(set_entry("node_position", shape=[21])), broken("node_position", "shape")),
    "shape-product-overflows-int64": (
        lambda: edit(set_entry("node_position", shape=[BIG, 16])),
        broken("node_position", "claims shape"),
    ),
    "shape-disagrees-with-offsets": (
        lambda: edit(set_entry("node_position", shape=[999, 3])),
        broken("node_position", "claims shape"),
    ),
    "offsets-reversed": (
        lambda: edit(lambda h: h["node_position"].update(data_offsets=h["node_position"]["data_offsets"][::-1])),
        broken("node_position", "end before"),
    ),
    "offsets-not-integers": (
        lambda: edit(set_entry("node_position", data_offsets="0-84")),
        broken("node_position", "data_offsets"),
    ),
    # -- the data section ---------------------------------------------------------------------------------
    "tensors-overlap": (
        lambda: edit(lambda h: h["edge_target"].update(data_offsets=h["edge_source"]["data_offsets"])),
        broken("edge_target", "overlaps"),
    ),
    "gap-between-tensors": (lambda: insert_gap(good()), broken("edge_target", "gap")),
    "bytes-after-last-tensor": (lambda: good() + b"\0" * 8, broken("data", "after the last tensor")),
    "truncated-data": (lambda: good()[:-7], broken("node_position", "truncated")),
    "last-tensor-past-end": (
        lambda: edit(grow_last_tensor),
        broken("node_position", "truncated"),
    ),
    # -- values ----------------------------------------------------------------------------------------
    "layer-sizes-sum-wraps": (
        lambda: with_tensor("layer_sizes", lambda a: np.array([2**63 - 1, 2**63 - 1, 9], np.int64)),
        broken("layer_sizes", "nodes in all"),
    ),
    "layer-sizes-zero": (
        lambda: with_tensor("layer_sizes", lambda a: np.array([3, 0, 4], np.int64)),
        broken("layer_sizes", "at least 1 node"),
    ),
    "shape-disagrees-with-layers": (
        lambda: with_tensor("layer_sizes", lambda a: a + 1),
        broken("node_importance", "expected shape"),
    ),
    "importance-above-one": (
        lambda: with_tensor("node_importance", lambda a: a * 3),
        broken("node_importance", "[0, 1]"),
    ),
    "importance-nan": (
        lambda: with_tensor("edge_importance", lambda a: np.where(a == a.max(), np.nan, a)),
        broken("edge_importance", "non-finite"),
    ),
    "position-nan": (
        lambda: with_tensor("node_position", lambda a: np.where(a == a.max(), np.nan, a)),
        broken("node_position", "non-finite"),
    ),
    "weight-infinite": (
        lambda: with_tensor("edge_weight", lambda a: np.where(a == a.max(), np.inf, a)),
        broken("edge_weight", "non-finite"),
    ),
    "weight-nan": (
        lambda: with_tensor("edge_weight", lambda a: np.where(a == a.min(), np.nan, a)),
        broken("edge_weight", "non-finite"),
    ),
    "edge-source-out-of-range": (
        lambda: with_tensor("edge_source", lambda a: a - 100),
        broken("edge_source", "out of range"),
    ),
    "edge-target-out-of-range": (
        lambda: with_tensor("edge_target", lambda a: a + 100),
        broken("edge_target", "out of range"),
    ),
    "edge-within-a-layer": (lambda: with_tensor("edge_target", backwards_edge), broken("edge_target", "later layer")),
    "v1-skip-edge": (
        lambda: encode(tensors(skip=True), metadata("1")),
        broken("edge_target", "version 1"),
    ),
    "offsets-wrong-end": (
        lambda: processed_with("edge_offsets", lambda a: a + (np.arange(a.size) == a.size - 1) * 2),
        broken("edge_offsets", "must start at 0"),
    ),
    "offsets-not-monotonic": (
        lambda: not_monotonic(good(processed=True)),
        broken("edge_offsets", "at least 2"),
    ),
    "points-nan": (
        lambda: processed_with("edge_points", lambda a: np.where(a == a.max(), np.nan, a)),
        broken("edge_points", "non-finite"),
    ),
}


def write(folder: Path) -> None:
    """Write every case's file and the manifest into ``folder`` (stale corpus files are removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.nnscape"):
        old.unlink()
    manifest = []
    for name, (make, expect) in CASES.items():
        (folder / f"{name}.nnscape").write_bytes(make())
        manifest.append({"file": f"{name}.nnscape", **expect})
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else FILES)
