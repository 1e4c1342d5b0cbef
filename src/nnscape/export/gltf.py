"""``nnscape export --out OUT.glb`` / ``OUT.gltf``: the network as glTF 2.0 geometry for 3D tools.

Two meshes: ``nodes`` (POINTS at the node positions) and ``edges`` (LINES along each edge's polyline, or the
straight segment of an unprocessed network). Every vertex carries

- ``COLOR_0``: grey by importance (the viewer's "Independent" view: black at importance 1, white at 0),
- ``_IMPORTANCE``: the node's score (norm of its class vector, clipped to 1) or the edge's importance,
- ``_SHARE_<k>``: class k's share of the node's class importance; along an edge, the shares of its end nodes
  interpolated by the vertex's position on the polyline.

Custom attributes start with "_" as glTF 2.0 requires for application-specific semantics. The class names
and layer sizes are in the asset's ``extras``.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nnscape import __version__
from nnscape.errors import NnscapeError
from nnscape.export.payload import NetworkSource, network_file
from nnscape.export.tables import node_scores
from nnscape.io import atomic_write_bytes
from nnscape.network import Network

__all__ = ["export_gltf", "gltf_document"]

# glTF 2.0 constants (specification, section 5).
FLOAT = 5126
UNSIGNED_INT = 5125
ARRAY_BUFFER = 34962
ELEMENT_ARRAY_BUFFER = 34963
POINTS = 0
LINES = 1
ALIGNMENT = 4
GLB_MAGIC = 0x46546C67
GLB_VERSION = 2
JSON_CHUNK = 0x4E4F534A
BIN_CHUNK = 0x004E4942
GLB_HEADER = struct.Struct("<III")
CHUNK_HEADER = struct.Struct("<II")
# Accessor counts and offsets are 32-bit in practice (index type UNSIGNED_INT).
MAX_VERTICES = 2**32 - 1
COMPONENTS = {"SCALAR": 1, "VEC3": 3}


class _Builder:
    """Collects binary views and accessors into one buffer."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.length = 0
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def add(self, array: npt.NDArray[Any], kind: str, *, target: int, bounds: bool = False) -> int:
        """Add ``array`` ((n,) or (n, 3)) as a view and an accessor; returns the accessor's index."""
        data = np.ascontiguousarray(array, dtype="<u4" if target == ELEMENT_ARRAY_BUFFER else "<f4")
        blob = data.tobytes()
        self.views.append({"buffer": 0, "byteOffset": self.length, "byteLength": len(blob), "target": target})
        pad = -len(blob) % ALIGNMENT
        self.chunks += [blob, b"\0" * pad]
        self.length += len(blob) + pad
        accessor: dict[str, Any] = {
            "bufferView": len(self.views) - 1,
            "componentType": UNSIGNED_INT if target == ELEMENT_ARRAY_BUFFER else FLOAT,
            "count": int(data.shape[0]),
            "type": kind,
        }
        if bounds:
            shaped = data.reshape(data.shape[0], COMPONENTS[kind])
            accessor["min"] = shaped.min(axis=0).astype(float).tolist()
            accessor["max"] = shaped.max(axis=0).astype(float).tolist()
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def attributes(
        self, position: npt.NDArray[np.float32], importance: npt.NDArray[np.float32], shares: npt.NDArray[Any]
    ) -> dict[str, int]:
        grey = np.repeat((1.0 - importance)[:, None], 3, axis=1)
        attributes = {
            "POSITION": self.add(position, "VEC3", target=ARRAY_BUFFER, bounds=True),
            "COLOR_0": self.add(grey, "VEC3", target=ARRAY_BUFFER),
            "_IMPORTANCE": self.add(importance, "SCALAR", target=ARRAY_BUFFER),
        }
        for k in range(shares.shape[1]):
            attributes[f"_SHARE_{k}"] = self.add(shares[:, k], "SCALAR", target=ARRAY_BUFFER)
        return attributes

    def binary(self) -> bytes:
        return b"".join(self.chunks)


def _class_shares(network: Network) -> npt.NDArray[np.float64]:
    """``(N, C)``: each class's share of a node's class importance (0 for a node without importance)."""
    importance = network.node_importance.astype(np.float64)
    total = importance.sum(axis=1, keepdims=True)
    shares: npt.NDArray[np.float64] = np.divide(importance, total, out=np.zeros_like(importance), where=total > 0)
    return shares


