"""The local server behind ``nnscape view``: a FastAPI app over a folder of .nnscape files and the viewer.

``create_app`` builds the app; ``serve_in_thread`` runs it with uvicorn on a background thread (tests, the
interactive ``view``); ``view`` is the Python API behind ``nnscape.view``.
"""

from __future__ import annotations

from nnscape.server.app import create_app
from nnscape.server.serve import Viewer, serve_in_thread, view

__all__ = ["Viewer", "create_app", "serve_in_thread", "view"]
