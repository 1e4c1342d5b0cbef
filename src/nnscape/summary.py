"""A one-object description of a network file, shared by ``nnscape info`` and the server's file list."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from nnscape.io import json_depth, load
from nnscape.network import Network

__all__ = ["describe", "summarize"]

# Metadata entries that hold JSON and are shown decoded.
_JSON_METADATA = ("source", "processing_config", "quality", "importance_config")
# Deeper JSON (from a hostile file) is shown as the raw string: decoding or re-encoding it could overflow the stack.
_MAX_METADATA_DEPTH = 32


def summarize(network: Network, *, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Kind, layers, classes, edge (pruned, skip) and sample counts, size, configs and statistics as JSON-ready
    values."""
    info: dict[str, Any] = {
        "kind": network.kind,
        "layer_sizes": network.layer_sizes.tolist(),
        "layer_names": list(network.layer_names),
        "layer_kinds": list(network.layer_kinds),
        "class_names": list(network.class_names),
        "classes": network.n_classes,
        "nodes": network.n_nodes,
        "edges": network.n_edges,
        "pruned_edges": int(network.metadata.get("pruned_edges", 0)),
        "skip_edges": int((network.edge_span > 1).sum()),  # edges that cross layers (shortcuts)
        "samples": network.n_samples,
    }
    if path is not None:
        info["name"] = Path(path).name
        info["size_bytes"] = Path(path).stat().st_size
    for key, value in network.metadata.items():
        if key in _JSON_METADATA:
            info[key] = _decoded(value)
        elif key != "pruned_edges":
            info[key] = value
    quality = info.get("quality")
    if isinstance(quality, dict):  # scripts read the headline bundling figures at the top level
        info.update({k: quality[k] for k in ("ink", "spread") if k in quality})
    return info


def _decoded(value: str) -> Any:
    """``value`` decoded as JSON when it is plain, bounded JSON (no NaN or infinity, which responses cannot hold)."""
    try:
        decoded = json.loads(value, parse_constant=_refuse)
    except (ValueError, RecursionError):
        return value
    return decoded if json_depth(decoded) <= _MAX_METADATA_DEPTH else value


def _refuse(constant: str) -> Any:
    raise ValueError(constant)


def describe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load and validate ``path`` and summarize it."""
    return summarize(load(path), path=path)
