"""Exports of a network for use without nnscape's server: a standalone HTML page, a PNG render, glTF
geometry, importance tables (CSV) and Model Explorer node data (JSON). :func:`export` picks by file suffix."""

from __future__ import annotations

import os
from pathlib import Path

from nnscape.errors import NnscapeError
from nnscape.export.gltf import export_gltf
from nnscape.export.html import export_html
from nnscape.export.payload import NetworkSource, ViewOptions
from nnscape.export.png import DEFAULT_SIZE, export_png
from nnscape.export.tables import TABLES, Table, export_table

__all__ = ["FORMATS", "TABLES", "ViewOptions", "export", "export_gltf", "export_html", "export_png", "export_table"]

FORMATS = (".html", ".png", ".glb", ".gltf", ".csv", ".json")


def export(
    network: NetworkSource,
    out: str | os.PathLike[str],
    *,
    view: ViewOptions | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    table: Table = "edges",
) -> Path:
    """Write ``network`` (a Network or a ``.nnscape`` path) to ``out`` in the format its suffix names.

    ``view`` (render settings, class view, camera) applies to .html and .png, ``size`` to .png, ``table``
    (``edges``, ``nodes`` or ``layers``) to .csv.
    """
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix == ".html":
        return export_html(network, path, view=view)
    if suffix == ".png":
        return export_png(network, path, size=size, view=view)
    if suffix in (".glb", ".gltf"):
        return export_gltf(network, path)
    if suffix in (".csv", ".json"):
        return export_table(network, path, table=table)
    raise NnscapeError(f"--out {path}: unknown export format {suffix or '(none)'}; expected {', '.join(FORMATS)}")
