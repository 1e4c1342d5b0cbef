"""The server beyond loopback: every route requires the access token, and ``--https`` serves with a
self-signed certificate kept in the user's cache folder."""

from __future__ import annotations

import http.client
import re
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from fastapi import FastAPI
from fastapi.testclient import TestClient

import nnscape
from nnscape.generate import random_network
from nnscape.server import create_app
from nnscape.server.access import TOKEN_COOKIE
from nnscape.server.tls import certificate
from test_server_serve import STARTUP_WAIT_S

TOKEN = "s3cret-token"
UNAUTHORIZED = 401
# Values for the path parameters of the routes, so that each route is reached with a plausible request.
PATH_VALUES = {"name": "a.nnscape", "job_id": "0", "kind": "rendering", "path": "viewer.js"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    served = tmp_path / "served"
    served.mkdir()
    random_network([3, 2], seed=0).save(served / "a.nnscape")
    return served


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Certificates go to a temporary cache folder, never the user's."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


def every_request(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) for every API route (from the app's OpenAPI description, path parameters filled in),
    the page, the bundle and the API's own description pages."""
    requests = [("GET", "/"), ("GET", "/static/viewer.js"), ("GET", "/openapi.json"), ("GET", "/api/docs")]
    for path, operations in app.openapi()["paths"].items():
        filled = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)
        requests.extend((method.upper(), filled) for method in operations)
    return requests


def test_every_route_refuses_a_request_without_the_token(folder: Path) -> None:
    app = create_app(folder, allowed_hosts=("*",), token=TOKEN)
    client = TestClient(app)
    requests = every_request(app)
    assert len(requests) > 10
    assert ("GET", "/") in requests
    assert ("GET", "/static/viewer.js") in requests
    for method, path in requests:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Cookie": f"{TOKEN_COOKIE}=wrong"}):
            response = client.request(method, path, headers=headers)
            assert response.status_code == UNAUTHORIZED, (method, path, headers, response.text)
            assert "token" in response.text
        wrong = client.request(method, path, params={"token": TOKEN[:-1]})
        assert wrong.status_code == UNAUTHORIZED, (method, path)


def test_the_token_in_the_address_opens_the_page_and_a_cookie_carries_it_on(folder: Path) -> None:
    client = TestClient(create_app(folder, allowed_hosts=("*",), token=TOKEN))
    page = client.get("/", params={"token": TOKEN})
    assert page.status_code == 200
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{TOKEN_COOKIE}={TOKEN};")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    # The page's own requests carry only the cookie.
    assert client.get("/api/networks").status_code == 200
    assert client.get("/api/networks/a.nnscape").status_code == 200


def test_a_bearer_header_carries_the_token_for_scripts(folder: Path) -> None:
    client = TestClient(create_app(folder, allowed_hosts=("*",), token=TOKEN))
    response = client.get("/api/networks", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


def test_without_a_token_the_loopback_server_needs_none(folder: Path) -> None:
    assert TestClient(create_app(folder), base_url="http://127.0.0.1").get("/api/networks").status_code == 200


def status_of(url: str, context: ssl.SSLContext | None = None) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_view_on_every_address_prints_and_requires_a_token(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    viewer = nnscape.view(folder, host="0.0.0.0", open_browser=False, block=False)
    assert viewer is not None
    try:
        printed = capsys.readouterr().out
        assert viewer.url in printed
        base, token = viewer.url.split("?token=")
        assert base.startswith("http://127.0.0.1:")
        assert len(token) >= 20
        assert "from another device: http://" in printed
        assert status_of(viewer.url) == 200
        assert status_of(base) == UNAUTHORIZED
        assert status_of(base + "api/networks") == UNAUTHORIZED
        assert status_of(base + "api/networks?token=" + token) == 200
    finally:
        viewer.stop()


def test_view_on_loopback_has_no_token(folder: Path) -> None:
    viewer = nnscape.view(folder, open_browser=False, block=False)
    assert viewer is not None
    try:
        assert "token" not in viewer.url
        assert status_of(viewer.url + "api/networks") == 200
    finally:
        viewer.stop()


def test_certificate_is_made_once_and_renewed_for_new_names(tmp_path: Path) -> None:
    first = certificate(["192.0.2.7", "box.local"], folder=tmp_path)
    assert first.keyfile.stat().st_mode & 0o077 == 0, "the private key must be private"
    cert = x509.load_pem_x509_certificate(first.certfile.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} >= {"192.0.2.7", "127.0.0.1"}
    assert set(names.get_values_for_type(x509.DNSName)) >= {"box.local", "localhost"}
    pem = first.certfile.read_bytes()
    assert certificate(["box.local"], folder=tmp_path).certfile.read_bytes() == pem  # still covers it
    assert certificate(["198.51.100.1"], folder=tmp_path).certfile.read_bytes() != pem  # a new address


def test_cli_view_https_on_every_address(folder: Path, own_cache: Path) -> None:
    command = [sys.executable, "-m", "nnscape", "view", str(folder), "--host", "0.0.0.0", "--https", "--no-browser"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            assert process.stderr is not None
            line = process.stdout.readline()
            assert line.startswith("nnscape viewer at https://127.0.0.1:"), line + process.stderr.read()
            url = line.split()[3]
            assert "?token=" in url
            # The certificate lies in the cache folder and is what the server presents.
            certfile = own_cache / "nnscape" / "tls" / "cert.pem"
            assert certfile.is_file()
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # self-signed: browsers ask the user once
            assert status_of(url, context) == 200
            assert status_of(url.split("?")[0] + "api/networks", context) == UNAUTHORIZED
            with pytest.raises(http.client.RemoteDisconnected):  # no plain http beside it: no answer at all
                status_of(url.replace("https://", "http://"))
            served = ssl.get_server_certificate(("127.0.0.1", int(url.split(":")[2].split("/")[0])))
            assert x509.load_pem_x509_certificate(served.encode()) == x509.load_pem_x509_certificate(
                certfile.read_bytes()
            )
            process.send_signal(signal.SIGINT)
            assert process.wait(STARTUP_WAIT_S) == 0
        finally:
            if process.poll() is None:
                process.kill()
