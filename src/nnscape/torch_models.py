"""Model intake: a PyTorch model read as a chain of Linear layers with element-wise functions between them.

nnscape draws multilayer perceptrons, so a model must compute ``x → [f] → Linear → f → Linear → … → Linear``
where every ``f`` acts element-wise (ReLU, GELU, Tanh, …) and the last Linear gives the class logits. We read
that chain from

- any ``nn.Module``: nested ``nn.Sequential`` or a custom ``forward``, traced with ``torch.fx`` (a forward with
  data-dependent control flow cannot be traced and is refused with a :class:`ModelError`);
- a TorchScript file made of ``nn.Sequential`` containers (its leaves are read by their original type names);
- a ``torch.export`` ``.pt2`` file (its ATen graph is walked the same way as an fx trace);
- a checkpoint written by :func:`nnscape.train.save_checkpoint` (layer sizes and activation stored beside the
  ``state_dict`` as plain values).

Layers that only matter in training (Dropout) and shape no-ops on flat inputs (Flatten, Identity, ``view``)
are skipped. An existing ``BatchNorm1d`` is used with its running statistics (inference semantics) and folded
into the adjacent Linear — into the one before it when it directly follows a Linear (the usual
Linear → BN → activation), else into the one after it — so that edge weights are the weights the model really
applies. A BN between two element-wise functions stays in the chain as a per-feature affine step. Softmax or
LogSoftmax may follow the last Linear and is ignored: importance works on the logits. Anything else (Conv2d,
attention, a residual branch, several inputs) is refused with an error naming the layer and its type.

The caller's model is never modified: weights are copied and activation modules deep-copied.
"""

from __future__ import annotations

import copy
import itertools
import json
import operator
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import torch
import torch.nn.functional as F  # noqa: N812
from torch import fx, nn

from nnscape.errors import ModelError

__all__ = ["MlpChain", "linear_layers", "load_model", "mlp_chain"]

CHECKPOINT_FORMAT = "nnscape-mlp"
CHECKPOINT_VERSION = 1

# Element-wise activations by class name (also the ``original_name`` of TorchScript leaves).
ELEMENTWISE_MODULES = frozenset(
    {
        "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Tanh", "Sigmoid", "Hardtanh",
        "Hardsigmoid", "Hardswish", "Softplus", "Softsign", "LogSigmoid", "Tanhshrink", "Softshrink", "Hardshrink",
        "Threshold",
    }
)  # fmt: skip
PASSTHROUGH_MODULES = frozenset({"Identity", "Dropout", "AlphaDropout", "Flatten"})
OUTPUT_MODULES = frozenset({"Softmax", "LogSoftmax"})  # allowed after the last Linear only

_aten = torch.ops.aten
ELEMENTWISE_FUNCTIONS: frozenset[Any] = frozenset(
    {
        torch.relu, torch.tanh, torch.sigmoid, F.relu, F.relu6, F.leaky_relu, F.elu, F.selu, F.celu, F.gelu,
        F.silu, F.mish, F.softplus, F.softsign, F.hardtanh, F.hardswish, F.hardsigmoid, F.logsigmoid, F.tanh,
        F.sigmoid, F.tanhshrink,
        _aten.relu.default, _aten.tanh.default, _aten.sigmoid.default, _aten.gelu.default, _aten.silu.default,
        _aten.leaky_relu.default, _aten.elu.default, _aten.softplus.default, _aten.hardtanh.default,
        _aten.mish.default, _aten.hardswish.default, _aten.hardsigmoid.default,
    }
)  # fmt: skip
PASSTHROUGH_FUNCTIONS: frozenset[Any] = frozenset(
    {
        torch.flatten, F.dropout, _aten.dropout.default, _aten.clone.default, _aten.alias.default,
        _aten.view.default, _aten.reshape.default, _aten.flatten.using_ints, _aten._unsafe_view.default,
    }
)  # fmt: skip
OUTPUT_FUNCTIONS: frozenset[Any] = frozenset(
    {torch.softmax, torch.log_softmax, F.softmax, F.log_softmax, _aten._softmax.default,
     _aten._log_softmax.default, _aten.softmax.int, _aten.log_softmax.int}
)  # fmt: skip
LINEAR_FUNCTIONS: frozenset[Any] = frozenset({F.linear, _aten.linear.default})
BATCHNORM_FUNCTIONS: frozenset[Any] = frozenset({_aten.batch_norm.default})  # torch.export of an eval-mode BN
ELEMENTWISE_METHODS = frozenset({"relu", "tanh", "sigmoid"})
PASSTHROUGH_METHODS = frozenset({"view", "reshape", "flatten", "contiguous", "float"})
HELPER_METHODS = frozenset({"size", "dim"})  # shape queries feeding a view/reshape


