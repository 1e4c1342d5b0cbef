"""Model intake: a PyTorch model read as a chain of Linear layers with element-wise functions between them.

nnscape draws multilayer perceptrons, so a model must compute ``x → [f] → Linear → f → Linear → … → Linear``
where every ``f`` acts element-wise (ReLU, GELU, Tanh, …) and the last Linear gives the class logits. The
package is split by job:

- :mod:`~nnscape.intake.files` loads TorchScript, ``torch.export`` ``.pt2`` and nnscape checkpoint files,
  never unpickling an entry;
- :mod:`~nnscape.intake.graph` walks a model's graph (an fx trace, an exported program, a TorchScript
  Sequential) into steps;
- :mod:`~nnscape.intake.layers` holds one reader per layer kind (Linear, BatchNorm, activations, pass-through
  layers, the softmax output) behind a small registry;
- :mod:`~nnscape.intake.chain` groups the steps into the chain and folds batch norms into the Linears;
- :mod:`~nnscape.intake.factory` builds the MLPs nnscape trains and reads their checkpoints.

Layers that only matter in training (Dropout) and shape no-ops on flat inputs (Flatten, Identity, ``view``)
are skipped; Softmax or LogSoftmax may follow the last Linear and is ignored. Anything else (Conv2d,
attention, a residual branch, several inputs) is refused with an error naming the layer and its type. The
caller's model is never modified: weights are copied and activation modules deep-copied.
"""

from __future__ import annotations

from torch import nn

from nnscape.errors import ModelError
from nnscape.intake.chain import MlpChain, build_chain
from nnscape.intake.factory import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, build_mlp
from nnscape.intake.files import load_model
from nnscape.intake.graph import model_steps

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "MlpChain",
    "build_mlp",
    "linear_layers",
    "load_model",
    "mlp_chain",
]


def mlp_chain(model: nn.Module) -> MlpChain:
    """Read ``model`` as a chain of Linear layers; raise :class:`ModelError` naming any unsupported layer."""
    if not isinstance(model, nn.Module):
        raise ModelError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    return build_chain(model_steps(model), type(model).__name__)


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The model's Linear layers in forward order, after checking the whole model is a supported chain."""
    return list(mlp_chain(model).linears)
