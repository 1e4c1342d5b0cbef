"""Hostile requests against the served folder: every one is a 4xx with one line naming the culprit, never a 500.

Bodies are sent as raw bytes (not through a JSON encoder), the way a hostile client would: NaN and infinity,
5 000-digit numbers, nesting 100 000 levels deep, names too long in bytes, sizes too large to allocate.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nnscape.generate import random_network
from nnscape.limits import MAX_EDGES, MAX_GENERATED_BYTES, MAX_IMPORTANCE_VALUES
from nnscape.server import create_app
from nnscape.server.body_limit import MAX_BODY_BYTES

CJK_80 = "漢" * 80
DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 5_000 + "1" + "}" * 5_000
HUGE = "9" * 5_000


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    random_network([4, 3, 2]).save(tmp_path / "net.nnscape")
    return tmp_path


@pytest.fixture
def client(folder: Path) -> Iterator[TestClient]:
    with TestClient(create_app(folder), base_url="http://127.0.0.1", raise_server_exceptions=False) as test_client:
        yield test_client


def refused(client: TestClient, method: str, url: str, body: str, status: int | None = None) -> str:
    """Send ``body`` raw; assert a 4xx (``status`` if given) with a one-line detail; return the detail."""
    response = client.request(method, url, content=body.encode(), headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text[:300]
    if status is not None:
        assert response.status_code == status, response.text[:300]
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert "\n" not in detail
    assert len(detail) < 1000
    return detail


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"smoothing_iterations": NaN}', "smoothing_iterations: NaN is not allowed"),
        ('{"smoothing_iterations": Infinity}', "smoothing_iterations: Infinity is not allowed"),
        ('{"smoothing_iterations": -Infinity}', "smoothing_iterations: -Infinity is not allowed"),
        ('{"edge_importance_type": ' + "9" * 4_000 + "}", "edge_importance_type: an integer of about"),
        ('{"edge_importance_type": 1.5}', "edge_importance_type: 1.5 is not allowed"),
        ('{"edge_bandwidth_reduction": 0.9999999999999999}', "0.9999999999999999 is not allowed; expected a value in"),
        ('{"smoothing_iterations": ' + HUGE + "}", "body: cannot read the JSON (Exceeds the limit (4300 digits)"),
        (DEEP_ARRAY, "body: JSON nested too deeply"),
        (DEEP_OBJECT, "body: JSON nested too deeply"),
        ('{"edges": ' + '{"a":' * 10 + "1" + "}" * 10 + "}", "nested more than 4 levels deep"),
    ],
)
def test_config_bodies_are_refused_in_one_line(client: TestClient, folder: Path, body: str, message: str) -> None:
    detail = refused(client, "PUT", "/api/config/processing", body)
    assert message in detail
    assert not (folder / "configs" / "processing.json").exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"network": "net.nnscape", "config": {"smoothing_iterations": NaN}}', "smoothing_iterations: NaN"),
        ('{"network": "net.nnscape", "config": {"node_bandwidth_reduction": 0.9999999999999999}}', "(0, 0.999]"),
        ('{"network": "net.nnscape", "config": ' + DEEP_OBJECT + "}", "body: JSON nested too deeply"),
        ('{"network": "net.nnscape", "seed": ' + HUGE + "}", "body: cannot read the JSON"),
        ('{"network": "net.nnscape", "seed": NaN}', "seed"),
        ('{"network": "net.nnscape", "seed": 4294967296}', "seed"),
        ('{"network": "net.nnscape", "output": "' + CJK_80 + '"}', "bytes long; at most 200 bytes are allowed"),
        ('{"network": "' + CJK_80 + '.nnscape"}', ""),
    ],
)
def test_job_requests_are_refused_before_queueing(client: TestClient, folder: Path, body: str, message: str) -> None:
    before = sorted(path.name for path in folder.iterdir())
    detail = refused(client, "POST", "/api/jobs", body)
    assert message in detail
    assert sorted(path.name for path in folder.iterdir()) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"layers": [1, 100000]}', f"at most {MAX_IMPORTANCE_VALUES} are allowed"),
        ('{"layers": [1, 9000]}', f"at most {MAX_GENERATED_BYTES} bytes are allowed"),
        ('{"layers": [100000, 100000, 2]}', f"at most {MAX_EDGES} are allowed"),
        ('{"layers": [4, 3], "classes": ' + HUGE + "}", "body: cannot read the JSON"),
        ('{"layers": [4, ' + HUGE + "]}", "body: cannot read the JSON"),
        ('{"layers": [4, 3], "seed": -1}', "seed"),
        ('{"layers": [4, 3], "name": "' + CJK_80 + '"}', "bytes long; at most 200 bytes are allowed"),
        (DEEP_ARRAY, "body: JSON nested too deeply"),
    ],
)
def test_generate_requests_are_bounded(client: TestClient, folder: Path, body: str, message: str) -> None:
    before = sorted(path.name for path in folder.iterdir())
    detail = refused(client, "POST", "/api/generate", body)
    assert message in detail
    assert sorted(path.name for path in folder.iterdir()) == before


def test_a_folder_that_cannot_be_written_is_refused_before_the_work(
    client: TestClient, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    def no_space(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", no_space)
    for url, body in (("/api/generate", '{"layers": [4, 3]}'), ("/api/jobs", '{"network": "net.nnscape"}')):
        detail = refused(client, "POST", url, body)
        assert "cannot write in" in detail
        assert "No space left on device" in detail


def test_the_slowest_allowed_schedule_stops_on_request(client: TestClient) -> None:
    """At the bound on the bandwidth factor the job runs thousands of iterations; Stop ends it within one."""
    slowest = {"node_bandwidth_reduction": 0.999, "edge_bandwidth_reduction": 0.999}
    response = client.post("/api/jobs", json={"network": "net.nnscape", "config": slowest})
    assert response.status_code == 202, response.text
    job = response.json()["id"]
    deadline = time.monotonic() + 60
    while client.get(f"/api/jobs/{job}").json()["step"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    status = client.get(f"/api/jobs/{job}").json()
    assert status["state"] == "running"
    assert status["total"] > 1000  # the whole schedule is known up front, and long
    client.delete(f"/api/jobs/{job}")
    while client.get(f"/api/jobs/{job}").json()["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get(f"/api/jobs/{job}").json()["state"] == "cancelled"


def test_a_body_over_the_limit_is_refused_by_its_declared_length(client: TestClient) -> None:
    detail = refused(client, "PUT", "/api/config/processing", " " * (MAX_BODY_BYTES + 1), status=413)
    assert f"body: over {MAX_BODY_BYTES} bytes" in detail


def test_a_chunked_body_is_refused_once_it_passes_the_limit(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # sent chunked (no Content-Length): 4 MiB in all, 4 times the limit
        for _ in range(64):
            yield b" " * (64 * 1024)

    response = client.put("/api/config/processing", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text[:300]
    assert f"body: over {MAX_BODY_BYTES} bytes" in response.json()["detail"]
