"""Model factory: the MLPs nnscape trains, and their checkpoints (layer sizes stored beside the state_dict)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

from torch import nn

from nnscape.errors import ModelError

__all__ = ["ACTIVATIONS", "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "build_mlp", "model_from_checkpoint"]

CHECKPOINT_FORMAT = "nnscape-mlp"
CHECKPOINT_VERSION = 1

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "silu": nn.SiLU, "elu": nn.ELU,
}  # fmt: skip


def build_mlp(layer_sizes: Sequence[int], activation: str = "relu") -> nn.Sequential:
    """``Linear → activation → … → Linear`` for ``layer_sizes`` (input first); PyTorch's default init."""
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ModelError(f"layers: need at least an input and an output layer of at least 1 node, got {sizes}")
    activation_type = ACTIVATIONS.get(activation)
    if activation_type is None:
        raise ModelError(f"activation {activation!r}: expected one of {sorted(ACTIVATIONS)}")
    modules: list[nn.Module] = []
    for n_in, n_out in itertools.pairwise(sizes):
        modules += [nn.Linear(n_in, n_out), activation_type()]
    return nn.Sequential(*modules[:-1])  # no activation after the logits


def model_from_checkpoint(file: Path, content: object) -> nn.Module:
    """The model of a checkpoint written by :func:`nnscape.train.save_checkpoint` (already loaded safely)."""
    if not isinstance(content, dict) or content.get("format") != CHECKPOINT_FORMAT:
        raise ModelError(
            f"{file}: a plain state_dict has no layer list; save the model with nnscape train, "
            "torch.jit.save(torch.jit.script(model)) or torch.export.save"
        )
    if content.get("version") != CHECKPOINT_VERSION:
        raise ModelError(f"{file}: checkpoint version {content.get('version')!r}, expected {CHECKPOINT_VERSION}")
    sizes = content.get("layer_sizes")
    if not isinstance(sizes, list) or not all(isinstance(n, int) for n in sizes):
        raise ModelError(f"{file}: layer_sizes must be a list of whole numbers, got {sizes!r}")
    model = build_mlp(sizes, str(content.get("activation", "relu")))
    try:
        model.load_state_dict(content["state_dict"])
    except (KeyError, RuntimeError) as exc:
        raise ModelError(f"{file}: state_dict does not match layers {sizes}: {str(exc).splitlines()[0]}") from exc
    return model
