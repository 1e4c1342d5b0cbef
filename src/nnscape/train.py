"""Example models: MLPs trained on a data set, untrained, plain or with an L1 penalty on the weights.

The three variants are what the landscape tells apart: an untrained network looks like a diffuse cloud, a
trained one forms bundles, an L1-regularised one narrow bundles with most weights near zero. Training is
Adam (lr 1e-3), batch 128, cross-entropy, seeded: the same data and seed give the same weights on one machine.

Checkpoints (:func:`save_checkpoint`) are a plain dict readable with ``torch.load(weights_only=True)``:
``format``, ``version``, ``layer_sizes`` (list of int), ``activation`` (str), ``state_dict``, ``class_names``,
``variant``, ``train_accuracy``/``test_accuracy`` (float, NaN when there was no test data), ``data`` (str).
:func:`nnscape.intake.load_model` rebuilds the model from it.
"""

from __future__ import annotations

import io
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from nnscape.datasets import DatasetSplits
from nnscape.errors import ConfigError
from nnscape.files import atomic_write_bytes
from nnscape.intake import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, build_mlp
from nnscape.limits import MAX_LAYERS, check_layer_sizes, check_seed
from nnscape.progress import ProgressCallback, check_cancelled, report

__all__ = ["VARIANTS", "TrainedModel", "accuracy", "fit_classifier", "save_checkpoint", "train_mlp"]

Variant = Literal["untrained", "basic", "l1"]
VARIANTS: tuple[Variant, ...] = ("untrained", "basic", "l1")
ACTIVATION = "relu"
PHASE = "train"
_EVAL_BATCH = 8192


@dataclass(frozen=True)
class TrainedModel:
    """A model from :func:`train_mlp` with its accuracies (fractions in [0, 1]; NaN without test data)."""

    model: nn.Sequential
    layer_sizes: tuple[int, ...]
    variant: Variant
    train_accuracy: float
    test_accuracy: float
    class_names: tuple[str, ...]
    data: str = ""
    activation: str = ACTIVATION


def train_mlp(
    splits: DatasetSplits,
    *,
    hidden: Sequence[int] = (81, 49),
    variant: Variant = "basic",
    l1: float = 0.001,
    epochs: int = 15,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> TrainedModel:
    """Train ``features → hidden… → classes`` ReLU MLP on ``splits`` (or just initialise it: ``untrained``).

    ``l1`` is the weight of ``Σ|w|`` over every Linear weight matrix (not the biases), used by ``variant="l1"``.
    Reports one progress event per epoch with the mean training loss and the training accuracy of the epoch.
    """
    if variant not in VARIANTS:
        raise ConfigError(f"variant: expected one of {', '.join(VARIANTS)}, got {variant!r}")
    if not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"epochs: expected a whole number >= 1, got {epochs!r}")
    if not math.isfinite(l1) or l1 < 0:
        raise ConfigError(f"l1: expected a number >= 0, got {l1!r}")
    if not math.isfinite(lr) or lr <= 0:
        raise ConfigError(f"lr: expected a number > 0, got {lr!r}")
    if len(hidden) > MAX_LAYERS:
        raise ConfigError(f"hidden: {len(hidden)} layers; at most {MAX_LAYERS} are allowed")
    sizes = (splits.n_features, *(int(n) for n in hidden), splits.n_classes)
    if min(sizes) < 1:
        raise ConfigError(f"hidden: layer sizes must be at least 1, got {list(hidden)}")
    check_layer_sizes(sizes, splits.n_classes, what="hidden")  # before torch allocates the weights
    check_seed(seed)
    torch.manual_seed(seed)  # PyTorch's initialisers draw from the global generator
    model = build_mlp(sizes, ACTIVATION)
    if variant != "untrained":
        # An MLP takes an image's pixels as features.
        fit_classifier(model, splits.train_x.flatten(1), splits.train_y, epochs=epochs, batch_size=batch_size,
                       lr=lr, l1=l1 if variant == "l1" else 0.0, generator=torch.Generator().manual_seed(seed),
                       progress=progress, cancel=cancel)  # fmt: skip
    return TrainedModel(
        model=model,
        layer_sizes=sizes,
        variant=variant,
        train_accuracy=accuracy(model, splits.train_x.flatten(1), splits.train_y),
        test_accuracy=accuracy(model, splits.test_x.flatten(1), splits.test_y),
        class_names=splits.class_names,
        data=splits.name,
    )


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of inputs ``x`` (in the shape ``model`` takes, ``(n, features)`` for an MLP) whose arg-max logit
    is the ``(n,)`` label; NaN when ``n == 0``."""
    if y.numel() == 0:
        return math.nan
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            correct = sum(
                int((model(x[i : i + _EVAL_BATCH]).argmax(1) == y[i : i + _EVAL_BATCH]).sum())
                for i in range(0, x.shape[0], _EVAL_BATCH)
            )
    finally:
        model.train(was_training)
    return correct / y.numel()


def save_checkpoint(path: str | os.PathLike[str], trained: TrainedModel) -> None:
    """Write ``trained`` atomically as a ``weights_only``-loadable checkpoint (see the module docstring)."""
    content = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "layer_sizes": list(trained.layer_sizes),
        "activation": trained.activation,
        "state_dict": {key: value.detach().cpu() for key, value in trained.model.state_dict().items()},
        "class_names": list(trained.class_names),
        "variant": trained.variant,
        "train_accuracy": float(trained.train_accuracy),
        "test_accuracy": float(trained.test_accuracy),
        "data": trained.data,
    }
    buffer = io.BytesIO()
    torch.save(content, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def fit_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    l1: float = 0.0,
    generator: torch.Generator | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Train ``model`` with Adam on cross-entropy over shuffled mini-batches of ``x`` (in the shape the model
    takes) and labels ``y`` ``(n,)``; the model is left in eval mode.

    ``l1`` weighs ``Σ|w|`` over every Linear weight matrix; ``generator`` draws the batch order (torch's global
    generator if None). Reports one progress event per epoch with the mean training loss and accuracy.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    weights = [module.weight for module in model.modules() if isinstance(module, nn.Linear)]
    n = x.shape[0]
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator)
        total_loss = torch.zeros(())
        correct = torch.zeros((), dtype=torch.long)
        for start in range(0, n, batch_size):
            check_cancelled(cancel)
            batch = order[start : start + batch_size]
            logits = model(x[batch])
            loss = F.cross_entropy(logits, y[batch])
            if l1 > 0:
                loss = loss + l1 * torch.stack([w.abs().sum() for w in weights]).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            total_loss += loss.detach() * batch.shape[0]
            correct += (logits.detach().argmax(1) == y[batch]).sum()
        report(progress, PHASE, epoch + 1, epochs, loss=float(total_loss) / n, accuracy=int(correct) / n)
    model.eval()
