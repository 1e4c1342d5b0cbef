"""What every route needs: the served folder, the job runner and where configs are kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from nnscape.server.folder import NetworkFolder
from nnscape.server.runner import JobManager

__all__ = ["ServerState", "State"]


@dataclass(frozen=True)
class ServerState:
    """One per app, stored as ``app.state.nnscape``."""

    folder: NetworkFolder
    jobs: JobManager
    config_folder: Path
    initial: str | None


def _server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.nnscape
    return state


State = Annotated[ServerState, Depends(_server_state)]