@dataclass(frozen=True)
class MlpChain:
    """A model read as ``x → pre[0] → Linear 0 → pre[1] → Linear 1 → … → logits``.

    Attributes
    ----------
    names : tuple of str
        Qualified name of each Linear layer in the model.
    linears : tuple of nn.Linear
        The model's own Linear modules (or wrappers sharing the tensors of a functional ``linear``).
    weights : tuple of (n_{l+1}, n_l) float32 CPU tensors
        Detached copies of the weights, existing batch norms folded in.
    biases : tuple of (n_{l+1},) float32 CPU tensors
        Detached copies of the biases (zeros where a layer has none), batch norms folded in.
    pre : tuple of tuples of nn.Module
        Element-wise functions applied to the input of Linear ``l``; they act on any shape ``(..., n_l)``.
    """

    names: tuple[str, ...]
    linears: tuple[nn.Linear, ...]
    weights: tuple[torch.Tensor, ...]
    biases: tuple[torch.Tensor, ...]
    pre: tuple[tuple[nn.Module, ...], ...]

    @property
    def layer_sizes(self) -> list[int]:
        """Nodes per layer, input first: ``[n_0, n_1, …, n_outputs]``."""
        return [int(self.weights[0].shape[1])] + [int(w.shape[0]) for w in self.weights]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., n_outputs)`` logits of flat inputs ``x`` of shape ``(..., n_0)`` (inference semantics)."""
        h = x
        for pre, weight, bias in zip(self.pre, self.weights, self.biases, strict=True):
            for function in pre:
                h = function(h)
            h = F.linear(h, weight.to(h.device), bias.to(h.device))
        return h


class _Elementwise(nn.Module):
    """A functional element-wise call from a traced graph, with its constant extra arguments."""

    def __init__(self, function: Callable[..., torch.Tensor], args: tuple[Any, ...], kwargs: dict[str, Any]):
        super().__init__()
        self.function = function
        self.args = args
        self.kwargs = {**kwargs, "inplace": False} if "inplace" in kwargs else kwargs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x, *self.args, **self.kwargs)


class _Affine(nn.Module):
    """A frozen per-feature ``x * scale + shift`` (an inference-mode BatchNorm1d that could not be folded)."""

    def __init__(self, scale: torch.Tensor, shift: torch.Tensor):
        super().__init__()
        self.register_buffer("scale", scale)
        self.register_buffer("shift", shift)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale, shift = self.scale, self.shift
        assert isinstance(scale, torch.Tensor)
        assert isinstance(shift, torch.Tensor)
        return x * scale + shift


StepKind = Literal["linear", "affine", "elementwise", "output"]


@dataclass
class _Step:
    kind: StepKind
    name: str
    linear: nn.Linear | None = None
    function: nn.Module | None = None
    scale: torch.Tensor | None = None
    shift: torch.Tensor | None = None


# -- public functions ----------------------------------------------------------------------------------------


def mlp_chain(model: nn.Module) -> MlpChain:
    """Read ``model`` as a chain of Linear layers; raise :class:`ModelError` naming any unsupported layer."""
    if not isinstance(model, nn.Module):
        raise ModelError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    steps = _script_steps(model) if isinstance(model, torch.jit.ScriptModule) else _graph_steps(model)
    return _build_chain(steps, type(model).__name__)


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The model's Linear layers in forward order, after checking the whole model is a supported chain."""
    return list(mlp_chain(model).linears)


