"""The registry of layer readers: each layer kind is one module that registers how it reads its layers.

A reader turns one layer into a :class:`~nnscape.intake.chain.Step`, or ``None`` when the layer does nothing
at inference (Dropout, Flatten). Layers are found three ways, and a kind registers for each it handles:

- a module, by its class name (for TorchScript files, the ``original_name`` of the scripted class);
- an fx ``call_function`` node, by its target (``F.relu``, ``torch.ops.aten.linear.default``, …);
- an fx ``call_method`` node, by the method's name (``x.relu()``, ``x.view(…)``);
- an ONNX node, by its ``op_type`` (``Conv``, ``Gemm``, ``Relu``, …), as an :class:`OnnxNode`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from torch import fx

from nnscape.errors import ModelError
from nnscape.intake.chain import Step, unsupported

__all__ = [
    "GraphReader",
    "ModuleReader",
    "OnnxNode",
    "OnnxReader",
    "describe",
    "fetch",
    "module_step",
    "no_tensor_arguments",
    "node_step",
    "onnx_step",
    "reads_functions",
    "reads_methods",
    "reads_modules",
    "reads_onnx",
]


@dataclass(frozen=True)
class OnnxNode:
    """One ONNX node as a reader sees it: the data input is implicit, the other inputs are constants.

    ``constants[i]`` is the tensor of input ``i + 1`` (an initializer or a ``Constant`` node's value), ``None``
    where the input is absent; ``attributes`` are plain Python values (ints, floats, lists, strings, tensors).
    """

    name: str
    op_type: str
    constants: tuple[torch.Tensor | None, ...]
    attributes: dict[str, Any]

    def constant(self, index: int) -> torch.Tensor | None:
        return self.constants[index] if index < len(self.constants) else None


ModuleReader = Callable[[str, Any], "Step | None"]  # (qualified name, module); a module may be scripted
GraphReader = Callable[[fx.GraphModule, fx.Node], "Step | None"]
OnnxReader = Callable[[OnnxNode], "Step | None"]
_Reader = TypeVar("_Reader", bound=Callable[..., Any])

_MODULES: dict[str, ModuleReader] = {}
_FUNCTIONS: dict[object, GraphReader] = {}
_METHODS: dict[str, GraphReader] = {}
_ONNX: dict[str, OnnxReader] = {}


def _register(table: dict[Any, Any], keys: tuple[object, ...]) -> Callable[[_Reader], _Reader]:
    def decorate(reader: _Reader) -> _Reader:
        for key in keys:
            if key in table:
                raise ValueError(f"two readers for the layer kind {key!r}")
            table[key] = reader
        return reader

    return decorate


def reads_modules(*type_names: str) -> Callable[[_Reader], _Reader]:
    """Register a :data:`ModuleReader` for modules of these class names."""
    return _register(_MODULES, type_names)


def reads_functions(*targets: object) -> Callable[[_Reader], _Reader]:
    """Register a :data:`GraphReader` for ``call_function`` nodes of these targets."""
    return _register(_FUNCTIONS, targets)


def reads_methods(*names: str) -> Callable[[_Reader], _Reader]:
    """Register a :data:`GraphReader` for ``call_method`` nodes of these method names."""
    return _register(_METHODS, names)


def reads_onnx(*op_types: str) -> Callable[[_Reader], _Reader]:
    """Register an :data:`OnnxReader` for ONNX nodes of these op types."""
    return _register(_ONNX, op_types)


def onnx_step(node: OnnxNode) -> Step | None:
    """The step of one ONNX node; refuses an op type no kind reads."""
    reader = _ONNX.get(node.op_type)
    if reader is None:
        raise unsupported(node.name, f"ONNX {node.op_type}")
    return reader(node)


def module_step(name: str, module: Any, type_name: str) -> Step | None:
    """The step of one leaf module; refuses a type no kind reads."""
    reader = _MODULES.get(type_name)
    if reader is None:
        raise unsupported(name, type_name)
    return reader(name, module)


def node_step(graph_module: fx.GraphModule, node: fx.Node) -> Step | None:
    """The step of one fx node (module call, function call or method call); refuses what no kind reads."""
    if node.op == "call_module":
        module = graph_module.get_submodule(str(node.target))
        return module_step(str(node.target), module, type(module).__name__)
    reader: GraphReader | None = None
    if node.op == "call_function":
        reader = _FUNCTIONS.get(node.target)
    elif node.op == "call_method":
        reader = _METHODS.get(str(node.target))
    if reader is None:
        raise unsupported(node.name, describe(graph_module, node))
    return reader(graph_module, node)


def describe(graph_module: fx.GraphModule, node: fx.Node) -> str:
    """A node's layer type for messages: the module's class or the function's name."""
    if node.op == "call_module":
        return type(graph_module.get_submodule(str(node.target))).__name__
    return getattr(node.target, "__name__", str(node.target))


def no_tensor_arguments(graph_module: fx.GraphModule, node: fx.Node) -> tuple[Any, ...]:
    """The constant arguments after the input; refuses a second tensor (a function of two values)."""
    constants = tuple(node.args[1:])
    if any(isinstance(arg, fx.Node) for arg in (*constants, *node.kwargs.values())):
        raise unsupported(node.name, f"{describe(graph_module, node)} with tensor arguments")
    return constants


def fetch(graph_module: fx.GraphModule, argument: object, node: fx.Node) -> torch.Tensor | None:
    """The tensor a ``get_attr`` argument of ``node`` reads, or ``None`` for an absent optional argument."""
    if argument is None:
        return None
    if not isinstance(argument, fx.Node) or argument.op != "get_attr":
        raise ModelError(f"node {node.name!r}: argument {argument!r} must be a parameter or buffer of the model")
    value: Any = graph_module
    for part in str(argument.target).split("."):
        value = getattr(value, part)
    if not isinstance(value, torch.Tensor):
        raise ModelError(f"attribute {argument.target!r}: expected a tensor, got {type(value).__name__}")
    return value
