"""``nnscape.show``: the viewer as a notebook widget (anywidget: JupyterLab, Notebook 7, VS Code), no server.

The widget runs the same viewer bundle as the page (``widget.js``, shipped in the package). The network file
goes to the browser once as a binary buffer; ``render`` (flat render settings), ``class_view``, ``camera`` and
``rotating`` are traits kept in step both ways, so setting them in Python changes the picture and changing
them in the widget's panel shows in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nnscape.config import RENDER_SETTINGS, RenderConfig
from nnscape.errors import NnscapeError

try:
    import anywidget
    import traitlets
except ImportError as exc:
    raise NnscapeError("nnscape.show needs anywidget: pip install 'nnscape[notebook]'") from exc
from nnscape.export.payload import DEFAULT_CAMERA, NetworkSource, ViewOptions, network_file
from nnscape.network import Network
from nnscape.server.app import STATIC_DIR

__all__ = ["NetworkWidget", "show"]

WIDGET_BUNDLE = STATIC_DIR / "widget.js"
DEFAULT_HEIGHT = 500
MAX_HEIGHT = 4000


def _bundle() -> str:
    try:
        return WIDGET_BUNDLE.read_text(encoding="utf-8")
    except OSError as exc:
        raise NnscapeError(
            f"the viewer is not built ({WIDGET_BUNDLE} is missing): install nnscape with its viewer "
            "(`pip install .` in a clone with Node.js and npm)"
        ) from exc


class NetworkWidget(anywidget.AnyWidget):
    """The 3D viewer of one network in a notebook; see :func:`show`."""

    network = traitlets.Bytes().tag(sync=True)
    payload = traitlets.Dict().tag(sync=True)
    render = traitlets.Dict().tag(sync=True)
    class_view = traitlets.Union([traitlets.Unicode(), traitlets.Int()], default_value="all").tag(sync=True)
    camera = traitlets.Int(DEFAULT_CAMERA).tag(sync=True)
    rotating = traitlets.Bool(False).tag(sync=True)
    height = traitlets.Int(DEFAULT_HEIGHT).tag(sync=True)

    def __init__(self, network: NetworkSource, *, view: ViewOptions | None = None, height: int = DEFAULT_HEIGHT):
        name, data, checked = network_file(network)
        options = view or ViewOptions()
        self._network = checked
        payload = options.payload(name, checked)
        super().__init__(
            _esm=_bundle(),
            network=data,
            payload={k: payload[k] for k in ("name", "render_schema", "processing_schema", "processing")},
            render=payload["render"],
            class_view=payload["class_view"],
            camera=options.camera,
            rotating=options.rotating,
            height=height,
        )

    @property
    def shown(self) -> Network:
        """The network the widget shows."""
        return self._network

    @traitlets.validate("render")
    def _check_render(self, proposal: Mapping[str, Any]) -> dict[str, Any]:
        config = RenderConfig.from_dict(proposal["value"], source="render")
        return {s.key: getattr(config, s.key.replace(".", "_")) for s in RENDER_SETTINGS}

    @traitlets.validate("class_view")
    def _check_class_view(self, proposal: Mapping[str, Any]) -> str | int:
        return ViewOptions(class_view=proposal["value"]).class_view_for(self._network)

    @traitlets.validate("camera")
    def _check_camera(self, proposal: Mapping[str, Any]) -> int:
        return ViewOptions(camera=proposal["value"]).camera

    @traitlets.validate("height")
    def _check_height(self, proposal: Mapping[str, Any]) -> int:
        height = proposal["value"]
        if not 0 < height <= MAX_HEIGHT:
            raise NnscapeError(f"height {height}: expected 1-{MAX_HEIGHT} pixels")
        return int(height)

    def set_render(self, **settings: Any) -> None:
        """Change render settings by attribute name (``edges_size=0.03`` for ``edges.size``)."""
        by_attribute = {s.key.replace(".", "_"): s.key for s in RENDER_SETTINGS}
        unknown = sorted(set(settings) - set(by_attribute))
        if unknown:
            raise NnscapeError(f"unknown render setting {unknown[0]!r}; known: {', '.join(sorted(by_attribute))}")
        self.render = {**self.render, **{by_attribute[k]: v for k, v in settings.items()}}


def show(
    network: NetworkSource,
    *,
    render: RenderConfig | Mapping[str, Any] | None = None,
    class_view: str | int = "all",
    camera: int = DEFAULT_CAMERA,
    rotating: bool = False,
    height: int = DEFAULT_HEIGHT,
) -> NetworkWidget:
    """A notebook widget showing ``network`` (a Network or a ``.nnscape`` path); display it as a cell's value.

    ``render``: a RenderConfig or render keys (``{"edge_mode": "line", "edges.size": 0.03}``); ``class_view``:
    ``"independent"``, ``"all"``, a class index or name; ``camera``: preset 0-9; ``height`` in pixels.
    """
    view = ViewOptions.create(render=render, class_view=class_view, camera=camera, rotating=rotating)
    return NetworkWidget(network, view=view, height=height)
