"""The FastAPI application: API routers, the viewer's page and its static bundle, safety middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from nnscape import __version__
from nnscape.errors import NnscapeError
from nnscape.server import config, jobs, networks
from nnscape.server.access import TokenMiddleware
from nnscape.server.body_limit import BodyLimitMiddleware
from nnscape.server.errors import install_error_handlers
from nnscape.server.folder import NetworkFolder, check_plain_name
from nnscape.server.runner import JobManager
from nnscape.server.state import ServerState

__all__ = ["LOOPBACK_HOSTS", "STATIC_DIR", "create_app"]

# The viewer bundle, built from web/ by the package build (never from the served folder).
STATIC_DIR = Path(__file__).parent / "static"
INDEX_FILE = "index.html"
# Where the page finds the bundle (its index.html loads ./static/viewer.js).
STATIC_ROUTE = "/static"
NOT_BUILT_STATUS = 503
NOT_BUILT_MESSAGE = (
    "The nnscape viewer was not built, so there is no page to show ({index} is missing).\n"
    "Install nnscape from a clone with Node.js and npm on the PATH: `pip install .` bundles web/ into the "
    "package (`pip install -e .` for a development install). The API under /api/ works without it.\n"
)
# Host headers accepted by default: a page on another site cannot reach this server by DNS rebinding.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def create_app(
    folder: Path,
    *,
    initial: str | None = None,
    config_folder: Path | None = None,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
    token: str | None = None,
) -> FastAPI:
    """The viewer's server over ``folder``.

    ``initial`` is the file the page opens first (a name in the folder); configs live in ``config_folder``
    (default ``folder/configs``); requests whose Host header is not in ``allowed_hosts`` are refused (``"*"``
    allows any, for ``--host`` on a network); with ``token`` every request must carry it (see
    :mod:`nnscape.server.access`).
    """
    network_folder = NetworkFolder(Path(folder))
    if initial is not None:
        check_plain_name(initial)
        if initial not in network_folder.names():
            raise NnscapeError(f"{initial}: not a network file in {network_folder.root}")
    job_manager = JobManager(network_folder)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        job_manager.shutdown()

    app = FastAPI(title="nnscape", version=__version__, lifespan=lifespan, docs_url="/api/docs", redoc_url=None)
    app.state.nnscape = ServerState(
        folder=network_folder,
        jobs=job_manager,
        config_folder=Path(config_folder) if config_folder is not None else network_folder.root / "configs",
        initial=initial,
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    if token is not None:
        app.add_middleware(TokenMiddleware, token=token)
    app.add_middleware(BodyLimitMiddleware)
    install_error_handlers(app)
    for module in (networks, jobs, config):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        page = STATIC_DIR / INDEX_FILE
        if not page.is_file():
            return PlainTextResponse(NOT_BUILT_MESSAGE.format(index=page), status_code=NOT_BUILT_STATUS)
        # The bundle changes with each build under the same name; always revalidate.
        return FileResponse(page, headers={"Cache-Control": "no-cache"})

    if STATIC_DIR.is_dir():
        app.mount(STATIC_ROUTE, StaticFiles(directory=STATIC_DIR), name="static")
    return app
