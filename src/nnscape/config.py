"""Processing and render configuration: every key defined once (type, default, range, doc).

JSON load/save, CLI ``--set key=value`` overrides, the server's validation and the viewer's controls all read
:data:`PROCESSING_SETTINGS` and :data:`RENDER_SETTINGS`, so a key cannot drift between them. Keys, defaults and
ranges are explained in docs/processing.md and docs/viewer.md. Render keys are dotted (``edges.size``) and nest in JSON
(``{"edges": {"size": 0.02}}``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

from nnscape.errors import ConfigError

__all__ = [
    "EDGE_MODES",
    "NODE_MODES",
    "PROCESSING_SETTINGS",
    "RENDER_SETTINGS",
    "ProcessingConfig",
    "RenderConfig",
    "Setting",
    "load_config",
    "parse_overrides",
    "save_config",
]

SettingType = Literal["float", "int", "bool", "choice"]
# Error lines quote the offending value up to this long (str() of a longer int is itself refused by Python).
MAX_SHOWN_CHARACTERS = 80
MAX_SHOWN_INTEGER = 10**20
# Keys nest at most one level ("edges.size"); a JSON object nested deeper is refused before walking it.
MAX_NESTING = 4
# A config file is a few hundred bytes; reading stops well before a huge or endless one fills memory.
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Setting:
    """One configuration key: its type, default and allowed values.

    Numeric ranges are ``[low, high]``; ``low_open`` / ``high_open`` exclude an end. ``choices`` lists the
    allowed values of a ``choice`` (strings) or of an ``int`` drawn from a set.
    """

    key: str
    type: SettingType
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] = ()

    def describe_range(self) -> str:
        if self.type == "bool":
            return "true or false"
        if self.choices:
            return "one of " + ", ".join(json.dumps(c) for c in self.choices)
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{left}{_number(self.low)}, {_number(self.high)}{right}"

    def check(self, value: Any) -> Any:
        """Return ``value`` converted to this setting's type; raise :class:`ConfigError` if it is not allowed."""
        problem = f"{self.key}: {_shown(value)} is not allowed"
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{problem}; expected true or false")
            return value
        if self.type == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ConfigError(f"{problem}; expected {self.describe_range()}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{problem}; expected a number in {self.describe_range()}")
        # NaN and infinity first: they compare false with every bound and int() of them raises.
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{problem}; expected a finite number in {self.describe_range()}")
        if self.type == "int" and isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"{problem}; expected a whole number in {self.describe_range()}")
        # Bounds are compared before converting, so a 5 000-digit integer is refused instead of overflowing.
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if too_low or too_high:
            raise ConfigError(f"{problem}; expected {'' if self.choices else 'a value in '}{self.describe_range()}")
        value = int(value) if self.type == "int" else float(value)
        if self.choices and value not in self.choices:
            raise ConfigError(f"{problem}; expected {self.describe_range()}")
        return value

    def as_json(self) -> dict[str, Any]:
        """The setting as the server hands it to the viewer."""
        return {k: v for k, v in asdict(self).items() if v not in (None, ())} | {"range": self.describe_range()}


def _number(value: float | None) -> str:
    return "∞" if value is None else f"{value:g}"