def load_model(path: str | os.PathLike[str]) -> nn.Module:
    """Load a TorchScript file, a ``torch.export`` ``.pt2`` file or an nnscape checkpoint, never unpickling.

    The kind is recognised by the zip archive's contents, not the file name. The model is checked with
    :func:`mlp_chain` before it is returned.
    """
    file = Path(path)
    if not file.is_file():
        raise ModelError(f"{file}: no such model file")
    if not zipfile.is_zipfile(file):
        raise ModelError(f"{file}: not a PyTorch model file (expected a TorchScript, .pt2 or nnscape checkpoint)")
    with zipfile.ZipFile(file) as archive:
        names = archive.namelist()
        if any(name.split("/", 1)[-1] == "archive_format" for name in names):
            _check_export_archive(file, archive, names)
            kind = "export"
        elif any("/code/" in name for name in names):
            kind = "torchscript"
        else:
            kind = "checkpoint"
    try:
        if kind == "export":
            model: nn.Module = torch.export.load(file).module()
        elif kind == "torchscript":
            model = torch.jit.load(file, map_location="cpu")  # type: ignore[no-untyped-call]
        else:
            model = _model_from_checkpoint(file, torch.load(file, map_location="cpu", weights_only=True))
    except ModelError:
        raise
    except Exception as exc:  # torch raises many types for corrupt archives; one message for all of them
        raise ModelError(f"{file}: cannot load the {kind} model: {str(exc).splitlines()[0]}") from exc
    mlp_chain(model)
    return model


def build_mlp(layer_sizes: Sequence[int], activation: str = "relu") -> nn.Sequential:
    """``Linear → activation → … → Linear`` for ``layer_sizes`` (input first); PyTorch's default init."""
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ModelError(f"layers: need at least an input and an output layer of at least 1 node, got {sizes}")
    activation_type = _ACTIVATIONS.get(activation)
    if activation_type is None:
        raise ModelError(f"activation {activation!r}: expected one of {sorted(_ACTIVATIONS)}")
    modules: list[nn.Module] = []
    for n_in, n_out in itertools.pairwise(sizes):
        modules += [nn.Linear(n_in, n_out), activation_type()]
    return nn.Sequential(*modules[:-1])  # no activation after the logits


_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "silu": nn.SiLU, "elu": nn.ELU,
}  # fmt: skip


# -- checkpoint and archive checks ---------------------------------------------------------------------------


def _model_from_checkpoint(file: Path, content: object) -> nn.Module:
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


def _check_export_archive(file: Path, archive: zipfile.ZipFile, names: list[str]) -> None:
    """Refuse .pt2 archives whose loading would unpickle (pickled weights, custom-object constants)."""
    for name in names:
        if name.endswith("_config.json") and ("/data/weights/" in name or "/data/constants/" in name):
            config = json.loads(archive.read(name)).get("config", {})
            for key, entry in config.items():
                path_name = str(entry.get("path_name", ""))
                if entry.get("use_pickle") or path_name.startswith(("custom_obj_", "opaque_obj_")):
                    raise ModelError(f"{file}: entry {key!r} is stored as a pickle, which nnscape never loads")


# -- reading the chain ---------------------------------------------------------------------------------------


def _module_step(name: str, module: Any, type_name: str) -> _Step | None:
    """One leaf module as a step; ``None`` when it does nothing at inference on flat inputs."""
    if type_name == "Linear":
        linear = module if isinstance(module, nn.Linear) else _wrap_linear(module.weight, module.bias)
        return _Step("linear", name, linear=linear)
    if type_name == "BatchNorm1d":
        return _batchnorm_step(name, module)
    if type_name in ELEMENTWISE_MODULES:
        function = copy.deepcopy(module)  # ours to move between devices; in-place would break autograd
        if hasattr(function, "inplace") and not isinstance(function, torch.jit.ScriptModule):
            setattr(function, "inplace", False)  # noqa: B010 (an attribute of some activation types only)
        return _Step("elementwise", name, function=function)
    if type_name in PASSTHROUGH_MODULES:
        return None
    if type_name in OUTPUT_MODULES:
        return _Step("output", name)
    raise _unsupported(name, type_name)


