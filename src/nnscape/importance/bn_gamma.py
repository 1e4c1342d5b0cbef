"""The thesis's method, "batchnorm-gamma": per-class node importance by batch-norm fine-tuning (docs/importance.md).

For every class k the trained network is frozen, a scale-only batch norm (γ, no β, eps 1e-3) is put over the
input of every Linear layer (the raw inputs and every hidden layer), the output is replaced by a frozen
two-way head (logit k against the sum of the other logits), and only the γ's are trained on class-k-versus-rest
data with an L1 penalty. A node that matters for class k keeps a large |γ|; the penalty pushes the others to 0.

All C classes are trained at once as one batched model: γ_l has shape ``(C, n_l)``, every step carries one
mini-batch per class, ``(C, batch, n_l)``, and the frozen weights are shared, so each layer is one large matrix
product. Since the classes' γ's are separate parameters, the summed loss and Adam (element-wise) give exactly
the updates of C separate runs.

Batch statistics. The reference trained with Keras ``BatchNormalization`` under ``fit``, which normalises with
the statistics of the current mini-batch (the moving averages only serve inference, which importance never
uses). We do the same: each class's mini-batch is normalised by its own mean and (biased) variance. This is
also what sends constant inputs to 0: they normalise to 0, so γ gets no gradient but the penalty's.

Sampling. Each epoch, class k's data is every training example of class k ("k") plus an equally large random
sample drawn without replacement from the other classes only ("rest"; with replacement when the other classes
hold fewer examples), shuffled together. Every class takes the same number of steps per epoch,
``ceil(2 · max_k n_k / batch_size)``, so smaller classes cycle through their shuffled data again; every batch is
full, which keeps the batch statistics sound.

Steps, not epochs, set how sparse the result is. Under an L1 penalty Adam moves an unneeded γ by about ``lr``
per step, so γ can fall from 1 to 0 only after about ``1 / lr`` steps. Fashion-MNIST at the defaults takes
20 × 94 = 1 880 steps (constant border pixels reach 0); scikit-learn's digits (135 images per class) takes
20 × 3 = 60 steps, and every γ stays near 1 (measured: all node importance in [0.89, 1]). For a small data set
raise ``epochs`` (digits: about 600 epochs for the same number of steps, ~3 s) or ``lr``.

A model's own batch norms (``batch_norm``). ``"insert"`` puts the scale-only batch norm above over every layer's
input, the model's batch norms staying folded into its weights. ``"existing"`` instead fine-tunes, per class,
the γ of every batch norm that directly follows a layer (layer → BN, as in conv → BN → ReLU), with the BN's
running statistics and β frozen: channel c's output becomes ``β_c + (γ'_c / γ_c)·(z_c − β_c)`` for the folded
output z, γ'_c starting at the model's γ_c (a γ of exactly 0 stays 0), and its importance is ``|γ'_c|``. Node
layers without such a batch norm (the input, a Linear head) get the inserted one.

Precision. The matrix products (nearly all the work) run in bfloat16 where the device computes it natively
(``precision="auto"``: a CUDA GPU with bfloat16, a CPU with AVX512-BF16 or AMX), with float32 accumulation;
batch norms, loss, γ and Adam stay float32. On a 2-core AVX512-BF16 CPU that takes a third off the time, and
the pruning curves on Fashion-MNIST stay within the spread of the seeds (docs/importance.md, "Speed").
"""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from functools import partial
from typing import Literal

import torch
import torch.nn.functional as F  # noqa: N812

from nnscape.errors import ConfigError
from nnscape.importance.method import MethodResult
from nnscape.intake import LayerChain
from nnscape.progress import ProgressCallback, check_cancelled, report

__all__ = [
    "BATCH_NORMS",
    "NAME",
    "PENALTIES",
    "PRECISIONS",
    "check_options",
    "class_vs_rest_batches",
    "existing_norms",
    "fine_tune_gammas",
    "matmul_precision",
    "node_importance",
    "steps_per_epoch",
]

