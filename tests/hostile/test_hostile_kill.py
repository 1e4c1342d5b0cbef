"""Killed and interrupted writers leave nothing: SIGTERM unwinds like Ctrl+C, SIGKILL leftovers are cleaned.

The kill tests run real processes: a long ``nnscape process`` stopped with SIGTERM and SIGKILL, and a writer
frozen in the middle of writing its temporary file (its ``fsync`` made to wait) and then killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from nnscape.files import STALE_AFTER_S, atomic_write_bytes, remove_stale_temps
from nnscape.generate import random_network
from nnscape.server import create_app

WAIT_S = 60.0
TERMINATED_STATUS = 128 + signal.SIGTERM
# A child that starts writing ``target`` through nnscape and freezes before its temporary file is complete.
FROZEN_WRITER = """
import os, sys, time
from nnscape.cli import main
os.fsync = lambda fd: (print("writing", flush=True), time.sleep(600))
sys.exit(main(["generate", "--layers", "4,3", "--out", sys.argv[1]]))
"""


def temp_files(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith(".") and name.endswith(".tmp"))


def child_env() -> dict[str, str]:
    source = str(Path(__file__).resolve().parents[2] / "src")
    return {**os.environ, "PYTHONPATH": source + os.pathsep + os.environ.get("PYTHONPATH", ""), "OMP_NUM_THREADS": "1"}


def start_frozen_writer(target: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", FROZEN_WRITER, str(target)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=child_env())  # fmt: skip
    assert child.stdout is not None
    assert child.stdout.readline() == "writing\n"  # its temporary file now exists and is locked
    return child


def make_old(folder: Path) -> None:
    """Age the temporary files past the grace period a fresh one gets."""
    stamp = time.time() - 10 * STALE_AFTER_S
    for name in temp_files(folder):
        os.utime(folder / name, (stamp, stamp))


def test_an_interrupted_write_removes_its_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.nnscape"
    target.write_bytes(b"old")

    def interrupted(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"new")
    assert temp_files(tmp_path) == []
    assert target.read_bytes() == b"old"


def test_sigterm_while_writing_removes_the_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "g.nnscape"
    child = start_frozen_writer(target)
    assert len(temp_files(tmp_path)) == 1
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=WAIT_S)
    assert child.returncode == TERMINATED_STATUS
    assert err == "nnscape generate: terminated\n"
    assert os.listdir(tmp_path) == []


def test_sigkill_leftovers_are_cleaned_by_the_next_write_but_live_writers_are_not(tmp_path: Path) -> None:
    child = start_frozen_writer(tmp_path / "g.nnscape")
    leftover = temp_files(tmp_path)
    make_old(tmp_path)
    assert remove_stale_temps(tmp_path) == []  # still held by a live writer, however old
    atomic_write_bytes(tmp_path / "other.bin", b"x")
    assert temp_files(tmp_path) == leftover
    child.kill()
    child.communicate(timeout=WAIT_S)
    assert temp_files(tmp_path) == leftover  # SIGKILL runs no cleanup: the file stays, unlocked
    atomic_write_bytes(tmp_path / "other.bin", b"y")
    assert temp_files(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == ["other.bin"]


def test_sigkill_leftovers_are_cleaned_when_the_folder_is_served(tmp_path: Path) -> None:
    child = start_frozen_writer(tmp_path / "g.nnscape")
    child.kill()
    child.communicate(timeout=WAIT_S)
    make_old(tmp_path)
    foreign = tmp_path / ".notes.tmp"  # not of our naming: never touched
    foreign.write_text("mine")
    make_old(tmp_path)
    create_app(tmp_path)
    assert temp_files(tmp_path) == [".notes.tmp"]


@pytest.mark.parametrize("kill", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_process_command_leaves_nothing(kill: signal.Signals, tmp_path: Path) -> None:
    network = tmp_path / "net.nnscape"
    random_network([64, 81, 49, 10]).save(network)
    out = tmp_path / "out.nnscape"
    command = [sys.executable, "-m", "nnscape", "process", str(network), "--out", str(out),
               "--set", "node_bandwidth_reduction=0.999", "--set", "edge_bandwidth_reduction=0.999"]  # fmt: skip
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env())
    assert child.stderr is not None
    deadline = time.monotonic() + WAIT_S
    seen = b""
    while b"nodes" not in seen and time.monotonic() < deadline:  # the progress bar shows the work has begun
        seen += os.read(child.stderr.fileno(), 4096)
    assert b"nodes" in seen
    child.send_signal(kill)
    _, err = child.communicate(timeout=WAIT_S)
    if kill == signal.SIGTERM:
        assert child.returncode == TERMINATED_STATUS
        assert err.decode().rstrip().endswith("nnscape process: terminated")
        assert "Traceback" not in err.decode()
    else:
        assert child.returncode == -signal.SIGKILL
    assert sorted(os.listdir(tmp_path)) == ["net.nnscape"]


def test_sigterm_stops_the_server_and_its_running_job_leaving_nothing(tmp_path: Path) -> None:
    random_network([4, 3, 2]).save(tmp_path / "net.nnscape")
    command = [sys.executable, "-m", "nnscape", "view", str(tmp_path), "--no-browser"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    assert child.stdout is not None
    url = child.stdout.readline().split()[3]  # "nnscape viewer at http://127.0.0.1:PORT/ serving …"
    slowest = {"node_bandwidth_reduction": 0.999, "edge_bandwidth_reduction": 0.999}
    body = json.dumps({"network": "net.nnscape", "config": slowest}).encode()
    request = urllib.request.Request(f"{url}api/jobs", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=WAIT_S) as response:
        job = json.load(response)["id"]
    deadline = time.monotonic() + WAIT_S
    step = 0
    while step < 2 and time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}api/jobs/{job}", timeout=WAIT_S) as response:
            step = json.load(response)["step"]
    assert step >= 2
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=WAIT_S)
    assert "Traceback" not in err
    assert child.returncode in (0, TERMINATED_STATUS)
    assert sorted(os.listdir(tmp_path)) == ["net.nnscape"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_written_files_follow_the_umask_not_the_temp_files_private_mode(tmp_path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    atomic_write_bytes(tmp_path / "shared.nnscape", b"x")
    assert (tmp_path / "shared.nnscape").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0o600