def _edge_geometry(
    network: Network,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Vertices, owning edge and position t in [0, 1] along it, and LINES indices of every edge's polyline."""
    if network.edge_offsets is not None and network.edge_points is not None:
        points, offsets = network.edge_points, network.edge_offsets
    else:
        points = np.stack([network.node_position[network.edge_source], network.node_position[network.edge_target]], 1)
        points = points.reshape(-1, 3)
        offsets = np.arange(network.n_edges + 1, dtype=np.int64) * 2
    counts = np.diff(offsets)
    edge = np.repeat(np.arange(network.n_edges, dtype=np.int64), counts)
    step = np.arange(points.shape[0], dtype=np.int64) - offsets[edge]
    t = step / np.maximum(counts[edge] - 1, 1)
    # A segment i → i + 1 for every point that is not the last of its edge.
    not_last = np.ones(points.shape[0], dtype=bool)
    not_last[offsets[1:][counts > 0] - 1] = False
    starts = np.flatnonzero(not_last)
    indices = np.stack([starts, starts + 1], axis=1).reshape(-1)
    return points.astype(np.float32), edge, t, indices


def gltf_document(network: Network) -> tuple[dict[str, Any], bytes]:
    """The glTF JSON (without the buffer's location) and its binary buffer."""
    shares = _class_shares(network)
    points, edge, t, indices = _edge_geometry(network)
    if points.shape[0] > MAX_VERTICES:
        raise NnscapeError(f"{points.shape[0]} edge points: more than glTF's 32-bit indices can address")
    source, target = network.edge_source[edge], network.edge_target[edge]
    edge_shares = shares[source] * (1 - t[:, None]) + shares[target] * t[:, None]
    builder = _Builder()
    node_attributes = builder.attributes(network.node_position, node_scores(network), shares)
    edge_attributes = builder.attributes(points, network.edge_importance[edge], edge_shares)
    index_accessor = builder.add(indices, "SCALAR", target=ELEMENT_ARRAY_BUFFER)
    binary = builder.binary()
    document: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": f"nnscape {__version__}"},
        "extras": {
            "class_names": list(network.class_names),
            "layer_sizes": network.layer_sizes.tolist(),
            "kind": network.kind,
        },
        "scene": 0,
        "scenes": [{"nodes": [0, 1]}],
        "nodes": [{"name": "nodes", "mesh": 0}, {"name": "edges", "mesh": 1}],
        "meshes": [
            {"name": "nodes", "primitives": [{"attributes": node_attributes, "mode": POINTS}]},
            {
                "name": "edges",
                "primitives": [{"attributes": edge_attributes, "indices": index_accessor, "mode": LINES}],
            },
        ],
        "accessors": builder.accessors,
        "bufferViews": builder.views,
        "buffers": [{"byteLength": len(binary)}],
    }
    return document, binary


def _glb(document: dict[str, Any], binary: bytes) -> bytes:
    text = json.dumps(document, separators=(",", ":")).encode()
    text += b" " * (-len(text) % ALIGNMENT)
    binary += b"\0" * (-len(binary) % ALIGNMENT)
    total = GLB_HEADER.size + 2 * CHUNK_HEADER.size + len(text) + len(binary)
    return b"".join([
        GLB_HEADER.pack(GLB_MAGIC, GLB_VERSION, total),
        CHUNK_HEADER.pack(len(text), JSON_CHUNK), text,
        CHUNK_HEADER.pack(len(binary), BIN_CHUNK), binary,
    ])  # fmt: skip


def export_gltf(network: NetworkSource, out: str | os.PathLike[str]) -> Path:
    """Write ``out`` as binary glTF (``.glb``) or JSON glTF with the buffer embedded (``.gltf``); atomic."""
    path = Path(out)
    _, _, checked = network_file(network)
    document, binary = gltf_document(checked)
    if path.suffix.lower() == ".gltf":
        uri = "data:application/octet-stream;base64," + base64.b64encode(binary).decode("ascii")
        document["buffers"][0]["uri"] = uri
        data = json.dumps(document, separators=(",", ":")).encode()
    else:
        data = _glb(document, binary)
    atomic_write_bytes(path, data)
    return path
