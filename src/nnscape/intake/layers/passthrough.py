"""Layers that do nothing at inference on flat inputs: Dropout, Flatten, Identity, view/reshape and copies."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import fx

from nnscape.intake.layers.registry import reads_functions, reads_methods, reads_modules

_aten = torch.ops.aten


@reads_modules("Identity", "Dropout", "AlphaDropout", "Flatten")
def read_module(name: str, module: Any) -> None:
    return None


@reads_functions(
    torch.flatten, F.dropout, _aten.dropout.default, _aten.clone.default, _aten.alias.default, _aten.view.default,
    _aten.reshape.default, _aten.flatten.using_ints, _aten._unsafe_view.default,
)  # fmt: skip
@reads_methods("view", "reshape", "flatten", "contiguous", "float")
def read_node(graph_module: fx.GraphModule, node: fx.Node) -> None:
    return None
