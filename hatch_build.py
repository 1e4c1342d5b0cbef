"""Hatchling build hook: bundle the browser viewer (web/) into the package before it is built.

``pip install .`` and ``pip install -e .`` from a clone run ``npm ci`` (only when ``web/node_modules`` is
missing) and ``npm run build`` in ``web/``, which writes ``src/nnscape/server/static/`` (index.html and one
JavaScript bundle with three.js, lil-gui and the shaders; nothing is fetched at run time). That folder is
gitignored and declared as a build artifact in pyproject.toml, so wheels and sdists carry it. Building a wheel
from an sdist that already holds the bundle needs no Node.js.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WEB_FOLDER = "web"
STATIC_FOLDER = Path("src", "nnscape", "server", "static")
BUNDLE_MARKER = "index.html"
# Set to 1 to reuse an existing bundle (e.g. while iterating on the Python side only).
SKIP_VARIABLE = "NNSCAPE_SKIP_VIEWER_BUILD"


class ViewerBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Runs the viewer's npm build for every wheel, editable install and sdist."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        web = root / WEB_FOLDER
        bundle = root / STATIC_FOLDER / BUNDLE_MARKER
        from_sdist = not (web / "package.json").is_file()
        if (from_sdist or os.environ.get(SKIP_VARIABLE) == "1") and bundle.is_file():
            return
        if from_sdist:
            raise RuntimeError(f"nnscape: neither the viewer sources ({web}) nor a built viewer ({bundle}) exist")
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "nnscape: installing from source builds the browser viewer and needs Node.js 18+ with npm on the "
                "PATH (https://nodejs.org, or e.g. `apt-get install nodejs npm`); or install a released wheel"
            )
        if not (web / "node_modules").is_dir():
            self._run([npm, "ci", "--no-audit", "--no-fund"], web)
        self._run([npm, "run", "build"], web)
        if not bundle.is_file():
            raise RuntimeError(f"nnscape: the viewer build finished but {bundle} is missing")

    def _run(self, command: list[str], folder: Path) -> None:
        self.app.display_info(f"nnscape viewer: {' '.join(command[1:])} in {folder}")
        try:
            subprocess.run(command, cwd=folder, check=True)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"nnscape: `{' '.join(command)}` failed in {folder} (exit {exc.returncode})") from exc