def _unsupported(name: str, type_name: str) -> ModelError:
    return ModelError(
        f"layer {name!r} ({type_name}) is not supported: nnscape reads chains of Linear layers with element-wise "
        "activations, Dropout, Flatten, Identity and BatchNorm1d"
    )


def _wrap_linear(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    """An ``nn.Linear`` sharing the given tensors (for functional or TorchScript linears)."""
    linear = nn.Linear(int(weight.shape[1]), int(weight.shape[0]), bias=bias is not None, device="meta")
    linear.weight = nn.Parameter(weight.detach(), requires_grad=False)
    if bias is not None:
        linear.bias = nn.Parameter(bias.detach(), requires_grad=False)
    return linear


def _batchnorm_step(name: str, module: Any) -> _Step:
    mean, var = module.running_mean, module.running_var
    if mean is None or var is None:
        raise ModelError(f"layer {name!r} (BatchNorm1d) has no running statistics (track_running_stats=False)")
    scale = 1.0 / torch.sqrt(_cpu_copy(var) + float(module.eps))
    shift = -_cpu_copy(mean) * scale
    if module.weight is not None:
        scale = scale * _cpu_copy(module.weight)
        shift = shift * _cpu_copy(module.weight) + _cpu_copy(module.bias)
    return _Step("affine", name, scale=scale, shift=shift)


def _cpu_copy(tensor: torch.Tensor) -> torch.Tensor:
    """A detached float32 CPU copy: the chain never shares memory or a device with the caller's model."""
    return tensor.detach().to("cpu", torch.float32, copy=True)


def _script_steps(model: torch.jit.ScriptModule) -> list[_Step]:
    """Leaves of a TorchScript model made of Sequentials, in order (a Sequential's forward is its order)."""
    steps: list[_Step] = []

    def walk(prefix: str, module: Any) -> None:
        type_name = str(module.original_name)
        if type_name == "Sequential":
            for child_name, child in module.named_children():
                walk(f"{prefix}.{child_name}" if prefix else child_name, child)
            return
        if not prefix:
            raise ModelError(
                f"TorchScript model ({type_name}) has a custom forward nnscape cannot read; script an "
                "nn.Sequential, or pass the nn.Module itself"
            )
        step = _module_step(prefix, module, type_name)
        if step is not None:
            steps.append(step)

    walk("", model)
    return steps


def _graph_steps(model: nn.Module) -> list[_Step]:
    """Steps of an fx graph (a traced module or an exported program's module), checking it is one chain."""
    if isinstance(model, fx.GraphModule):
        graph_module = model
    else:
        try:
            graph_module = fx.symbolic_trace(model)
        except Exception as exc:  # tracing fails in many ways on dynamic Python; report them all alike
            raise ModelError(
                f"cannot trace the forward of {type(model).__name__} ({str(exc).splitlines()[0]}); nnscape needs "
                "a forward without data-dependent control flow, e.g. an nn.Sequential"
            ) from exc
    steps: list[_Step] = []
    current: fx.Node | None = None
    helpers: set[fx.Node] = set()  # shape queries and parameter reads: not part of the data flow
    for node in graph_module.graph.nodes:
        if node.op == "placeholder":
            if current is not None:
                raise ModelError(f"{type(model).__name__}.forward takes several inputs; nnscape needs one")
            current = node
            continue
        if node.op == "get_attr" or _is_helper(node, helpers):
            helpers.add(node)
            continue
        if node.op == "output":
            result = node.args[0]
            while isinstance(result, (tuple, list)) and len(result) == 1:
                result = result[0]
            if result is not current:
                raise ModelError(f"{type(model).__name__}: the output is not the end of a single chain of layers")
            break
        if not node.users and node.op == "call_module":
            continue  # e.g. torch.export's guard function: its result is never used
        inputs = [arg for arg in node.all_input_nodes if arg not in helpers]
        if inputs != [current]:
            raise ModelError(
                f"node {node.name!r} ({_describe(graph_module, node)}) combines several values; nnscape reads "
                "single chains of layers, not branches or residual connections"
            )
        step = _node_step(graph_module, node)
        if step is not None:
            steps.append(step)
        current = node
    return steps


def _is_helper(node: fx.Node, helpers: set[fx.Node]) -> bool:
    """Shape queries (``x.size(0)``, ``x.shape[0]``) that only feed a ``view``: not part of the data flow."""
    if node.op == "call_method":
        return node.target in HELPER_METHODS
    if node.op != "call_function":
        return False
    if node.target is getattr:
        return node.args[1] == "shape"
    return node.target is operator.getitem and node.args[0] in helpers


def _describe(graph_module: fx.GraphModule, node: fx.Node) -> str:
    if node.op == "call_module":
        return type(graph_module.get_submodule(str(node.target))).__name__
    return getattr(node.target, "__name__", str(node.target))


def _node_step(graph_module: fx.GraphModule, node: fx.Node) -> _Step | None:
    name = str(node.target) if node.op == "call_module" else node.name
    if node.op == "call_module":
        module = graph_module.get_submodule(str(node.target))
        return _module_step(name, module, type(module).__name__)
    constants = tuple(node.args[1:])
    if (
        any(isinstance(arg, fx.Node) for arg in (*constants, *node.kwargs.values()))
        and not (
            node.op == "call_function" and node.target in LINEAR_FUNCTIONS | PASSTHROUGH_FUNCTIONS | BATCHNORM_FUNCTIONS
        )
        and not (node.op == "call_method" and node.target in PASSTHROUGH_METHODS)
    ):
        raise _unsupported(name, f"{_describe(graph_module, node)} with tensor arguments")
    if node.op == "call_method":
        if node.target in ELEMENTWISE_METHODS:
            return _Step("elementwise", name, function=_Elementwise(getattr(torch, str(node.target)), (), {}))
        if node.target in PASSTHROUGH_METHODS:
            return None
    elif node.op == "call_function":
        if node.target in ELEMENTWISE_FUNCTIONS:
            function = cast(Callable[..., torch.Tensor], node.target)
            return _Step("elementwise", name, function=_Elementwise(function, constants, dict(node.kwargs)))
        if node.target in PASSTHROUGH_FUNCTIONS:
            return None
        if node.target in OUTPUT_FUNCTIONS:
            return _Step("output", name)
        if node.target in LINEAR_FUNCTIONS:
            return _functional_linear(graph_module, node)
        if node.target in BATCHNORM_FUNCTIONS:
            return _functional_batchnorm(graph_module, node)
    raise _unsupported(name, _describe(graph_module, node))


def _functional_linear(graph_module: fx.GraphModule, node: fx.Node) -> _Step:
    """``F.linear(x, weight, bias)`` or ``aten.linear`` whose weight and bias are parameters of the module."""
    arguments = [*node.args[1:], *node.kwargs.values()]
    tensors: list[torch.Tensor | None] = []
    for arg in arguments[:2]:
        if arg is None:
            tensors.append(None)
        elif isinstance(arg, fx.Node) and arg.op == "get_attr":
            tensors.append(_fetch(graph_module, str(arg.target)))
        else:
            raise ModelError(f"node {node.name!r} (linear): weight and bias must be parameters of the model")
    weight = tensors[0]
    if weight is None:
        raise ModelError(f"node {node.name!r} (linear): no weight")
    weight_node = arguments[0]
    assert isinstance(weight_node, fx.Node)  # checked above: a get_attr node
    name = str(weight_node.target).removesuffix(".weight")
    return _Step("linear", name, linear=_wrap_linear(weight, tensors[1] if len(tensors) > 1 else None))


def _functional_batchnorm(graph_module: fx.GraphModule, node: fx.Node) -> _Step:
    """``aten.batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps, cudnn)``."""
    weight, bias, mean, var, training, _momentum, eps = node.args[1:8]
    if training:
        raise ModelError(f"node {node.name!r} (batch_norm): exported in training mode; export the model in eval()")
    scale, shift, running_mean, running_var = (_fetch_argument(graph_module, arg) for arg in (weight, bias, mean, var))
    if running_mean is None or running_var is None:
        raise ModelError(f"node {node.name!r} (batch_norm) has no running statistics")
    module = nn.BatchNorm1d(int(running_mean.shape[0]), eps=float(cast(float, eps)), affine=scale is not None)
    module.running_mean, module.running_var = running_mean, running_var
    if scale is not None and shift is not None:
        module.weight, module.bias = nn.Parameter(scale), nn.Parameter(shift)
    return _batchnorm_step(node.name, module)


def _fetch_argument(graph_module: fx.GraphModule, argument: object) -> torch.Tensor | None:
    """The tensor a ``get_attr`` argument reads, or ``None`` for an absent optional argument."""
    if argument is None:
        return None
    if not isinstance(argument, fx.Node) or argument.op != "get_attr":
        raise ModelError(f"argument {argument!r}: expected a parameter or buffer of the model")
    return _fetch(graph_module, str(argument.target))


def _fetch(graph_module: fx.GraphModule, target: str) -> torch.Tensor:
    value: Any = graph_module
    for part in target.split("."):
        value = getattr(value, part)
    if not isinstance(value, torch.Tensor):
        raise ModelError(f"attribute {target!r}: expected a tensor, got {type(value).__name__}")
    return value


def _build_chain(steps: list[_Step], model_name: str) -> MlpChain:
    """Group the steps into ``pre[l] + Linear l``, folding batch norms into the adjacent Linear."""
    linear_positions = [i for i, step in enumerate(steps) if step.kind == "linear"]
    if not linear_positions:
        raise ModelError(f"{model_name}: no Linear layer found; nnscape needs at least one")
    last = linear_positions[-1]
    for step in steps[last + 1 :]:
        if step.kind == "affine" and steps[last + 1] is step:
            continue  # folded into the output layer below
        if step.kind not in ("output", "elementwise"):
            raise _unsupported(step.name, "layer after the class output")
    for step in steps[:last]:
        if step.kind == "output":
            raise ModelError(f"layer {step.name!r} (softmax) is only allowed after the last Linear layer")

    names: list[str] = []
    linears: list[nn.Linear] = []
    weights: list[torch.Tensor] = []
    biases: list[torch.Tensor] = []
    pre: list[tuple[nn.Module, ...]] = []
    pending: list[nn.Module] = []
    forward_fold: tuple[torch.Tensor, torch.Tensor] | None = None  # a BN just before the next Linear
    for index, step in enumerate(steps):
        previous = steps[index - 1] if index else None
        following = steps[index + 1] if index + 1 < len(steps) else None
        if step.kind == "linear":
            assert step.linear is not None
            weight = _cpu_copy(step.linear.weight)
            bias = _cpu_copy(step.linear.bias) if step.linear.bias is not None else torch.zeros(weight.shape[0])
            if forward_fold is not None:  # W (s x + t) + b = (W diag s) x + (W t + b)
                scale, shift = forward_fold
                bias = bias + weight @ shift
                weight = weight * scale
                forward_fold = None
            names.append(step.name)
            linears.append(step.linear)
            weights.append(weight)
            biases.append(bias)
            pre.append(tuple(pending))
            pending = []
        elif step.kind == "affine":
            assert step.scale is not None
            assert step.shift is not None
            if previous is not None and previous.kind == "linear":  # s (W x + b) + t
                weights[-1] = weights[-1] * step.scale[:, None]
                biases[-1] = biases[-1] * step.scale + step.shift
            elif following is not None and following.kind == "linear":
                forward_fold = (step.scale, step.shift)
            else:
                pending.append(_Affine(step.scale, step.shift))
        elif step.kind == "elementwise" and index < last:
            assert step.function is not None
            pending.append(step.function)
    _check_sizes(names, weights)
    return MlpChain(tuple(names), tuple(linears), tuple(weights), tuple(biases), tuple(pre))


def _check_sizes(names: list[str], weights: list[torch.Tensor]) -> None:
    for layer in range(1, len(weights)):
        if weights[layer].shape[1] != weights[layer - 1].shape[0]:
            raise ModelError(
                f"layer {names[layer]!r} takes {weights[layer].shape[1]} inputs but {names[layer - 1]!r} gives "
                f"{weights[layer - 1].shape[0]}; nnscape needs consecutive Linear layers to fit"
            )
