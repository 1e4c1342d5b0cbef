"""Per-class importance of a model's nodes and edges, as a Network of kind "network" (docs/importance.md).

Methods live in this package behind a small registry, :data:`METHODS`: a method turns the model's chain and the
training data into per-class node importance; this front end reads the model and the data, checks that they
fit, scales each layer, adds the one-hot output layer and the edge importance, and builds the Network. The
thesis's method, batch-norm fine-tuning ("batchnorm-gamma", :mod:`nnscape.importance.bn_gamma`), is the default;
"activation" (:mod:`~nnscape.importance.activation`, |w| × activation spread) and "taylor"
(:mod:`~nnscape.importance.taylor`, first-order Taylor) need one pass over the data and no training.
"""

from __future__ import annotations

import inspect
import json
import sys
import threading
import time
import types
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from nnscape.builder import layered_network
from nnscape.datasets import DatasetSplits, as_tensors, check_fits
from nnscape.errors import ConfigError, DataError, ModelError
from nnscape.importance import activation, bn_gamma, taylor
from nnscape.importance.method import Method, MethodResult
from nnscape.intake import LayerChain, layer_chain
from nnscape.limits import MAX_EXPLAINED_CLASSES
from nnscape.network import MAX_LAYER_NAME_LENGTH, Network
from nnscape.progress import ProgressCallback

__all__ = ["METHODS", "Method", "MethodResult", "channel_edges", "edge_importance", "importance", "method_settings"]

METHODS: dict[str, Method] = {
    bn_gamma.NAME: bn_gamma.node_importance,
    activation.NAME: activation.node_importance,
    taylor.NAME: taylor.node_importance,
}
_COMMON = frozenset({"chain", "x", "y", "seed", "device", "progress", "cancel"})  # passed to every method
# An error naming classes without examples lists this many of them.
MAX_SHOWN_CLASSES = 10


def importance(
    model: nn.Module,
    data: object,
    *,
    method: str = bn_gamma.NAME,
    seed: int = 0,
    device: str | torch.device | None = None,
    class_names: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    **options: Any,
) -> Network:
    """Per-class node importance and edge importance of a model, as a :class:`Network` of kind "network".

    ``model`` is read by :func:`nnscape.intake.layer_chain` and never modified (channels are the nodes of a
    convolutional model); its last Linear gives the C class logits. ``data`` is anything
    :func:`nnscape.datasets.as_tensors` takes (training split of
    :class:`~nnscape.datasets.DatasetSplits`, ``(x, y)``, Dataset, DataLoader). ``method`` names an entry of
    :data:`METHODS`; ``options`` are its settings (batchnorm-gamma: ``epochs=20, penalty="l1", strength=0.01,
    batch_size=128, lr=1e-3, batch_norm="insert", precision="auto"``; ``batch_norm="existing"`` fine-tunes a
    conv net's own BN γ instead). Class names come from ``class_names``, else the data, else "0".."C-1".
    ``device`` defaults to CUDA when available. The same inputs and ``seed`` give the same result on one
    device. Progress events come from the method; it stops with :class:`~nnscape.errors.Cancelled` when
    ``cancel`` is set.

    Node importance ``(N, C) float32``: the method's values divided by each layer's maximum; output layer
    one-hot. Edges, their weights (the model's, BN-folded) and importance (|w| / max |W_l| per layer): see
    :func:`channel_edges`.
    """
    settings = method_settings(method)
    for name in options:
        if name not in settings:
            raise ConfigError(f"{name}: not a setting of the {method} method (it has {', '.join(settings) or 'none'})")
    run = METHODS[method]
    chain = layer_chain(model)
    sizes = chain.layer_sizes
    n_classes = sizes[-1]
    if not 2 <= n_classes <= MAX_EXPLAINED_CLASSES:
        raise ModelError(f"the model has {n_classes} outputs; nnscape handles 2 to {MAX_EXPLAINED_CLASSES} classes")
    x, y, data_names = as_tensors(data)
    source_name = data.name if isinstance(data, DatasetSplits) and data.name else "data"
    check_fits(x, y, n_inputs=sizes[0] if chain.is_mlp else None, n_classes=n_classes, name=source_name)
    _check_shape(chain, x)
    missing = torch.nonzero(torch.bincount(y, minlength=n_classes) == 0).flatten().tolist()
    if missing:
        shown = ", ".join(map(str, missing[:MAX_SHOWN_CLASSES])) + (", …" if len(missing) > MAX_SHOWN_CLASSES else "")
        raise DataError(
            f"{source_name}: no training examples of class{'es' if len(missing) > 1 else ''} {shown} "
            f"(the model has {n_classes} outputs; every class needs examples)"
        )
    names = tuple(class_names) if class_names is not None else data_names or tuple(map(str, range(n_classes)))
    if len(names) != n_classes:
        raise DataError(f"class_names: {len(names)} names but the model has {n_classes} outputs")

    target_device = torch.device(device) if device is not None else _default_device()
    started = time.perf_counter()
    result = run(chain, x, y, seed=seed, device=target_device, progress=progress, cancel=cancel, **options)
    seconds = time.perf_counter() - started

    source, target, weight, magnitude = channel_edges(chain)
    config = {"method": method, **result.options, "seed": seed, "device": target_device.type}
    return layered_network(
        sizes,
        inner_importance=np.concatenate([_scaled(layer) for layer in result.layers]),
        edges=(source, target),
        edge_weight=weight,
        edge_importance=magnitude,
        class_names=names,
        layer_names=("input", *(name[:MAX_LAYER_NAME_LENGTH] or "layer" for name in chain.names)),
        layer_kinds=_layer_kinds(chain),
        metadata={
            "source": json.dumps(
                {"model": type(model).__name__, "layers": sizes, "training_examples": int(x.shape[0])}
            ),
            "importance_config": json.dumps(config),
            "importance_seconds": f"{seconds:.3f}",
        },
    )  # fmt: skip


