"""The whole processing pipeline: class-aware layout → prune → node phase → straight edges → edge phase → resample."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import torch

from nnscape.config import ProcessingConfig
from nnscape.errors import ConfigError
from nnscape.layout import class_layout, layer_z
from nnscape.network import Network
from nnscape.processing.edges import bundle_edges
from nnscape.processing.nodes import bundle_nodes
from nnscape.processing.prune import prune_mask
from nnscape.processing.quality import quality
from nnscape.progress import ProgressCallback

__all__ = ["process"]


def process(
    network: Network,
    config: ProcessingConfig | None = None,
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Network:
    """Lay out, prune and bundle ``network``; returns a new ``kind="processed"`` network.

    The input may be plain or already processed: either way the layout starts afresh from the class-aware
    grid (:func:`~nnscape.layout.class_layout`) and its importance, and existing polylines are ignored (never
    resampled or collapsed). Pruned edges are absent
    from the result. ``seed`` drives the only random choice (the edge pairs the class-separation figure of
    :func:`~nnscape.processing.quality.quality` compares); the same input and seed give identical arrays on
    one device. Progress comes as phase ``"nodes"`` then ``"edges"``, one event per iteration with the
    bandwidth; ``cancel`` is checked every iteration and raises :class:`~nnscape.errors.Cancelled`.

    Metadata added: ``processing_config`` (JSON of ``config.to_dict()``), ``pruned_edges``,
    ``processing_seconds`` and ``quality`` (JSON of :func:`~nnscape.processing.quality.quality`).
    """
    started = time.perf_counter()
    config = config or ProcessingConfig()
    network.validate()
    target = _device(device)
    sizes = network.layer_sizes.tolist()

    keep = prune_mask(network, config.prune_percentage)
    source_np = network.edge_source[keep]
    target_np = network.edge_target[keep]
    importance = torch.from_numpy(network.node_importance).to(target)
    layout = class_layout(
        sizes, network.node_importance, layer_width=config.layer_width, layer_distance=config.layer_distance
    )
    nodes = bundle_nodes(torch.from_numpy(layout).to(target), importance, config, progress=progress, cancel=cancel)

    source = torch.from_numpy(source_np.astype(np.int64)).to(target)
    edge_target = torch.from_numpy(target_np.astype(np.int64)).to(target)
    edge_importance = torch.from_numpy(network.edge_importance[keep]).to(target)
    first = network.edge_layer[keep]
    layers = (torch.from_numpy(first).to(target), torch.from_numpy(first + network.edge_span[keep]).to(target))
    zs = torch.from_numpy(layer_z(len(sizes), layer_distance=config.layer_distance)).to(target)
    lines = bundle_edges(
        nodes,
        importance,
        (source, edge_target, edge_importance),
        layers,
        zs,
        config,
        progress=progress,
        cancel=cancel,
    )

    result = network.with_changes(
        node_position=nodes.cpu().numpy(),
        edge_source=source_np,
        edge_target=target_np,
        edge_weight=network.edge_weight[keep],
        edge_importance=network.edge_importance[keep],
        edge_offsets=lines.offsets.cpu().numpy(),
        edge_points=lines.points.cpu().numpy(),
        metadata={
            **network.metadata,
            "processing_config": json.dumps(config.to_dict()),
            "pruned_edges": str(int((~keep).sum())),
        },
    )
    figures = quality(result, layer_width=config.layer_width, seed=seed)
    metadata = {
        **result.metadata,
        "processing_seconds": f"{time.perf_counter() - started:.3f}",
        "quality": json.dumps(figures),
    }
    return result.with_changes(metadata=metadata)


def _device(device: str | torch.device | None) -> torch.device:
    """The torch device to run on (default CPU); a ConfigError for a name torch does not know or cannot use."""
    if device is None:
        return torch.device("cpu")
    try:
        target = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"device {device!r}: not a torch device; expected e.g. cpu or cuda") from exc
    if target.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r}: CUDA is not available here; use cpu")
    return target
