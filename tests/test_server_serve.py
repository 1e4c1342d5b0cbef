"""Running the server for real: ``serve_in_thread``, ``nnscape.view`` and the ``nnscape view`` command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import nnscape
from nnscape.cli import main
from nnscape.errors import NnscapeError
from nnscape.generate import random_network
from nnscape.server import create_app, serve, serve_in_thread
from test_server import straight_processed

STARTUP_WAIT_S = 60


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def refuses_connections(url: str) -> bool:
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) != 0


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    served = tmp_path / "served"
    served.mkdir()
    random_network([3, 2], seed=0).save(served / "a.nnscape")
    random_network([3, 2], seed=1).save(served / "b.nnscape")
    return served


def test_serve_in_thread_serves_on_loopback_until_stopped(folder: Path) -> None:
    url, stop = serve_in_thread(create_app(folder))
    try:
        assert url.startswith("http://127.0.0.1:")
        names = {entry["name"] for entry in get_json(url + "api/networks")}
        assert names == {"a.nnscape", "b.nnscape"}
    finally:
        stop()
    assert refuses_connections(url)


def test_a_taken_port_is_a_clear_error(folder: Path) -> None:
    url, stop = serve_in_thread(create_app(folder))
    try:
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        with pytest.raises(NnscapeError, match=f"cannot listen on 127.0.0.1:{port}.*choose another --port"):
            serve_in_thread(create_app(folder), port=port)
    finally:
        stop()


@pytest.mark.parametrize("port", [-1, 65536, 99999])
def test_a_port_out_of_range_is_refused_not_wrapped(folder: Path, port: int) -> None:
    with pytest.raises(NnscapeError, match=f"port {port}: expected 0-65535"):
        serve_in_thread(create_app(folder), port=port)


def test_view_of_a_network_object_saves_it_and_opens_the_browser_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    opened: list[str] = []

    def open_browser(url: str) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(serve.webbrowser, "open", open_browser)
    network = straight_processed(random_network([3, 2], seed=0))
    viewer = nnscape.view(network, folder=tmp_path, block=False)
    assert viewer is not None
    try:
        assert opened == [viewer.url]
        assert viewer.url in capsys.readouterr().out
        assert get_json(viewer.url + "api/initial") == {"network": "network.processed.nnscape"}
        assert nnscape.load(tmp_path / "network.processed.nnscape").kind == "processed"
    finally:
        viewer.stop()


def test_view_of_files_serves_their_folder_and_opens_the_first(folder: Path) -> None:
    viewer = nnscape.view([folder / "b.nnscape", folder / "a.nnscape"], open_browser=False, block=False)
    assert viewer is not None
    try:
        assert viewer.folder == folder.resolve()
        assert get_json(viewer.url + "api/initial") == {"network": "b.nnscape"}
    finally:
        viewer.stop()


def test_view_of_a_network_without_a_folder_uses_a_new_temporary_one() -> None:
    viewer = nnscape.view(random_network([3, 2], seed=0), open_browser=False, block=False)
    assert viewer is not None
    try:
        assert viewer.folder.name.startswith("nnscape-view-")
        assert os.listdir(viewer.folder) == ["network.nnscape"]
    finally:
        viewer.stop()


@pytest.mark.parametrize(
    ("make_items", "message"),
    [
        (lambda f, t: [f / "missing.nnscape"], "missing.nnscape: no such file or folder"),
        (lambda f, t: [f / "a.nnscape", t / "elsewhere.nnscape"], "files from several folders"),
        (lambda f, t: [f, f / "a.nnscape"], "give either one folder or .nnscape files"),
        (lambda f, t: [t / "notes.txt"], "ending in .nnscape"),
    ],
)
def test_view_refuses_what_it_cannot_serve(folder: Path, tmp_path: Path, make_items: object, message: str) -> None:
    random_network([3, 2], seed=0).save(tmp_path / "elsewhere.nnscape")
    (tmp_path / "notes.txt").write_text("")
    items = make_items(folder, tmp_path)  # type: ignore[operator]
    with pytest.raises(NnscapeError, match=message):
        nnscape.view(items, open_browser=False, block=False)


def test_cli_view_of_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["view", str(tmp_path / "gone.nnscape"), "--no-browser"]) == 1
    assert capsys.readouterr().err.strip().endswith("gone.nnscape: no such file or folder")


def test_cli_view_serves_until_interrupted(folder: Path) -> None:
    command = [sys.executable, "-m", "nnscape", "view", str(folder / "a.nnscape"), "--no-browser"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            assert process.stderr is not None
            line = process.stdout.readline()
            assert line.startswith("nnscape viewer at http://127.0.0.1:"), line + process.stderr.read()
            url = line.split()[3]
            assert get_json(url + "api/initial") == {"network": "a.nnscape"}
            process.send_signal(signal.SIGINT)
            assert process.wait(STARTUP_WAIT_S) == 0
        finally:
            if process.poll() is None:
                process.kill()
