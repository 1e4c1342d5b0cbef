"""What an importance method is: the registry's entry type and what a method returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["Method", "MethodResult"]


@dataclass(frozen=True)
class MethodResult:
    """Per-class node importance of every layer but the output, and the settings to record in the file.

    ``layers[l]`` is a ``(n_l, C)`` float tensor of non-negative values on any scale (the caller divides each
    layer by its maximum); ``options`` become the file's ``importance_config`` beside the method's name.
    """

    layers: list[torch.Tensor]
    options: dict[str, Any]


# ``(chain, x (n, n_0) float32, y (n,) int64 with every class present, *, seed, device, progress, cancel,
# **settings) → MethodResult``: the settings are keyword parameters with defaults (the front end refuses names
# the method does not have); a bad value raises ConfigError. Long work reports progress and stops with
# Cancelled when ``cancel`` is set.
Method = Callable[..., MethodResult]
