"""Processing jobs through the API: start, progress events, status, stop, failure, and nothing half-written.

Most tests drive a stand-in for ``nnscape.processing.process`` that the test can hold and release, so that
every state is reached on purpose and fast; one test runs the real processing on a tiny network.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nnscape.config import ProcessingConfig
from nnscape.errors import FormatError
from nnscape.generate import random_network
from nnscape.io import loads
from nnscape.network import Network
from nnscape.progress import ProgressCallback, ProgressEvent, check_cancelled, report
from nnscape.server import create_app, runner
from test_server import straight_processed

BASE_URL = "http://127.0.0.1"
WAIT_S = 30.0
# Settings that make the real processing of a tiny network take about a second.
FAST_PROCESSING = {
    "edge_bandwidth_reduction": 0.3,
    "node_bandwidth_reduction": 0.3,
    "sampling_rate": 5.0,
    "smoothing_iterations": 1,
}


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class FakeProcessing:
    """Stands in for ``process``: reports ``phases`` (one step each), waiting for ``release`` before each."""

    def __init__(self, phases: tuple[str, ...] = ("nodes", "edges"), *, hold: bool = False) -> None:
        self.phases = phases
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.started = threading.Event()
        self.calls: list[tuple[ProcessingConfig | None, int]] = []
        self.error: Exception | None = None
        # A processing that never looks at ``cancel`` (nor reports progress, which would look for it).
        self.ignore_cancel = False

    def __call__(
        self,
        network: Network,
        config: ProcessingConfig | None = None,
        *,
        seed: int = 0,
        device: Any = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Network:
        self.calls.append((config, seed))
        self.started.set()
        for phase in self.phases:
            while not self.release.wait(0.01):
                if not self.ignore_cancel:
                    check_cancelled(cancel)
            report(progress if not self.ignore_cancel else None, phase, 1, 1, bandwidth=0.5)
        if self.error is not None:
            raise self.error
        return straight_processed(network)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    served = tmp_path / "served"
    served.mkdir()
    random_network([4, 3, 2], seed=1).save(served / "tiny.nnscape")
    (served / "broken.nnscape").write_bytes(b"\0" * 16)
    return served


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProcessing:
    stand_in = FakeProcessing()
    monkeypatch.setattr(runner, "_default_process", lambda: stand_in)
    return stand_in


@pytest.fixture
def client(folder: Path) -> Iterator[TestClient]:
    with TestClient(create_app(folder), base_url=BASE_URL) as test_client:
        yield test_client


def start(client: TestClient, **body: Any) -> str:
    response = client.post("/api/jobs", json={"network": "tiny.nnscape", **body})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


def final_status(client: TestClient, job_id: str) -> dict[str, Any]:
    wait_until(lambda: client.get(f"/api/jobs/{job_id}").json()["state"] in ("done", "failed", "cancelled"), "end")
    status: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
    return status


def files(folder: Path) -> list[str]:
    """Everything in the folder, temporary files included."""
    return sorted(os.listdir(folder))


def test_a_job_reports_its_phases_and_saves_a_new_processed_file(
    client: TestClient, folder: Path, fake: FakeProcessing
) -> None:
    job_id = start(client, config={"prune_percentage": 0.25}, seed=3)
    status = final_status(client, job_id)
    assert status == {
        "id": job_id,
        "network": "tiny.nnscape",
        "state": "done",
        "phase": "edges",
        "step": 1,
        "total": 1,
        "values": {"bandwidth": 0.5},
        "output": "tiny.processed.nnscape",
        "error": None,
    }
    assert fake.calls == [(ProcessingConfig(prune_percentage=0.25), 3)]
    assert loads(client.get("/api/networks/tiny.processed.nnscape").content).kind == "processed"
    assert client.get("/api/networks").json()[0]["name"] == "tiny.processed.nnscape"


def test_event_stream_sends_each_phase_then_the_final_state(
    client: TestClient, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = FakeProcessing(("layout", "nodes", "edges"), hold=True)
    monkeypatch.setattr(runner, "_default_process", lambda: held)
    job_id = start(client)
    with client.stream("GET", f"/api/jobs/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        held.release.set()
        events = [json.loads(line[len("data: ") :]) for line in response.iter_lines() if line.startswith("data: ")]
    phases = [event["phase"] for event in events if event["phase"]]
    assert [phase for i, phase in enumerate(phases) if phases.index(phase) == i] == ["layout", "nodes", "edges"]
    assert events[-1]["state"] == "done"
    assert events[-1]["output"] == "tiny.processed.nnscape"
    assert all(event["state"] in ("queued", "running") for event in events[:-1])


def test_an_idle_event_stream_sends_keep_alive_comments(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    held = FakeProcessing(hold=True)
    monkeypatch.setattr(runner, "_default_process", lambda: held)
    monkeypatch.setattr(runner, "KEEPALIVE_S", 0.02)
    job_id = start(client)
    with client.stream("GET", f"/api/jobs/{job_id}/events") as response:
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
        assert ": keep-alive" in [next(lines) for _ in range(3)]
        held.release.set()
        assert json.loads([line for line in lines if line.startswith("data: ")][-1][6:])["state"] == "done"


def test_event_stream_of_a_finished_job_is_its_final_state(client: TestClient, fake: FakeProcessing) -> None:
    job_id = start(client)
    final = final_status(client, job_id)
    with client.stream("GET", f"/api/jobs/{job_id}/events") as response:
        lines = [line for line in response.iter_lines() if line]
    assert [json.loads(line[len("data: ") :]) for line in lines] == [final]


def test_figures_that_are_not_finite_are_left_out_of_the_status() -> None:
    job = runner.Job("id", "tiny.nnscape", "out.nnscape", ProcessingConfig(), 0, None)
    job.on_progress(ProgressEvent("edges", 1, 2, {"bandwidth": 0.5, "loss": float("nan"), "ink": float("inf")}))
    assert job.snapshot()["values"] == {"bandwidth": 0.5}


def test_a_stopped_job_writes_nothing(client: TestClient, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    held = FakeProcessing(hold=True)
    monkeypatch.setattr(runner, "_default_process", lambda: held)
    before = files(folder)
    job_id = start(client)
    assert held.started.wait(WAIT_S)
    assert client.get(f"/api/jobs/{job_id}").json()["state"] == "running"
    response = client.delete(f"/api/jobs/{job_id}")
    assert response.status_code == 200
    status = final_status(client, job_id)
    assert status["state"] == "cancelled"
    assert status["output"] is None
    assert files(folder) == before


def test_a_stop_after_the_last_iteration_still_writes_nothing(
    client: TestClient, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stubborn = FakeProcessing(hold=True)
    stubborn.ignore_cancel = True
    monkeypatch.setattr(runner, "_default_process", lambda: stubborn)
    before = files(folder)
    job_id = start(client)
    assert stubborn.started.wait(WAIT_S)
    client.delete(f"/api/jobs/{job_id}")
    stubborn.release.set()
    assert final_status(client, job_id)["state"] == "cancelled"
    assert files(folder) == before


def test_a_queued_job_is_stopped_at_once_and_never_runs(
    client: TestClient, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = FakeProcessing(hold=True)
    monkeypatch.setattr(runner, "_default_process", lambda: held)
    first = start(client)
    assert held.started.wait(WAIT_S)
    second = start(client, output="other")
    assert client.get(f"/api/jobs/{second}").json()["state"] == "queued"
    assert client.delete(f"/api/jobs/{second}").json()["state"] == "cancelled"
    held.release.set()
    assert final_status(client, first)["state"] == "done"
    assert len(held.calls) == 1
    assert "other.nnscape" not in files(folder)


def test_stopping_a_finished_job_changes_nothing(client: TestClient, fake: FakeProcessing) -> None:
    job_id = start(client)
    final = final_status(client, job_id)
    assert client.delete(f"/api/jobs/{job_id}").json() == final


def test_stopping_the_server_stops_its_jobs(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    held = FakeProcessing(hold=True)
    monkeypatch.setattr(runner, "_default_process", lambda: held)
    before = files(folder)
    app = create_app(folder)
    with TestClient(app, base_url=BASE_URL) as client:
        job_id = start(client)
        assert held.started.wait(WAIT_S)
    job = app.state.nnscape.jobs.get(job_id)
    wait_until(lambda: job.state == "cancelled", "the job to stop")
    assert files(folder) == before


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (FormatError("edge_points: not finite"), "edge_points: not finite"),
        (RuntimeError("boom"), "internal error: RuntimeError: boom"),
    ],
)
def test_a_failing_job_reports_why_and_writes_nothing(
    client: TestClient, folder: Path, fake: FakeProcessing, error: Exception, message: str
) -> None:
    fake.error = error
    before = files(folder)
    status = final_status(client, start(client))
    assert status["state"] == "failed"
    assert status["error"] == message
    assert files(folder) == before


def test_without_a_config_the_saved_one_is_used(client: TestClient, fake: FakeProcessing) -> None:
    client.put("/api/config/processing", json={"sampling_rate": 7})
    final_status(client, start(client))
    assert fake.calls == [(ProcessingConfig(sampling_rate=7.0), 0)]


def test_an_output_name_is_kept_and_never_overwrites(client: TestClient, folder: Path, fake: FakeProcessing) -> None:
    assert final_status(client, start(client, output="mine"))["output"] == "mine.nnscape"
    assert final_status(client, start(client, output="mine.nnscape"))["output"] == "mine-2.nnscape"
    assert final_status(client, start(client))["output"] == "tiny.processed.nnscape"
    assert final_status(client, start(client))["output"] == "tiny.processed-2.nnscape"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"network": "missing.nnscape"}, 404, "missing.nnscape: no such network"),
        ({"network": "../tiny.nnscape"}, 400, "bare file name"),
        ({"network": "/etc/passwd"}, 400, "bare file name"),
        ({"network": "broken.nnscape"}, 400, "broken.nnscape: not a .nnscape file"),
        ({"network": "tiny.nnscape", "config": {"prune_percentage": 2}}, 422, "config: prune_percentage: 2"),
        ({"network": "tiny.nnscape", "config": {"bandwidth": 1}}, 422, "unknown processing key 'bandwidth'"),
        ({"network": "tiny.nnscape", "config": [0.9]}, 422, "config: Input should be a valid dictionary"),
        ({"network": "tiny.nnscape", "output": "../out"}, 400, "bare file name"),
        ({"network": "tiny.nnscape", "seed": "1"}, 422, "seed: Input should be a valid integer"),
        ({"network": "tiny.nnscape", "speed": 2}, 422, "speed: Extra inputs are not permitted"),
        ({"network": 3}, 422, "network: Input should be a valid string"),
    ],
)
def test_a_bad_job_request_is_refused(
    client: TestClient, fake: FakeProcessing, body: dict[str, Any], status: int, message: str
) -> None:
    response = client.post("/api/jobs", json=body)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert fake.calls == []


@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("GET", "/events"), ("DELETE", "")])
def test_an_unknown_job_is_404(client: TestClient, method: str, suffix: str) -> None:
    response = client.request(method, f"/api/jobs/0123abcd{suffix}")
    assert response.status_code == 404
    assert "no such job" in response.json()["detail"]


def test_a_real_processing_job_end_to_end(client: TestClient, folder: Path) -> None:
    pytest.importorskip("nnscape.processing")
    status = final_status(client, start(client, config=FAST_PROCESSING))
    assert status["state"] == "done", status["error"]
    assert status["total"] >= 1
    network = loads((folder / status["output"]).read_bytes())
    assert network.kind == "processed"
    assert json.loads(network.metadata["processing_config"])["sampling_rate"] == FAST_PROCESSING["sampling_rate"]
    entry = next(e for e in client.get("/api/networks").json() if e["name"] == status["output"])
    assert entry["kind"] == "processed"
    assert entry["samples"] == network.n_samples


def test_a_real_processing_job_stops_when_asked(client: TestClient, folder: Path) -> None:
    pytest.importorskip("nnscape.processing")
    random_network([30, 20, 5], seed=0).save(folder / "larger.nnscape")
    before = files(folder)
    response = client.post("/api/jobs", json={"network": "larger.nnscape", "config": {}})  # defaults: many steps
    job_id = response.json()["id"]
    wait_until(lambda: client.get(f"/api/jobs/{job_id}").json()["step"] >= 1, "the first progress step")
    client.delete(f"/api/jobs/{job_id}")
    status = final_status(client, job_id)
    assert status["state"] == "cancelled"
    assert status["step"] < status["total"] or status["phase"] != "edges"
    assert files(folder) == before
