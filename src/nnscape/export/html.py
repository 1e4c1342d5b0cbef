"""``nnscape export --out OUT.html``: one self-contained page, the viewer's bundle and the network inside it.

The page opens from ``file://`` with no network access: the bundle is an inline module script and the payload
(``payload.ViewOptions.payload`` plus the file's bytes in base64) a JSON script element the viewer reads
instead of calling a server. Every control that does not need a server stays.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

from nnscape.errors import NnscapeError
from nnscape.export.payload import NetworkSource, ViewOptions, network_file
from nnscape.io import atomic_write_bytes

__all__ = ["export_html", "html_page"]

# The served page's bundle tag (web/index.html), replaced by the inline bundle and the payload.
BUNDLE_TAG = '<script type="module" src="./static/viewer.js"></script>'
BUNDLE_FILE = "viewer.js"
INDEX_FILE = "index.html"
# Matches web/src/source.ts PAYLOAD_ELEMENT.
PAYLOAD_ELEMENT = "nnscape-payload"


def _static_dir() -> Path:
    from nnscape.server.app import STATIC_DIR

    return STATIC_DIR


def _inline(bundle: str) -> str:
    """The bundle safe inside a <script> element: "</script" (only ever in a string or regex) cannot end it."""
    return re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)


def html_page(network: NetworkSource, *, view: ViewOptions | None = None) -> str:
    """The standalone page for ``network`` (a Network or a ``.nnscape`` path) as one HTML string."""
    static = _static_dir()
    try:
        template = (static / INDEX_FILE).read_text(encoding="utf-8")
        bundle = (static / BUNDLE_FILE).read_text(encoding="utf-8")
    except OSError as exc:
        raise NnscapeError(
            f"the viewer is not built ({static / BUNDLE_FILE} is missing): install nnscape with its viewer "
            "(`pip install .` in a clone with Node.js and npm)"
        ) from exc
    if BUNDLE_TAG not in template:
        raise NnscapeError(f"{static / INDEX_FILE}: no viewer script tag to replace; rebuild the viewer")
    name, data, checked = network_file(network)
    payload = (view or ViewOptions()).payload(name, checked)
    payload["network"] = base64.b64encode(data).decode("ascii")
    # "<" escaped keeps class names from closing the element; JSON.parse reads \u003c back.
    payload_json = json.dumps(payload, separators=(",", ":")).replace("<", "\\u003c")
    scripts = (
        f'<script type="application/json" id="{PAYLOAD_ELEMENT}">{payload_json}</script>\n'
        f'    <script type="module">{_inline(bundle)}</script>'
    )
    title = f"<title>nnscape: {name.replace('&', '&amp;').replace('<', '&lt;')}</title>"
    return template.replace(BUNDLE_TAG, scripts).replace("<title>nnscape</title>", title)


def export_html(network: NetworkSource, out: str | os.PathLike[str], *, view: ViewOptions | None = None) -> Path:
    """Write the standalone page for ``network`` to ``out`` atomically; returns the path."""
    path = Path(out)
    atomic_write_bytes(path, html_page(network, view=view).encode("utf-8"))
    return path