def method_settings(method: str) -> dict[str, Any]:
    """The settings of a registered method with their defaults (its keyword parameters beyond the common ones)."""
    run = METHODS.get(method)
    if run is None:
        raise ConfigError(f"method {method!r}: expected one of {', '.join(METHODS)}")
    parameters = inspect.signature(run).parameters.values()
    return {p.name: p.default for p in parameters if p.name not in _COMMON}


def channel_edges(chain: LayerChain) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.float32],
                                              npt.NDArray[np.float32]]:  # fmt: skip
    """Edges between the channels of consecutive layers: global source, target, weight and importance ``(E,)``.

    An edge runs from input channel i to output channel o of a layer wherever the weight connects them (every
    pair for a Linear, i in o's group for a grouped convolution), source-major per gap as
    :func:`nnscape.network.dense_edges` orders a dense gap. It aggregates the positions the weight spans for
    that pair — the kernel ``W[o, i]`` of a convolution, the flattened positions of channel i for a bridge
    Linear, one weight for a plain Linear — as the *sum* of the weights (the signed gain of a constant input)
    and the *L1 norm* (the total weight, |w| for one weight); the importance is the L1 norm over the gap's
    largest. A residual shortcut adds edges from the channels where it leaves to the channels where it joins,
    crossing the layers between: channel c → channel c with weight 1 for the identity, every pair for a
    projection (aggregated like a convolution); each residual shortcut is normalised by its own largest. A
    concatenation's shortcut is a slice of the layer reading it, so it shares that layer's largest.
    """
    starts = np.concatenate([[0], np.cumsum(chain.layer_sizes)])
    parts: list[tuple[npt.NDArray[np.int64], ...]] = []
    magnitudes = []
    scales = list(range(len(chain.weights)))  # the parts normalised together: a layer and its concat slices
    for layer, weight in enumerate(chain.weights):
        conv = chain.convs[layer]
        groups = 1 if conv is None else conv.groups
        n_in, n_out = chain.channels[layer], int(weight.shape[0])
        per_group, out_per_group = n_in // groups, n_out // groups
        spans = weight.detach().double().reshape(n_out, per_group, chain.positions(layer))
        output = np.repeat(np.arange(n_out), per_group)
        source = (output // out_per_group) * per_group + np.tile(np.arange(per_group), n_out)
        order = np.lexsort((output, source))  # source-major, then target
        parts.append((source[order] + starts[layer], output[order] + starts[layer + 1],
                      spans.sum(dim=2).flatten().numpy()[order]))  # fmt: skip
        magnitudes.append(spans.abs().sum(dim=2).flatten().numpy()[order])
    for skip in chain.skips:
        n_in = chain.channels[skip.source]
        if skip.weight is None:  # the identity: channel c → channel c, weight 1
            source = output = np.arange(n_in)
            spans = torch.ones(n_in, 1, dtype=torch.float64)
        else:  # a projection: every pair, aggregated like a convolution's kernel
            n_out = int(skip.weight.shape[0])
            spans = skip.weight.detach().double().reshape(n_out * n_in, -1)
            output, source = np.repeat(np.arange(n_out), n_in), np.tile(np.arange(n_in), n_out)
        order = np.lexsort((output, source))
        parts.append((source[order] + starts[skip.source], output[order] + starts[skip.target],
                      spans.sum(dim=1).numpy()[order]))  # fmt: skip
        magnitudes.append(spans.abs().sum(dim=1).numpy()[order])
        scales.append(skip.target - 1 if skip.merge == "concat" else len(scales))
    source, target, weight_sum = (np.concatenate(column) for column in zip(*parts, strict=True))
    return (source.astype(np.int32), target.astype(np.int32), weight_sum.astype(np.float32),
            _per_gap_maximum(magnitudes, scales))  # fmt: skip


def edge_importance(weights: Sequence[npt.NDArray[np.floating[Any]]]) -> npt.NDArray[np.float32]:
    """``(E,) float32``: ``|w| / max|W_l|`` per layer, edges source-major (``W_l.T.ravel()``) as in dense_edges.

    ``weights[l]`` is the ``(n_{l+1}, n_l)`` weight matrix of gap ``l``; an all-zero layer gets zeros.
    """
    return _per_gap_maximum([np.abs(np.asarray(weight, np.float64)).T.ravel() for weight in weights])


def _per_gap_maximum(
    magnitudes: Sequence[npt.NDArray[np.floating[Any]]], groups: Sequence[int] | None = None
) -> npt.NDArray[np.float32]:
    """Each gap's magnitudes divided by the largest of its group (by default each gap alone; an all-zero group
    stays 0), concatenated."""
    groups = range(len(magnitudes)) if groups is None else groups
    peaks: dict[int, float] = {}
    for group, magnitude in zip(groups, magnitudes, strict=True):
        peaks[group] = max(peaks.get(group, 0.0), float(magnitude.max()) if magnitude.size else 0.0)
    parts = [m / peaks[g] if peaks[g] > 0 else m for g, m in zip(groups, magnitudes, strict=True)]
    return np.concatenate(parts).astype(np.float32)


def _scaled(values: torch.Tensor) -> npt.NDArray[np.float32]:
    """``(n, C)`` values divided by their maximum (left as is when all zero), as float32 numpy."""
    array = values.detach().cpu().numpy().astype(np.float32)
    peak = float(array.max()) if array.size else 0.0
    return array / peak if peak > 0 else array


def _layer_kinds(chain: LayerChain) -> tuple[str, ...]:
    """``input``, then per layer ``linear`` or ``conv``, or ``add`` / ``concat`` where a shortcut joins."""
    joined = {skip.target: skip.merge for skip in chain.skips}
    kinds = [joined.get(layer + 1, "linear" if conv is None else "conv") for layer, conv in enumerate(chain.convs)]
    return ("input", *kinds)


def _check_shape(chain: LayerChain, x: torch.Tensor) -> None:
    """Run two examples through the chain: the data's shape must fit every layer (a conv net needs images)."""
    try:
        with torch.no_grad():
            chain.logits(x[:2])
    except RuntimeError as exc:
        raise DataError(
            f"data: examples of shape {tuple(x.shape[1:])} do not fit the model ({str(exc).splitlines()[0]})"
        ) from exc


def _default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class _CallablePackage(types.ModuleType):
    """``nnscape.importance`` names both this package and :func:`importance`.

    Importing the package makes it the attribute ``importance`` of ``nnscape``, hiding the function, so the
    package itself calls through: ``nnscape.importance(model, data)`` works before and after the import.
    """

    def __call__(self, model: nn.Module, data: object, **settings: Any) -> Network:
        return importance(model, data, **settings)


sys.modules[__name__].__class__ = _CallablePackage