def _shown(value: Any) -> str:
    """``value`` for an error line: JSON where it is short, else its type and a cut-down repr."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SHOWN_INTEGER:
        return f"an integer of about {math.ceil(value.bit_length() * math.log10(2))} digits"
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = f"a {type(value).__name__}"
    return text if len(text) <= MAX_SHOWN_CHARACTERS else text[: MAX_SHOWN_CHARACTERS - 1] + "…"


# The bandwidth schedule runs from h_0 down to h_min = h_0 / (at most 22.5 at sampling_rate 20), so a factor r
# gives ln(22.5) / -ln(r) iterations: about 3 100 at this bound, 10^16 at 1 - 2^-53 (a list no Stop could stop).
MAX_BANDWIDTH_REDUCTION = 0.999

PROCESSING_SETTINGS: tuple[Setting, ...] = (
    Setting("edge_bandwidth_reduction", "float", 0.86,
            "Bandwidth factor per edge iteration; closer to 1 means more iterations.",
            0.0, MAX_BANDWIDTH_REDUCTION, low_open=True),
    Setting("node_bandwidth_reduction", "float", 0.95,
            "Bandwidth factor per node iteration; closer to 1 means more iterations.",
            0.0, MAX_BANDWIDTH_REDUCTION, low_open=True),
    Setting("edge_importance_type", "int", 0,
            "How an edge sample's class vector and weight come from its end nodes: 0 interpolated, "
            "1 source, 2 mean of both, 3 target.", 0, 3, choices=(0, 1, 2, 3)),
    Setting("layer_distance", "float", 0.5, "Spacing between layers along z.", 0.0, 1.0, low_open=True),
    Setting("layer_width", "float", 1.0, "Side of each layer's square slice.", 0.0, 1.0, low_open=True),
    Setting("prune_percentage", "float", 0.0,
            "Fraction of lowest-scoring edges dropped before bundling.", 0.0, 1.0, high_open=True),
    Setting("sampling_rate", "float", 15.0, "Polyline samples per unit length.", 5.0, 20.0),
    Setting("smoothing", "bool", True, "Laplacian smoothing after each edge iteration."),
    Setting("smoothing_iterations", "int", 8, "Smoothing passes per edge iteration.", 0, 16),
)  # fmt: skip

NODE_MODES = ("none", "sphere", "transparent_sphere", "point")
EDGE_MODES = ("none", "sphere", "transparent_sphere", "transparent_ellipsoid", "line", "point")


def _shader_settings(prefix: str, size: float, depth_exponent: float, importance_opacity: float) -> list[Setting]:
    what = "edge samples" if prefix == "edges" else "nodes"
    return [
        Setting(f"{prefix}.size", "float", size, f"Radius of {what} at importance 1.", 0.0, 1.0),
        Setting(f"{prefix}.base_opacity", "float", 0.0, f"Opacity every visible {what[:-1]} gets.", 0.0, 1.0),
        Setting(f"{prefix}.importance_opacity", "float", importance_opacity,
                "How much importance drives opacity; above 1 hides weak elements.", 0.0, 2.0),
        # A quarter: a depth cue that leaves the far side's colours readable (docs/viewer.md).
        Setting(f"{prefix}.depth_opacity", "float", 0.25, "How much nearer elements are more opaque.", 0.0, 1.0),
        Setting(f"{prefix}.depth_exponent", "float", depth_exponent,
                "Exponent on how central the ray hits the impostor.", 0.0, 10.0),
        Setting(f"{prefix}.importance_threshold", "float", 0.01,
                f"{what.capitalize()} with importance at or below this are hidden.", 0.0, 1.0),
    ]  # fmt: skip


RENDER_SETTINGS: tuple[Setting, ...] = (
    Setting("node_mode", "choice", "transparent_sphere", "How nodes are drawn.", choices=NODE_MODES),
    Setting("edge_mode", "choice", "transparent_ellipsoid", "How edges are drawn.", choices=EDGE_MODES),
    *_shader_settings("nodes", size=0.04, depth_exponent=0.5, importance_opacity=1.0),
    *_shader_settings("edges", size=0.02, depth_exponent=0.25, importance_opacity=1.1),
)

C = TypeVar("C", bound="_Config")


class _Config:
    """Shared behaviour of the two configs: validation, dotted keys, JSON conversion."""

    SETTINGS: tuple[Setting, ...] = ()
    NAME = ""

    def __post_init__(self) -> None:
        for setting in self.SETTINGS:
            attribute = _attribute(setting.key)
            object.__setattr__(self, attribute, setting.check(getattr(self, attribute)))

    @classmethod
    def from_dict(cls: type[C], values: Mapping[str, Any], *, source: str = "") -> C:
        """Build from flat dotted keys or nested JSON; unknown keys are errors. Missing keys take defaults."""
        prefix = f"{source}: " if source else ""
        known = {s.key for s in cls.SETTINGS}
        try:
            flat = _flatten(values)
            unknown = sorted(set(flat) - known)
            if unknown:
                raise ConfigError(f"unknown {cls.NAME} key {unknown[0]!r}; known keys: {', '.join(sorted(known))}")
            return cls(**{_attribute(k): v for k, v in flat.items()})
        except ConfigError as exc:
            raise ConfigError(f"{prefix}{exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """Nested JSON-ready values (``{"edges": {"size": …}}`` for dotted keys)."""
        nested: dict[str, Any] = {}
        for setting in self.SETTINGS:
            *parents, leaf = setting.key.split(".")
            node = nested
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = getattr(self, _attribute(setting.key))
        return nested

    def with_overrides(self: C, overrides: Mapping[str, Any]) -> C:
        """A copy with some dotted keys replaced, validated."""
        known = {s.key for s in self.SETTINGS}
        for key in overrides:
            if key not in known:
                raise ConfigError(f"unknown {self.NAME} key {key!r}; known keys: {', '.join(sorted(known))}")
        return replace(self, **{_attribute(k): v for k, v in overrides.items()})  # type: ignore[type-var]


def _attribute(key: str) -> str:
    return key.replace(".", "_")


def _flatten(values: Mapping[str, Any], prefix: str = "", depth: int = 1) -> dict[str, Any]:
    if depth > MAX_NESTING:
        raise ConfigError(f"{prefix.rstrip('.')}: objects nested more than {MAX_NESTING} levels deep")
    flat: dict[str, Any] = {}
    for key, value in values.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{full}.", depth + 1))
        else:
            flat[full] = value
    return flat


def _default(settings: tuple[Setting, ...], attribute: str) -> Any:
    """The default of the setting behind a config attribute: defaults are written once, in the settings."""
    return next(s.default for s in settings if _attribute(s.key) == attribute)


@dataclass(frozen=True)
class ProcessingConfig(_Config):
    """The nine processing settings (docs/processing.md; see :data:`PROCESSING_SETTINGS`)."""

    SETTINGS = PROCESSING_SETTINGS
    NAME = "processing"

    edge_bandwidth_reduction: float = _default(PROCESSING_SETTINGS, "edge_bandwidth_reduction")
    node_bandwidth_reduction: float = _default(PROCESSING_SETTINGS, "node_bandwidth_reduction")
    edge_importance_type: int = _default(PROCESSING_SETTINGS, "edge_importance_type")
    layer_distance: float = _default(PROCESSING_SETTINGS, "layer_distance")
    layer_width: float = _default(PROCESSING_SETTINGS, "layer_width")
    prune_percentage: float = _default(PROCESSING_SETTINGS, "prune_percentage")
    sampling_rate: float = _default(PROCESSING_SETTINGS, "sampling_rate")
    smoothing: bool = _default(PROCESSING_SETTINGS, "smoothing")
    smoothing_iterations: int = _default(PROCESSING_SETTINGS, "smoothing_iterations")


@dataclass(frozen=True)
class RenderConfig(_Config):
    """Render modes and the six shader settings for nodes and for edges (docs/viewer.md)."""

    SETTINGS = RENDER_SETTINGS
    NAME = "rendering"

    node_mode: str = _default(RENDER_SETTINGS, "node_mode")
    edge_mode: str = _default(RENDER_SETTINGS, "edge_mode")
    nodes_size: float = _default(RENDER_SETTINGS, "nodes_size")
    nodes_base_opacity: float = _default(RENDER_SETTINGS, "nodes_base_opacity")
    nodes_importance_opacity: float = _default(RENDER_SETTINGS, "nodes_importance_opacity")
    nodes_depth_opacity: float = _default(RENDER_SETTINGS, "nodes_depth_opacity")
    nodes_depth_exponent: float = _default(RENDER_SETTINGS, "nodes_depth_exponent")
    nodes_importance_threshold: float = _default(RENDER_SETTINGS, "nodes_importance_threshold")
    edges_size: float = _default(RENDER_SETTINGS, "edges_size")
    edges_base_opacity: float = _default(RENDER_SETTINGS, "edges_base_opacity")
    edges_importance_opacity: float = _default(RENDER_SETTINGS, "edges_importance_opacity")
    edges_depth_opacity: float = _default(RENDER_SETTINGS, "edges_depth_opacity")
    edges_depth_exponent: float = _default(RENDER_SETTINGS, "edges_depth_exponent")
    edges_importance_threshold: float = _default(RENDER_SETTINGS, "edges_importance_threshold")


def load_config(config_type: type[C], path: str | os.PathLike[str]) -> C:
    """Read a JSON config file; a missing file gives the defaults, a bad one a :class:`ConfigError`."""
    file = Path(path)
    if not file.exists():
        return config_type()
    if not file.is_file():
        raise ConfigError(f"{file}: not a regular file")
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{file}: larger than {MAX_CONFIG_BYTES} bytes; not a config file")
        values = json.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read ({exc.strerror})") from exc
    except RecursionError as exc:
        raise ConfigError(f"{file}: cannot read JSON (nested too deeply)") from exc
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError also covers a number of over 4 300 digits
        raise ConfigError(f"{file}: cannot read JSON ({str(exc).splitlines()[0]})") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"{file}: expected a JSON object of settings")
    return config_type.from_dict(values, source=str(file))


def save_config(config: _Config, path: str | os.PathLike[str]) -> None:
    """Write a config as indented JSON, atomically."""
    from nnscape.files import atomic_write_bytes

    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(file, (json.dumps(config.to_dict(), indent=2) + "\n").encode())


def parse_overrides(assignments: Iterable[str], settings: Sequence[Setting]) -> dict[str, Any]:
    """Turn ``["key=value", …]`` into typed values (JSON literals, bare words as strings), checked."""
    by_key = {s.key: s for s in settings}
    overrides: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(f"--set {assignment!r}: expected key=value")
        if key not in by_key:
            raise ConfigError(f"--set {key}: unknown key; known keys: {', '.join(sorted(by_key))}")
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # not JSON (or too deep, or a number too long): a bare word
            value = text.strip()
        overrides[key] = by_key[key].check(value)
    return overrides
