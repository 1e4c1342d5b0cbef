"""Routes for the network files: list, download, generate, and which one the page opens first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from nnscape.files import check_writable
from nnscape.limits import MAX_LAYERS, MAX_SEED, check_generated_size
from nnscape.server.folder import check_new_name, with_suffix
from nnscape.server.state import State

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["networks"])

MAX_LAYER_SIZE = 100_000


class GenerateRequest(BaseModel):
    """Body of ``POST /api/generate``; see :func:`nnscape.generate.random_network`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    layers: list[Annotated[int, Field(ge=1, le=MAX_LAYER_SIZE)]] = Field(min_length=2, max_length=MAX_LAYERS)
    classes: int | None = Field(default=None, ge=2)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    name: str | None = Field(default=None, min_length=1)


@router.get("/networks")
def list_networks(state: State) -> list[dict[str, Any]]:
    """Every ``*.nnscape`` file in the folder, newest first; broken files carry ``broken`` and ``error``."""
    return state.folder.summaries()


@router.get("/networks/{name:path}", response_class=FileResponse)
def get_network(name: str, state: State) -> FileResponse:
    """The bytes of one listed file."""
    return FileResponse(state.folder.resolve(name), media_type="application/octet-stream")


@router.post("/generate")
def generate(request: GenerateRequest, state: State) -> dict[str, str]:
    """Write a random network into the folder under the requested (or a default) name, never overwriting."""
    from nnscape.generate import random_network

    name = with_suffix(request.name or "random-" + "-".join(map(str, request.layers)))
    check_new_name(name)  # before the work, so a bad name fails fast
    check_generated_size(request.layers, request.classes or request.layers[-1])
    check_writable(state.folder.root / name, "name")
    network = random_network(request.layers, n_classes=request.classes, seed=request.seed)
    return {"name": state.folder.save_new(network, name)}


@router.get("/initial")
def initial_network(state: State) -> dict[str, str | None]:
    """The network the page opens without ``?network=``: the command line's, else newest processed, else newest."""
    if state.initial is not None and state.initial in state.folder.names():
        return {"network": state.initial}
    readable = [entry for entry in state.folder.summaries() if not entry["broken"]]
    processed = [entry for entry in readable if entry["kind"] == "processed"]
    chosen = processed or readable
    return {"network": chosen[0]["name"] if chosen else None}
