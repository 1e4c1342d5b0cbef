"""Hostile command lines: every one is refused in one line naming the culprit, before any work or allocation.

Each case runs the real ``nnscape`` entry point in this process and checks the exit status, that stderr is a
single line (no usage block, no traceback, no library warning beside it), that the line names the offending
value, and that no output and no temporary file was left behind.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from nnscape.cli import main
from nnscape.generate import random_network
from nnscape.limits import MAX_CLASSES, MAX_EDGES, MAX_GENERATED_BYTES, MAX_IMPORTANCE_VALUES

CJK_80 = "漢" * 80  # 240 bytes in UTF-8: under 255 characters, over the name limit in bytes


def run_refused(capsys: pytest.CaptureFixture[str], folder: Path, arguments: list[str], status: int = 1) -> str:
    """Run the CLI in ``folder``; assert it failed with one line and left the folder as it was; the line."""
    before = sorted(p.name for p in folder.iterdir())
    assert main(arguments) == status
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("nnscape")
    assert "Traceback" not in captured.err
    assert sorted(p.name for p in folder.iterdir()) == before, "the refused command wrote something"
    return captured.err


@pytest.fixture
def network_file(tmp_path: Path) -> Path:
    path = tmp_path / "net.nnscape"
    random_network([4, 3, 2]).save(path)
    return path


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["bundle"], "argument COMMAND: invalid choice: 'bundle'"),
        (["generate", "--layers"], "argument --layers: expected one argument"),
        (["generate", "--layers", "4,3", "--out", "o.nnscape", "--bogus", "x"], "unrecognized arguments: --bogus x"),
        (["process"], "the following arguments are required: IN, --out"),
        (["view", "--port", "99999"], "--port: '99999' is not allowed; expected a whole number in [0, 65535]"),
        (["view", "--port", "-1"], "--port: '-1' is not allowed"),
        (["demo", "--port", "1e3"], "--port: '1e3' is not allowed"),
        (["process", "IN.nnscape", "--out", "o.nnscape", "--device", "meta"], "--device: 'meta' is not allowed"),
        (["process", "IN.nnscape", "--out", "o.nnscape", "--seed", "-1"], "--seed: '-1' is not allowed"),
        (["generate", "--layers", "4,3", "--out", "o.nnscape", "--seed", "9" * 5000], "--seed: '99999"),
        (["importance", "m.pt", "--data", "digits", "--out", "o", "--epochs", "nan"], "--epochs: 'nan'"),
        (["evaluate", "m.pt", "--data", "digits", "--out", "o", "--threads", "0"], "--threads: '0' is not allowed"),
        (["train", "--data", "digits", "--out", "o.pt", "--l1", "1", "--untrained"], "not allowed with argument"),
        (["export", "n.nnscape", "--out", "x.html", "--camera", "9" * 5000], "--camera: '99999"),
    ],
)
def test_usage_mistakes_are_one_line(
    arguments: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    line = run_refused(capsys, tmp_path, arguments, status=2)
    assert message in line
    assert "--help" in line


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ("1,100000", f"node importance values; at most {MAX_IMPORTANCE_VALUES} are allowed"),
        ("1,9000", f"at most {MAX_GENERATED_BYTES} bytes are allowed"),
        ("100000,100000,2", f"at most {MAX_EDGES} are allowed"),
        (",".join(["2"] * 100), "100 layers; at most 64 are allowed"),
        ("4," + "9" * 5000, "--layers: '99999"),
        ("4,x", "--layers: 'x' is not a whole number"),
    ],
)
def test_generate_sizes_are_bounded_before_allocation(
    layers: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = run_refused(capsys, tmp_path, ["generate", "--layers", layers, "--out", str(tmp_path / "g.nnscape")])
    assert message in line


def test_generate_class_count_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = run_refused(capsys, tmp_path, ["generate", "--layers", "4,3", "--classes", str(2**40), "--out",
                                          str(tmp_path / "g.nnscape")])  # fmt: skip
    assert f"{2**40} classes were asked" in line


def test_train_layers_are_bounded_before_torch_allocates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = run_refused(capsys, tmp_path, ["train", "--data", "digits", "--layers", "100000000", "--out",
                                          str(tmp_path / "m.pt"), "--quiet"])  # fmt: skip
    assert f"hidden: [64, 100000000, 10] make 7400000000 edges; at most {MAX_EDGES} are allowed" in line


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("edge_bandwidth_reduction=0.9999999999999999", "0.9999999999999999 is not allowed; expected a value in (0, "),
        ("node_bandwidth_reduction=1", "node_bandwidth_reduction: 1 is not allowed"),
        ("smoothing_iterations=NaN", "smoothing_iterations: NaN is not allowed; expected a finite number"),
        ("smoothing_iterations=Infinity", "smoothing_iterations: Infinity is not allowed"),
        ("smoothing_iterations=-Infinity", "smoothing_iterations: -Infinity is not allowed"),
        ("smoothing_iterations=" + "9" * 4000, "digits is not allowed"),
        ("smoothing_iterations=" + "9" * 5000, 'smoothing_iterations: "99999'),
        ("smoothing_iterations=2.5", "expected a whole number"),
        ("edge_importance_type=1e400", "edge_importance_type: Infinity is not allowed"),
        ("edge_importance_type=" + "[" * 100_000, 'edge_importance_type: "[[[['),
        ('edge_importance_type="1"', 'edge_importance_type: "1" is not allowed'),
        ("edge_importance_type=true", "edge_importance_type: true is not allowed"),
    ],
)
def test_settings_are_checked_as_numbers(
    assignment: str, message: str, network_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.nnscape"
    line = run_refused(capsys, tmp_path, ["process", str(network_file), "--out", str(out), "--set", assignment])
    assert message in line
    assert len(line) < 300


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"smoothing_iterations": NaN}', "smoothing_iterations: NaN is not allowed"),
        ('{"smoothing_iterations": ' + "9" * 5000 + "}", "cannot read JSON (Exceeds the limit"),
        ("[" * 100_000 + "]" * 100_000, "cannot read JSON (nested too deeply)"),
        ('{"a":' * 50 + "1" + "}" * 50, "nested more than 4 levels deep"),
        (" " * (2 * 1024 * 1024), "larger than 1048576 bytes"),
    ],
)
def test_config_files_are_checked(
    content: str, message: str, network_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.json"
    config.write_text(content)
    line = run_refused(capsys, tmp_path, ["process", str(network_file), "--out", str(tmp_path / "p.nnscape"),
                                          "--config", str(config)])  # fmt: skip
    assert str(config) in line
    assert message in line


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("/proc/nnscape-test.nnscape", "--out /proc/nnscape-test.nnscape: cannot write in /proc"),
        ("/sys/nnscape-test.nnscape", "--out /sys/nnscape-test.nnscape: cannot write in /sys"),
        ("missing/x.nnscape", "folder missing does not exist"),
        (f"{CJK_80}.nnscape", "the name is 248 bytes long; at most 200 bytes are allowed"),
    ],
)
def test_unwritable_outputs_are_refused_before_the_work(
    out: str, message: str, network_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    for command in (["generate", "--layers", "4,3"], ["process", str(network_file), "--quiet"]):
        line = run_refused(capsys, tmp_path, [*command, "--out", out])
        assert message in line


def test_an_output_inside_a_file_is_refused(
    network_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = run_refused(capsys, tmp_path, ["generate", "--layers", "4,3", "--out", f"{network_file}/x.nnscape"])
    assert "does not exist" in line


def write_idx(path: Path, dtype_code: int, shape: tuple[int, ...], payload: bytes, *, zipped: bool = False) -> None:
    raw = bytes([0, 0, dtype_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload
    path.write_bytes(gzip.compress(raw) if zipped else raw)


def idx_folder(folder: Path, *, images: tuple[int, ...] = (4, 2, 2), labels: bytes = bytes([0, 1, 0, 1])) -> Path:
    folder.mkdir()
    for prefix in ("train", "t10k"):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", 0x08, images, bytes(int(np.prod(images))))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", 0x08, (len(labels),), labels)
    return folder


def test_idx_dimensions_that_overflow_are_refused_from_the_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = idx_folder(tmp_path / "idx")
    write_idx(folder / "train-images-idx3-ubyte", 0x08, (2**32 - 1,) * 4, b"\0" * 16)
    line = run_refused(capsys, tmp_path, ["train", "--data", f"idx:{folder}", "--out", str(tmp_path / "m.pt")])
    assert "train-images-idx3-ubyte: IDX header announces" in line
    assert "at most 268435456 are allowed" in line


def test_a_gzip_bomb_is_unzipped_no_further_than_its_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = idx_folder(tmp_path / "idx")
    (folder / "train-images-idx3-ubyte").unlink()
    bomb = folder / "train-images-idx3-ubyte.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as stream:  # 16 bytes announced, 1 GiB of zeros inside
        stream.write(bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 4, 2, 2))
        zeros = bytes(1 << 20)
        for _ in range(1024):
            stream.write(zeros)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    line = run_refused(capsys, tmp_path, ["train", "--data", f"idx:{folder}", "--out", str(tmp_path / "m.pt")])
    assert "announces (4, 2, 2) (16 bytes) but more follow" in line


def test_a_huge_label_does_not_make_huge_class_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = idx_folder(tmp_path / "idx")
    write_idx(folder / "train-labels-idx1-ubyte", 0x0C, (4,), struct.pack(">4i", 0, 1, 0, 2**31 - 1))
    line = run_refused(capsys, tmp_path, ["train", "--data", f"idx:{folder}", "--out", str(tmp_path / "m.pt")])
    assert f"label {2**31 - 1} implies {2**31} classes; at most {MAX_CLASSES} are allowed" in line
    data = tmp_path / "labels.npz"
    np.savez(data, x=np.zeros((3, 4), np.float32), y=np.array([0, 1, 2**40]))
    line = run_refused(capsys, tmp_path, ["train", "--data", str(data), "--out", str(tmp_path / "m.pt")])
    assert f"label {2**40} implies" in line


def test_data_needing_pickle_is_refused_in_our_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "objects.pt"
    torch.save({"x": torch.zeros(3, 4), "y": torch.tensor([0, 1, 1]), "extra": argparse.Namespace(a=1)}, data)
    line = run_refused(capsys, tmp_path, ["train", "--data", str(data), "--out", str(tmp_path / "m.pt")])
    assert "never unpickles data files" in line
    assert "weights_only" not in line
    assert "\x1b[" not in line


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "m.pt"
    assert main(["train", "--data", "digits", "--layers", "8", "--untrained", "--out", str(path), "--quiet"]) == 0
    return path


def test_a_network_of_another_model_names_the_file(
    small_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    other = tmp_path / "other.nnscape"
    random_network([64, 20, 10]).save(other)
    out = tmp_path / "report"
    line = run_refused(capsys, tmp_path, ["evaluate", str(small_model), "--data", "digits", "--out", str(out),
                                          "--network", str(other), "--quiet"])  # fmt: skip
    assert f"--network {other}: does not fit {small_model}" in line


def test_data_missing_classes_names_them(small_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    data = tmp_path / "seven.npz"
    np.savez(data, x=np.random.default_rng(0).random((40, 64), np.float32), y=np.arange(40) % 7)
    line = run_refused(capsys, tmp_path, ["importance", str(small_model), "--data", str(data), "--out",
                                          str(tmp_path / "i.nnscape"), "--lr", "0.1", "--quiet"])  # fmt: skip
    assert f"{data}: no training examples of classes 7, 8, 9" in line


def test_an_npz_member_is_bounded_by_its_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "huge.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (2**40, 4)})
    with zipfile.ZipFile(data, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", header.getvalue() + bytes(1 << 20))  # the header writer adds the magic
        archive.writestr("y.npy", header.getvalue())
    line = run_refused(capsys, tmp_path, ["train", "--data", str(data), "--out", str(tmp_path / "m.pt")])
    assert f"array x has shape ({2**40}, 4) = {2**42} values; at most 268435456 are allowed" in line


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path: Path) -> None:
    # `nnscape info F | head -1`: the pipe closes after the first line; info has more to say.
    random_network([4, 3, 2]).save(tmp_path / "net.nnscape")
    command = [sys.executable, "-m", "nnscape", "info", str(tmp_path / "net.nnscape")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as writer:
        assert writer.stdout is not None
        assert writer.stderr is not None
        writer.stdout.close()  # the reader is gone before nnscape writes anything
        stderr = writer.stderr.read().decode()
        writer.wait(timeout=60)
    assert "Traceback" not in stderr
    assert stderr == ""


def test_the_program_flushes_its_output_and_passes_its_status_on(tmp_path: Path) -> None:
    # The program leaves with os._exit (skipping the interpreter's slow shutdown): buffered output must still
    # arrive whole, and the command's status must be the process's.
    random_network([4, 3, 2]).save(tmp_path / "net.nnscape")
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    done = subprocess.run(
        [sys.executable, "-m", "nnscape", "info", "--json", str(tmp_path / "net.nnscape")],
        capture_output=True, text=True, timeout=120, check=False, env=buffered,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["edges"] == 4 * 3 + 3 * 2
    missing = subprocess.run(
        [sys.executable, "-m", "nnscape", "info", str(tmp_path / "missing.nnscape")],
        capture_output=True, text=True, timeout=120, check=False, env=buffered,
    )  # fmt: skip
    assert missing.returncode == 1
    assert missing.stderr.startswith("nnscape info: error:")
    assert "missing.nnscape" in missing.stderr