NAME = "batchnorm-gamma"

Penalty = Literal["l1", "l2", "none"]
PENALTIES: tuple[Penalty, ...] = ("l1", "l2", "none")
BatchNorm = Literal["insert", "existing"]
BATCH_NORMS: tuple[BatchNorm, ...] = ("insert", "existing")
Precision = Literal["auto", "float32", "bfloat16"]
PRECISIONS: tuple[Precision, ...] = ("auto", "float32", "bfloat16")
BN_EPS = 1e-3  # Keras BatchNormalization's default, as in the reference
MIN_BATCH = 2  # batch statistics need two examples
PHASE = "importance"
LABEL_CLASS, LABEL_REST = 0, 1


def node_importance(
    chain: LayerChain,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    seed: int,
    device: torch.device,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    epochs: int = 20,
    penalty: Penalty = "l1",
    strength: float = 0.01,
    batch_size: int = 128,
    lr: float = 1e-3,
    batch_norm: BatchNorm = "insert",
    precision: Precision = "auto",
) -> MethodResult:
    """|γ| of every node for every class (the registry's entry; see :class:`~nnscape.importance.method.Method`)."""
    check_options(epochs=epochs, penalty=penalty, strength=strength, batch_size=batch_size, lr=lr)
    if batch_norm not in BATCH_NORMS:
        raise ConfigError(f"batch_norm: expected one of {', '.join(BATCH_NORMS)}, got {batch_norm!r}")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    products = matmul_precision(precision, device)
    gammas, final_loss = fine_tune_gammas(
        chain, x, y, epochs=epochs, penalty=penalty, strength=strength, batch_size=batch_size, lr=lr, seed=seed,
        device=device, progress=progress, cancel=cancel, batch_norm=batch_norm, precision=products,
    )  # fmt: skip
    options = {
        "epochs": epochs, "penalty": penalty, "strength": strength, "batch_size": batch_size, "lr": lr,
        "batch_norm": batch_norm, "bn_eps": BN_EPS, "precision": products, "final_loss": final_loss,
    }  # fmt: skip
    return MethodResult([gamma.abs().T for gamma in gammas], options)


