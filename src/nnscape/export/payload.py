"""What a viewer without a server is handed: the network file's bytes, both settings tables, the render values
and how the view starts. The standalone HTML page and the notebook widget carry the same payload."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnscape.config import PROCESSING_SETTINGS, RENDER_SETTINGS, ProcessingConfig, RenderConfig, Setting
from nnscape.errors import ConfigError
from nnscape.io import load
from nnscape.network import Network

__all__ = ["CAMERA_PRESETS", "DEFAULT_CAMERA", "NetworkSource", "ViewOptions", "network_file"]

# The viewer's camera presets (keys 0-9) and the one it starts with.
CAMERA_PRESETS = 10
DEFAULT_CAMERA = 9
SPECIAL_CLASS_VIEWS = ("independent", "all")

NetworkSource = Network | str | os.PathLike[str]


def network_file(network: NetworkSource) -> tuple[str, bytes, Network]:
    """The file name, the ``.nnscape`` bytes and the checked :class:`Network` of a path or a Network."""
    if isinstance(network, Network):
        with tempfile.TemporaryDirectory(prefix="nnscape-") as folder:
            path = Path(folder) / "network.nnscape"
            network.save(path)
            return path.name, path.read_bytes(), network
    path = Path(network)
    checked = load(path)
    return path.name, path.read_bytes(), checked


def _flat(config: RenderConfig | ProcessingConfig, settings: tuple[Setting, ...]) -> dict[str, Any]:
    return {s.key: getattr(config, s.key.replace(".", "_")) for s in settings}


@dataclass(frozen=True)
class ViewOptions:
    """How the viewer starts: render settings, class view, camera preset, orbit.

    ``class_view`` is ``"independent"``, ``"all"``, a class index or a class name (checked against the network
    by :meth:`payload`); ``camera`` a preset 0-9 (9 is the default view).
    """

    render: RenderConfig = field(default_factory=RenderConfig)
    class_view: str | int = "all"
    camera: int = DEFAULT_CAMERA
    rotating: bool = False
    # False for a headless render: no control panel, the network framed on the whole canvas.
    panels: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.camera, bool) or not isinstance(self.camera, int) or not 0 <= self.camera < CAMERA_PRESETS:
            raise ConfigError(f"camera: {self.camera!r} is not a preset; expected 0-{CAMERA_PRESETS - 1}")

    @classmethod
    def create(
        cls,
        *,
        render: RenderConfig | Mapping[str, Any] | None = None,
        class_view: str | int = "all",
        camera: int = DEFAULT_CAMERA,
        rotating: bool = False,
        panels: bool = True,
    ) -> ViewOptions:
        """Options from a RenderConfig or a mapping of render keys (flat dotted or nested), validated."""
        if render is None:
            config = RenderConfig()
        elif isinstance(render, RenderConfig):
            config = render
        else:
            config = RenderConfig.from_dict(render, source="render")
        return cls(render=config, class_view=class_view, camera=camera, rotating=rotating, panels=panels)

    def class_view_for(self, network: Network) -> str | int:
        """The class view checked against ``network``'s classes (a name becomes its index)."""
        view = self.class_view
        if isinstance(view, str) and view in SPECIAL_CLASS_VIEWS:
            return view
        names = list(network.class_names)
        if isinstance(view, str) and view in names:
            return names.index(view)
        if isinstance(view, str) and view.isdigit():
            view = int(view)
        if isinstance(view, int) and not isinstance(view, bool) and 0 <= view < len(names):
            return view
        raise ConfigError(
            f"class view {view!r}: expected 'independent', 'all', a class index 0-{len(names) - 1} or a class "
            f"name ({', '.join(names[:10])}{', …' if len(names) > 10 else ''})"
        )

    def payload(self, name: str, network: Network) -> dict[str, Any]:
        """The JSON the viewer reads (everything but the network's bytes)."""
        return {
            "name": name,
            "render_schema": [s.as_json() for s in RENDER_SETTINGS],
            "processing_schema": [s.as_json() for s in PROCESSING_SETTINGS],
            "render": _flat(self.render, RENDER_SETTINGS),
            "processing": _flat(ProcessingConfig(), PROCESSING_SETTINGS),
            "class_view": self.class_view_for(network),
            "camera": self.camera,
            "rotating": self.rotating,
            "panels": self.panels,
        }
