"""``nnscape export --out OUT.csv`` / ``OUT.json``: importance as tables, and a per-layer summary for Google's
Model Explorer.

- ``edges``: one row per edge (index, source, target, layer gap, weight, importance, pruning score).
- ``nodes``: one row per node (index, layer, index in layer, position, overall score, one column per class).
- ``layers``: one row per gap between layers, i.e. per Linear layer of the model (edges, mean and max edge
  importance, mean importance of its output nodes).
- Model Explorer node data (JSON): the per-layer mean edge importance keyed by the node names that
  ``torch.export`` gives a chain of Linear layers (``linear``, ``linear_1``, …), with a white-to-red gradient;
  load it in Model Explorer's side panel over the model's ``.pt2`` file.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from nnscape.export.payload import NetworkSource, network_file
from nnscape.io import atomic_write_bytes
from nnscape.network import Network

__all__ = [
    "TABLES",
    "Table",
    "export_table",
    "layer_rows",
    "model_explorer_node_data",
    "node_rows",
    "node_scores",
    "table_csv",
]

Table = Literal["edges", "nodes", "layers"]
TABLES: tuple[Table, ...] = ("edges", "nodes", "layers")
# torch.export names the k-th call of aten.linear "linear", then "linear_1", "linear_2", …
LINEAR_NODE = "linear"
# Model Explorer colours nodes along this gradient from the lowest value (stop 0) to the highest (stop 1).
GRADIENT = ({"stop": 0, "bgColor": "#ffffff"}, {"stop": 1, "bgColor": "#d62728"})
DIGITS = 6


def node_scores(network: Network) -> npt.NDArray[np.float32]:
    """``(N,) float32``: each node's importance as one score in [0, 1], the Euclidean norm of its class vector
    clipped at 1 (the viewer's node score)."""
    norms = np.linalg.norm(network.node_importance.astype(np.float64), axis=1)
    scores: npt.NDArray[np.float32] = np.minimum(1.0, norms).astype(np.float32)
    return scores


def _round(values: npt.ArrayLike) -> list[float]:
    return [round(float(v), DIGITS) for v in np.asarray(values).ravel()]


def edge_rows(network: Network) -> tuple[list[str], list[list[Any]]]:
    """Header and one row per edge."""
    header = ["edge", "source", "target", "layer", "weight", "importance", "pruning_score"]
    columns = [
        range(network.n_edges),
        network.edge_source.tolist(),
        network.edge_target.tolist(),
        network.edge_layer.tolist(),
        _round(network.edge_weight),
        _round(network.edge_importance),
        _round(network.pruning_scores()),
    ]
    return header, [list(row) for row in zip(*columns, strict=True)]


def node_rows(network: Network) -> tuple[list[str], list[list[Any]]]:
    """Header and one row per node; one importance column per class, named after it."""
    layer = network.node_layer
    index_in_layer = np.arange(network.n_nodes) - network.layer_starts[layer]
    header = ["node", "layer", "index_in_layer", "x", "y", "z", "importance"]
    header += [f"importance_{name}" for name in network.class_names]
    position = network.node_position.astype(np.float64).round(DIGITS).tolist()
    importance = network.node_importance.astype(np.float64).round(DIGITS).tolist()
    scores = _round(node_scores(network))
    rows = [
        [n, int(layer[n]), int(index_in_layer[n]), *position[n], scores[n], *importance[n]]
        for n in range(network.n_nodes)
    ]
    return header, rows


def layer_rows(network: Network) -> tuple[list[str], list[list[Any]]]:
    """Header and one row per gap between layers (one Linear layer of the model)."""
    header = ["layer", "model_node", "inputs", "outputs", "edges", "mean_edge_importance",
              "max_edge_importance", "mean_output_node_importance"]  # fmt: skip
    gaps = network.edge_layer
    scores = node_scores(network)
    starts = network.layer_starts
    rows = []
    for gap in range(network.n_layers - 1):
        importance = network.edge_importance[gaps == gap]
        outputs = scores[starts[gap + 1] : starts[gap + 2]]
        rows.append([
            gap,
            _model_node(gap),
            int(network.layer_sizes[gap]),
            int(network.layer_sizes[gap + 1]),
            int(importance.size),
            round(float(importance.mean()), DIGITS) if importance.size else 0.0,
            round(float(importance.max()), DIGITS) if importance.size else 0.0,
            round(float(outputs.mean()), DIGITS),
        ])  # fmt: skip
    return header, rows


def _model_node(gap: int) -> str:
    return LINEAR_NODE if gap == 0 else f"{LINEAR_NODE}_{gap}"


def table_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue()


def model_explorer_node_data(network: Network) -> dict[str, Any]:
    """Model Explorer's node data for one graph: ``{"results": {node: {"value": v}}, "gradient": [...]}``,
    ``v`` the mean edge importance of each Linear layer."""
    header, rows = layer_rows(network)
    node, value = header.index("model_node"), header.index("mean_edge_importance")
    return {"results": {row[node]: {"value": row[value]} for row in rows}, "gradient": list(GRADIENT)}


def export_table(network: NetworkSource, out: str | os.PathLike[str], *, table: Table = "edges") -> Path:
    """Write ``out``: a CSV of ``table`` (``edges``, ``nodes`` or ``layers``), or for ``.json`` Model
    Explorer's node data (``table`` ignored). Atomic; returns the path."""
    path = Path(out)
    _, _, checked = network_file(network)
    if path.suffix.lower() == ".json":
        text = json.dumps(model_explorer_node_data(checked), indent=2) + "\n"
    else:
        rows = {"edges": edge_rows, "nodes": node_rows, "layers": layer_rows}[table]
        text = table_csv(*rows(checked))
    atomic_write_bytes(path, text.encode("utf-8"))
    return path