def fine_tune_gammas(
    chain: LayerChain,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    penalty: Penalty,
    strength: float,
    batch_size: int,
    lr: float,
    seed: int,
    device: torch.device,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    batch_norm: BatchNorm = "insert",
    precision: Literal["float32", "bfloat16"] = "float32",
) -> tuple[list[torch.Tensor], float]:
    """Train the γ's of all classes at once; returns ``[(C, n_l) float32 CPU tensors per layer], final loss``.

    ``x`` is ``(n, *input shape) float32`` (``(n, n_0)`` for an MLP, ``(n, channels, *positions)`` for a
    convolutional chain), ``y`` ``(n,) int64`` with every class ``0..C-1`` present,
    ``C = chain.layer_sizes[-1]``. The final loss is the mean over the last epoch of the summed per-class loss.
    ``batch_norm`` says whether the model's own batch norms are fine-tuned (see the module docstring).
    ``precision`` is that of the layers' matrix products (see the module docstring).
    """
    sizes = chain.layer_sizes
    n_classes = sizes[-1]
    counts = torch.bincount(y, minlength=n_classes)
    order = torch.argsort(y, stable=True)  # example indices grouped by class
    steps = steps_per_epoch(y, n_classes=n_classes, batch_size=batch_size)
    generator = torch.Generator().manual_seed(seed)

    inputs = x.to(device)
    chain = replace(
        chain, weights=tuple(w.to(device) for w in chain.weights), biases=tuple(b.to(device) for b in chain.biases),
        pre=tuple(tuple(function.to(device) for function in functions) for functions in chain.pre),
    )  # fmt: skip
    tuned = existing_norms(chain) if batch_norm == "existing" else {}
    tuned = {layer: (gamma.to(device), beta.to(device)) for layer, (gamma, beta) in tuned.items()}
    start = [tuned[layer][0] if layer in tuned else torch.ones(n, device=device) for layer, n in enumerate(sizes[:-1])]
    gammas = [gamma.expand(n_classes, -1).clone().requires_grad_() for gamma in start]
    node_hook = partial(_scale_nodes, gammas, batch_size, frozenset(tuned))
    output_hook = partial(_tune_norms, gammas, tuned) if tuned else None
    optimizer = torch.optim.Adam(gammas, lr=lr)
    classes = torch.arange(n_classes, device=device)
    final_loss = math.nan
    for epoch in range(epochs):
        index, labels = class_vs_rest_batches(y, counts, steps * batch_size, generator, order=order)
        index, labels = index.to(device), labels.to(device)
        epoch_loss = torch.zeros((), device=device)
        for step in range(steps):
            check_cancelled(cancel)
            batch = slice(step * batch_size, (step + 1) * batch_size)
            # (B·C, …): row b·C + k holds example b of class k's own mini-batch, so every layer is one GEMM or
            # convolution over all classes. Seen as (B, C·n_l, …), the per-class batch norm is a plain
            # training-mode batch norm over C·n_l channels (one fused kernel).
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
                h = chain.logits(inputs.index_select(0, index[batch].flatten()), node_hook=node_hook,
                                 output_hook=output_hook)  # fmt: skip
            h = h.float().view(batch_size, n_classes, n_classes)
            own = h[:, classes, classes]  # (B, C): class k's logit in class k's batch
            two_way = torch.stack([own, h.sum(dim=2) - own], dim=2)
            cross_entropy = F.cross_entropy(two_way.flatten(0, 1), labels[batch].flatten(), reduction="sum")
            loss = cross_entropy / batch_size + strength * _penalty(gammas, penalty)  # Σ_k of class k's mean
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            epoch_loss += loss.detach()
        final_loss = float(epoch_loss) / steps
        report(progress, PHASE, epoch + 1, epochs, loss=final_loss / n_classes)
    return [gamma.detach().cpu() for gamma in gammas], final_loss


def existing_norms(chain: LayerChain) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """Node layer → ``(γ, β)`` ``(n_l,)`` of the model's batch norm on its channels that ``"existing"`` fine-tunes:
    one that directly follows the layer producing them (hidden node layers only)."""
    norms = chain.norms[: len(chain.layer_sizes) - 2]  # the output layer has no node importance to learn
    return {layer + 1: norm for layer, norm in enumerate(norms) if norm is not None}


def _scale_nodes(
    gammas: list[torch.Tensor], batch_size: int, tuned: frozenset[int], layer: int, h: torch.Tensor
) -> torch.Tensor:
    """The per-class batch norm with γ of node layer ``layer`` on ``h`` ``(B·C, n_l, …)``, seen as ``(B, C·n_l, …)``;
    node layers whose own batch norm is fine-tuned pass as they are."""
    if layer in tuned:
        return h
    grouped = h.reshape(batch_size, -1, *h.shape[2:])
    return F.batch_norm(grouped, None, None, gammas[layer].flatten(), None, True, 0.0, BN_EPS).view(h.shape)


def _tune_norms(
    gammas: list[torch.Tensor], tuned: dict[int, tuple[torch.Tensor, torch.Tensor]], layer: int, z: torch.Tensor
) -> torch.Tensor:
    """Layer ``layer``'s folded output ``z`` ``(B·C, n, …)`` with its batch norm's γ replaced by class k's γ' in
    row b·C + k: ``β + (γ' / γ)·(z − β)``."""
    norm = tuned.get(layer + 1)
    if norm is None:
        return z
    gamma, beta = norm
    nonzero = gamma != 0
    ratio = torch.where(nonzero, gammas[layer + 1] / torch.where(nonzero, gamma, 1.0), 0.0)  # (C, n)
    n_classes = ratio.shape[0]
    positions = (1,) * (z.ndim - 2)
    shift = beta.view(1, 1, -1, *positions)
    grouped = z.view(-1, n_classes, *z.shape[1:])
    return (shift + ratio.view(1, n_classes, -1, *positions) * (grouped - shift)).view(z.shape)


