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
from nnscape.datasets import as_tensors, check_fits
from nnscape.errors import ConfigError, DataError, ModelError
from nnscape.importance import activation, bn_gamma, taylor
from nnscape.importance.method import Method, MethodResult
from nnscape.intake import mlp_chain
from nnscape.network import Network
from nnscape.progress import ProgressCallback

__all__ = ["METHODS", "Method", "MethodResult", "edge_importance", "importance", "method_settings"]

METHODS: dict[str, Method] = {
    bn_gamma.NAME: bn_gamma.node_importance,
    activation.NAME: activation.node_importance,
    taylor.NAME: taylor.node_importance,
}
MIN_CLASSES, MAX_CLASSES = 2, 100
_COMMON = frozenset({"chain", "x", "y", "seed", "device", "progress", "cancel"})  # passed to every method


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
    """Per-class node importance and edge importance of an MLP, as a :class:`Network` of kind "network".

    ``model`` is read by :func:`nnscape.intake.mlp_chain` and never modified; its last Linear gives the C class
    logits. ``data`` is anything :func:`nnscape.datasets.as_tensors` takes (training split of
    :class:`~nnscape.datasets.DatasetSplits`, ``(x, y)``, Dataset, DataLoader). ``method`` names an entry of
    :data:`METHODS`; ``options`` are its settings (batchnorm-gamma: ``epochs=20, penalty="l1", strength=0.01,
    batch_size=128, lr=1e-3``). Class names come from ``class_names``, else the data, else "0".."C-1".
    ``device`` defaults to CUDA when available. The same inputs and ``seed`` give the same result on one
    device. Progress events come from the method; it stops with :class:`~nnscape.errors.Cancelled` when
    ``cancel`` is set.

    Node importance ``(N, C) float32``: the method's values divided by each layer's maximum; output layer
    one-hot. Edge importance ``(E,) float32``: |w| / max |W_l| per layer. Edge weights: the model's (BN-folded)
    weights, edges in :func:`nnscape.network.dense_edges` order.
    """
    settings = method_settings(method)
    for name in options:
        if name not in settings:
            raise ConfigError(f"{name}: not a setting of the {method} method (it has {', '.join(settings) or 'none'})")
    run = METHODS[method]
    chain = mlp_chain(model)
    sizes = chain.layer_sizes
    n_classes = sizes[-1]
    if not MIN_CLASSES <= n_classes <= MAX_CLASSES:
        raise ModelError(f"the model has {n_classes} outputs; nnscape handles {MIN_CLASSES} to {MAX_CLASSES} classes")
    x, y, data_names = as_tensors(data)
    check_fits(x, y, n_inputs=sizes[0], n_classes=n_classes)
    names = tuple(class_names) if class_names is not None else data_names or tuple(map(str, range(n_classes)))
    if len(names) != n_classes:
        raise DataError(f"class_names: {len(names)} names but the model has {n_classes} outputs")
    counts = torch.bincount(y, minlength=n_classes)
    if (counts == 0).any():
        missing = int(torch.nonzero(counts == 0)[0])
        raise DataError(f"data: class {missing} ({names[missing]!r}) has no training examples")

    target = torch.device(device) if device is not None else _default_device()
    started = time.perf_counter()
    result = run(chain, x, y, seed=seed, device=target, progress=progress, cancel=cancel, **options)
    seconds = time.perf_counter() - started

    weights = [w.numpy() for w in chain.weights]
    config = {"method": method, **result.options, "seed": seed, "device": target.type}
    return layered_network(
        sizes,
        inner_importance=np.concatenate([_scaled(layer) for layer in result.layers]),
        edge_weight=np.concatenate([w.T.ravel() for w in weights]),
        edge_importance=edge_importance(weights),
        class_names=names,
        metadata={
            "source": json.dumps(
                {"model": type(model).__name__, "layers": sizes, "linear_layers": list(chain.names),
                 "training_examples": int(x.shape[0])}
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


def edge_importance(weights: Sequence[npt.NDArray[np.floating[Any]]]) -> npt.NDArray[np.float32]:
    """``(E,) float32``: ``|w| / max|W_l|`` per layer, edges source-major (``W_l.T.ravel()``) as in dense_edges.

    ``weights[l]`` is the ``(n_{l+1}, n_l)`` weight matrix of gap ``l``; an all-zero layer gets zeros.
    """
    parts = []
    for weight in weights:
        magnitude = np.abs(np.asarray(weight, np.float32)).T.ravel()
        peak = float(magnitude.max()) if magnitude.size else 0.0
        parts.append(magnitude / peak if peak > 0 else magnitude)
    return np.concatenate(parts).astype(np.float32)


def _scaled(values: torch.Tensor) -> npt.NDArray[np.float32]:
    """``(n, C)`` values divided by their maximum (left as is when all zero), as float32 numpy."""
    array = values.detach().cpu().numpy().astype(np.float32)
    peak = float(array.max()) if array.size else 0.0
    return array / peak if peak > 0 else array


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
