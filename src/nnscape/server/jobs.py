"""Routes for processing jobs: start, status, server-sent progress events, stop."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from nnscape.config import ProcessingConfig, load_config
from nnscape.files import check_writable
from nnscape.limits import MAX_SEED
from nnscape.server.folder import check_new_name, processed_name, with_suffix
from nnscape.server.runner import Job
from nnscape.server.state import State

__all__ = ["router"]

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

JOB_ACCEPTED_STATUS = 202


class JobRequest(BaseModel):
    """Body of ``POST /api/jobs``.

    ``config`` holds processing keys (missing ones take their defaults); without it the saved
    ``configs/processing.json`` is used. ``output`` defaults to ``<stem>.processed.nnscape``; a taken name gets a
    ``-2``, ``-3`` … suffix, so nothing is overwritten.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    network: str = Field(min_length=1)
    config: dict[str, Any] | None = None
    output: str | None = Field(default=None, min_length=1)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)


@router.post("", status_code=JOB_ACCEPTED_STATUS)
def start_job(request: JobRequest, state: State) -> dict[str, str]:
    """Check the request, read the network, and queue its processing; answers the job id."""
    if request.config is None:
        config = load_config(ProcessingConfig, state.config_folder / f"{ProcessingConfig.NAME}.json")
    else:
        config = ProcessingConfig.from_dict(request.config, source="config")
    state.folder.resolve(request.network)  # the cheap checks first: name, then output name, then reading
    output = with_suffix(request.output) if request.output else processed_name(request.network)
    check_new_name(output)
    check_writable(state.folder.root / output, "output")
    network = state.folder.load(request.network)
    job = state.jobs.submit(network, network_name=request.network, output_name=output, config=config, seed=request.seed)
    return {"id": job.id}


@router.get("/{job_id}")
def job_status(job_id: str, state: State) -> dict[str, Any]:
    """``{id, network, state, phase, step, total, values, output, error}``."""
    return state.jobs.get(job_id).snapshot()


@router.get("/{job_id}/events", response_class=StreamingResponse)
def job_events(job_id: str, state: State) -> StreamingResponse:
    """``text/event-stream``: the status now, after each progress step, and finally the end state."""
    job = state.jobs.get(job_id)  # before streaming, so an unknown id is a plain 404
    return StreamingResponse(
        _server_sent_events(state, job),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.delete("/{job_id}")
def cancel_job(job_id: str, state: State) -> dict[str, Any]:
    """Stop a job (at its next iteration); answers its status. Stopping a finished job changes nothing."""
    return state.jobs.cancel(job_id).snapshot()


async def _server_sent_events(state: State, job: Job) -> AsyncIterator[str]:
    async for snapshot in state.jobs.events(job):
        yield ": keep-alive\n\n" if snapshot is None else f"data: {json.dumps(snapshot)}\n\n"