def matmul_precision(precision: Precision, device: torch.device) -> Literal["float32", "bfloat16"]:
    """The precision ``precision`` means on ``device``: "auto" is bfloat16 where the hardware computes it natively."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        native = torch.cuda.is_bf16_supported(including_emulation=False)
    elif device.type == "cpu":  # elsewhere oneDNN emulates bfloat16, slower than float32
        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    else:
        native = False
    return "bfloat16" if native else "float32"


def steps_per_epoch(y: torch.Tensor, *, n_classes: int, batch_size: int) -> int:
    """Optimizer steps per epoch for labels ``y``: the largest class and as many "rest" examples, in batches."""
    return math.ceil(2 * int(torch.bincount(y, minlength=n_classes).max()) / batch_size)


def class_vs_rest_batches(
    y: torch.Tensor,
    counts: torch.Tensor,
    span: int,
    generator: torch.Generator,
    *,
    order: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One epoch of class-k-versus-rest data for every class at once (see the module docstring).

    ``y`` is ``(n,) int64``, ``counts`` its ``(C,)`` class counts (all > 0), ``order`` optionally
    ``argsort(y, stable=True)``. Returns ``(span, C) int64`` example indices and ``(span, C)`` labels
    (0 = class k, 1 = rest): column k holds class k's shuffled examples and as many from other classes, repeated
    to fill ``span``.
    """
    order = torch.argsort(y, stable=True) if order is None else order
    total = int(order.shape[0])
    starts = torch.cumsum(counts, 0) - counts
    rows_index, rows_label = [], []
    for start, count in zip(starts.tolist(), counts.tolist(), strict=True):
        n_rest = total - count
        if n_rest >= count:
            position = torch.randperm(n_rest, generator=generator)[:count]
        else:
            position = torch.randint(n_rest, (count,), generator=generator)
        position = position + (position >= start) * count  # skip class k's block in ``order``
        members = torch.cat([order[start : start + count], order[position]])
        labels = torch.cat([torch.full((count,), LABEL_CLASS), torch.full((count,), LABEL_REST)])
        shuffle = torch.randperm(2 * count, generator=generator).repeat(math.ceil(span / (2 * count)))[:span]
        rows_index.append(members[shuffle])
        rows_label.append(labels[shuffle])
    return torch.stack(rows_index, dim=1), torch.stack(rows_label, dim=1)


def _penalty(gammas: list[torch.Tensor], penalty: Penalty) -> torch.Tensor:
    if penalty == "l1":
        return torch.stack([gamma.abs().sum() for gamma in gammas]).sum()
    if penalty == "l2":
        return torch.stack([gamma.square().sum() for gamma in gammas]).sum()
    return torch.zeros((), device=gammas[0].device)


def check_options(*, epochs: int, penalty: str, strength: float, batch_size: int, lr: float) -> None:
    if not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"epochs: expected a whole number >= 1, got {epochs!r}")
    if penalty not in PENALTIES:
        raise ConfigError(f"penalty: expected one of {', '.join(PENALTIES)}, got {penalty!r}")
    if not math.isfinite(strength) or strength < 0:
        raise ConfigError(f"strength: expected a number >= 0, got {strength!r}")
    if not isinstance(batch_size, int) or batch_size < MIN_BATCH:
        raise ConfigError(f"batch_size: expected a whole number >= {MIN_BATCH}, got {batch_size!r}")
    if not math.isfinite(lr) or lr <= 0:
        raise ConfigError(f"lr: expected a number > 0, got {lr!r}")
