"""Background processing jobs: a worker thread per job slot, progress fanned out, cancel by event.

A job runs :func:`nnscape.processing.process` on a network already read from the folder. Its state lives in a
:class:`Job`; each change is pushed to every subscriber (one ``asyncio.Queue`` per open event stream, fed with
``call_soon_threadsafe`` from the worker thread). Cancelling sets the job's ``threading.Event``; the processing
stops at its next iteration (and at the next progress report, which checks the event too). The result is
written only after ``process`` has returned, atomically and under a fresh name, so a stopped or failed job
leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from nnscape.config import ProcessingConfig
from nnscape.errors import Cancelled, NnscapeError
from nnscape.network import Network
from nnscape.progress import ProgressCallback, ProgressEvent, check_cancelled
from nnscape.server.errors import ClientError
from nnscape.server.folder import NetworkFolder

__all__ = ["Job", "JobManager", "ProcessFunction"]

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
FINAL_STATES: frozenset[str] = frozenset({"done", "failed", "cancelled"})
# Processing is CPU-bound and already parallel inside; jobs beyond this many wait in the queue.
MAX_RUNNING_JOBS = 1
# Finished jobs kept for status queries; older ones are forgotten.
MAX_FINISHED_JOBS = 100
# Progress events closer together than this are folded into the next one (phase changes always go out).
MIN_EVENT_INTERVAL_S = 0.05
# An idle event stream sends a comment this often so that proxies and browsers keep it open.
KEEPALIVE_S = 15.0


class ProcessFunction(Protocol):
    """The signature of :func:`nnscape.processing.process`."""

    def __call__(
        self,
        network: Network,
        config: ProcessingConfig | None = None,
        *,
        seed: int = 0,
        device: Any = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Network: ...


def _default_process() -> ProcessFunction:
    try:
        from nnscape.processing import process
    except ImportError as exc:
        raise NnscapeError(f"processing is not available in this installation ({exc})") from exc
    return process


@dataclass(eq=False)
class Job:
    """One processing run and its observable state (see :meth:`snapshot`)."""

    id: str
    network_name: str
    output_name: str
    config: ProcessingConfig
    seed: int
    network: Network | None
    cancel: threading.Event = field(default_factory=threading.Event)
    state: JobState = "queued"
    phase: str = ""
    step: int = 0
    total: int = 0
    values: dict[str, float] = field(default_factory=dict)
    output: str | None = None
    error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]] = field(default_factory=list)
    _last_event: float = 0.0

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    def snapshot(self) -> dict[str, Any]:
        """The JSON the API returns for this job."""
        return {
            "id": self.id,
            "network": self.network_name,
            "state": self.state,
            "phase": self.phase,
            "step": self.step,
            "total": self.total,
            "values": dict(self.values),
            "output": self.output,
            "error": self.error,
        }

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue on the running event loop that gets the current state now and every change after it."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        with self._lock:
            queue.put_nowait(self.snapshot())
            if not self.finished:
                self._subscribers.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subscribers = [(loop, q) for loop, q in self._subscribers if q is not queue]

    def on_progress(self, event: ProgressEvent) -> None:
        """Progress callback for the processing: record, publish (rate-limited), stop if cancelled."""
        with self._lock:
            new_phase = event.phase != self.phase
            self.phase, self.step, self.total = event.phase, event.step, event.total
            # JSON has no NaN or infinity; a figure that is not finite is left out rather than break the stream.
            self.values = {key: float(v) for key, v in event.values.items() if math.isfinite(v)}
            now = time.monotonic()
            if new_phase or event.step >= event.total or now - self._last_event >= MIN_EVENT_INTERVAL_S:
                self._last_event = now
                self._publish()
        check_cancelled(self.cancel)

    def start(self) -> bool:
        """Move from queued to running; ``False`` if the job was cancelled while it waited."""
        with self._lock:
            if self.state != "queued":
                return False
            self.state = "running"
            self._publish()
            return True

    def finish(self, state: JobState, *, output: str | None = None, error: str | None = None) -> None:
        """Enter a final state once (later calls are ignored) and release the input network."""
        with self._lock:
            if self.finished:
                return
            self.state, self.output, self.error = state, output, error
            self.network = None
            self._publish()
            self._subscribers.clear()

    def _publish(self) -> None:
        """Push the current state to every subscriber; the caller holds ``_lock``."""
        snapshot = self.snapshot()
        alive = []
        for loop, queue in self._subscribers:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, snapshot)
            except RuntimeError:  # the stream's event loop has closed
                continue
            alive.append((loop, queue))
        self._subscribers = alive


class JobManager:
    """Runs jobs on worker threads and keeps their state for status queries and event streams."""

    def __init__(self, folder: NetworkFolder, *, process: ProcessFunction | None = None) -> None:
        self._folder = folder
        self._process = process
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=MAX_RUNNING_JOBS, thread_name_prefix="nnscape-job")

    def submit(
        self, network: Network, *, network_name: str, output_name: str, config: ProcessingConfig, seed: int
    ) -> Job:
        """Queue processing of ``network``; the result will be saved as ``output_name`` (or a fresh variant)."""
        job = Job(uuid.uuid4().hex, network_name, output_name, config, seed, network)
        with self._lock:
            self._forget_old_jobs()
            self._jobs[job.id] = job
        self._executor.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise ClientError(f"job {job_id!r}: no such job (finished jobs are kept until the server stops)", 404)
        return job

    def cancel(self, job_id: str) -> Job:
        """Ask a job to stop; a queued job is cancelled at once, a running one at its next iteration."""
        job = self.get(job_id)
        job.cancel.set()
        if job.state == "queued":
            job.finish("cancelled", error="cancelled on request")
        return job

    async def events(self, job: Job) -> AsyncIterator[dict[str, Any] | None]:
        """The job's state now and after each change, ending with its final state; ``None`` is a keep-alive."""
        queue = job.subscribe()
        try:
            while True:
                try:
                    snapshot = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except asyncio.TimeoutError:  # the builtin TimeoutError only from Python 3.11
                    yield None
                    continue
                yield snapshot
                if snapshot["state"] in FINAL_STATES:
                    return
        finally:
            job.unsubscribe(queue)

    def shutdown(self) -> None:
        """Stop every job; running ones end at their next iteration and write nothing."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self.cancel(job.id)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Job) -> None:
        if not job.start():
            return
        try:
            process = self._process or _default_process()
            assert job.network is not None  # released only by finish()
            result = process(job.network, job.config, seed=job.seed, progress=job.on_progress, cancel=job.cancel)
            check_cancelled(job.cancel)  # a stop that came after the last iteration still writes nothing
            output = self._folder.save_new(result, job.output_name)
        except Cancelled:
            job.finish("cancelled", error="cancelled on request")
        except NnscapeError as exc:
            job.finish("failed", error=str(exc))
        except Exception as exc:  # a bug in processing must not kill the worker thread silently
            log.exception("processing job %s failed", job.id)
            job.finish("failed", error=f"internal error: {type(exc).__name__}: {exc}")
        else:
            job.finish("done", output=output)

    def _forget_old_jobs(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if job.finished]
        for job_id in finished[: max(0, len(finished) - MAX_FINISHED_JOBS + 1)]:
            del self._jobs[job_id]
