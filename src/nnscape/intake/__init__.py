"""Model intake: a PyTorch model read as a chain of Linear and convolution layers, channels as nodes.

A model must compute ``x → [f] → layer → f → layer → … → Linear`` where every layer is a Linear or a Conv1d/Conv2d,
every ``f`` keeps channels apart (element-wise activations, pooling, batch norm, dropout, flatten) and the last
Linear gives the class logits. The package is split by job:

- :mod:`~nnscape.intake.files` loads TorchScript, ``torch.export`` ``.pt2``, ONNX and nnscape checkpoint files,
  never unpickling an entry;
- :mod:`~nnscape.intake.graph` and :mod:`~nnscape.intake.onnx_file` turn a model's graph (an fx trace, an
  exported program, an ONNX file) into the nodes that :mod:`~nnscape.intake.walk` walks into steps (one main
  path, residual additions, concatenations of channels); a TorchScript Sequential is read in order;
- :mod:`~nnscape.intake.layers` holds one reader per layer kind (Linear, convolution, batch norm, activations,
  pooling, pass-through layers and flatten, concatenation, the softmax output) behind a small registry;
- :mod:`~nnscape.intake.chain` groups the steps into the chain and folds batch norms into the Linears;
- :mod:`~nnscape.intake.factory` builds the MLPs nnscape trains and reads their checkpoints.

Layers that only matter in training (Dropout) and no-ops (Identity) are skipped; a flatten turns a
convolution's channels into a Linear's inputs; Softmax or LogSoftmax may follow the last Linear and is ignored.
Residual additions and concatenations of channels (DenseNet-style) become shortcuts that cross layers; anything
else (attention, parallel branches, several inputs) is refused with an error naming the layer and its type. The
caller's model is never modified: weights are copied and activation modules deep-copied.
"""

from __future__ import annotations

from torch import nn

from nnscape.errors import ModelError
from nnscape.intake.chain import LayerChain, build_chain
from nnscape.intake.factory import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, build_mlp
from nnscape.intake.files import load_model
from nnscape.intake.graph import model_steps

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "LayerChain",
    "build_mlp",
    "layer_chain",
    "linear_layers",
    "load_model",
    "mlp_chain",
]


def layer_chain(model: nn.Module) -> LayerChain:
    """Read ``model`` as a chain of Linear and convolution layers; raise :class:`ModelError` naming any
    unsupported layer."""
    if not isinstance(model, nn.Module):
        raise ModelError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    return build_chain(model_steps(model), type(model).__name__)


def mlp_chain(model: nn.Module) -> LayerChain:
    """:func:`layer_chain` of a model that must be an MLP (Linear layers on plain features only)."""
    chain = layer_chain(model)
    if not chain.is_mlp:
        raise ModelError(
            f"{type(model).__name__}: a convolutional model; pruning curves handle chains of Linear layers only"
        )
    return chain


def linear_layers(model: nn.Module) -> list[nn.Module]:
    """The model's Linear layers in forward order, after checking the whole model is a supported MLP chain."""
    return list(mlp_chain(model).modules)
