"""benchmarks/bench_gpu.py without a GPU: it refuses in one line, and its measurement runs on the CPU."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_gpu.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    # CUDA_VISIBLE_DEVICES="" hides any GPU, so the refusal is tested on GPU machines too.
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_refuses_cleanly_without_cuda() -> None:
    result = run()
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bench_gpu: no CUDA device here")


def test_refuses_a_device_name_torch_does_not_know() -> None:
    result = run("--device", "gpu0")
    assert result.returncode == 2
    assert result.stderr.strip() == "bench_gpu: 'gpu0' is not a torch device (expected cuda, cuda:N or cpu)"


def test_measures_on_the_cpu() -> None:
    result = run("--device", "cpu", "--layers", "16,8,2", "--repeats", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("device: CPU")
    row = lines[-1].split()
    assert row[0] == "16-8-2"
    assert row[1] == "144"  # 16·8 + 8·2 edges
    assert int(row[2]) > 2 * 144  # every edge resampled into several points
    assert float(row[3]) > 0
    assert row[4] == "-"  # no goal for this size
    assert "ink" in lines[-1]
    assert "runs:" in lines[-1]
