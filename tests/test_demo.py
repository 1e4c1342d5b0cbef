"""The demo pipeline: three processed digits networks in a folder, reused on re-run, served by the viewer."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nnscape import datasets, demo
from nnscape.cli import main
from nnscape.config import ProcessingConfig
from nnscape.demo import build_demo, checkpoint_path, default_demo_dir, demo_recipe, demo_stamp
from nnscape.errors import DataError, NnscapeError
from nnscape.intake import load_model
from nnscape.io import load, loads
from nnscape.progress import ProgressEvent
from nnscape.server import create_app

# The real recipe with fewer epochs and bundling iterations, so the test takes seconds; `nnscape demo` and
# benchmarks/bench_demo.py run the full one.
FAST = demo_recipe(
    "digits",
    train_epochs=20,
    importance_epochs=3,
    processing=ProcessingConfig(edge_bandwidth_reduction=0.5, node_bandwidth_reduction=0.5),
)
NAMES = [f"digits-{variant}.processed.nnscape" for variant in ("untrained", "basic", "l1")]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], list[ProgressEvent]]:
    folder = tmp_path_factory.mktemp("demo")
    events: list[ProgressEvent] = []
    return folder, build_demo(folder, recipe=FAST, progress=events.append), events


def test_three_processed_networks_load(built: tuple[Path, list[Path], list[ProgressEvent]]) -> None:
    _, paths, events = built
    assert [p.name for p in paths] == NAMES
    for path, variant in zip(paths, ("untrained", "basic", "l1"), strict=True):
        network = load(path)
        assert network.kind == "processed"
        assert network.layer_sizes.tolist() == [64, 32, 16, 10]
        assert network.class_names == tuple(str(k) for k in range(10))
        stamp = demo_stamp(path)
        assert stamp["variant"] == variant
        assert stamp["recipe"] == json.loads(json.dumps(FAST.to_dict()))
        assert "spread" in json.loads(network.metadata["quality"])
        assert load_model(checkpoint_path(path)) is not None
    accuracy = {v: demo_stamp(p)["test_accuracy"] for v, p in zip(("untrained", "basic", "l1"), paths, strict=True)}
    # 20 epochs: the L1 penalty (0.003) still holds the L1 network back (the full recipe's reach 0.9).
    assert accuracy["untrained"] < 0.3 < 0.6 < accuracy["l1"] < accuracy["basic"], accuracy
    assert accuracy["basic"] > 0.8, accuracy
    phases = {event.phase for event in events}
    assert {"digits-basic: train", "digits-basic: importance"} <= phases
    assert not any(phase.endswith("reused") for phase in phases)


def test_the_picture_narrows_from_untrained_to_basic_to_l1(
    built: tuple[Path, list[Path], list[ProgressEvent]],
) -> None:
    # The demo's claim on one seed (benchmarks/bench_demo.py checks three seeds of the full recipe): the
    # spread of what the viewer draws shrinks from the untrained cloud to the trained bundles to the L1 pathways.
    _, paths, _ = built
    untrained, basic, l1 = (json.loads(load(path).metadata["quality"])["drawn_spread"] for path in paths)
    assert untrained > 1.1 * basic > 1.1**2 * l1, (untrained, basic, l1)


def test_rerun_reuses_files_made_by_the_same_recipe(built: tuple[Path, list[Path], list[ProgressEvent]]) -> None:
    folder, paths, _ = built
    stamps = [p.stat().st_mtime_ns for p in paths]
    events: list[ProgressEvent] = []
    assert build_demo(folder, recipe=FAST, progress=events.append) == paths
    assert [p.stat().st_mtime_ns for p in paths] == stamps
    assert sorted(e.phase for e in events) == sorted(f"{p.name.split('.')[0]}: reused" for p in paths)


def test_a_damaged_or_different_file_is_rebuilt(
    built: tuple[Path, list[Path], list[ProgressEvent]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, paths, _ = built
    for path in paths:
        shutil.copy(path, tmp_path / path.name)
    rebuilt: list[tuple[str, int]] = []
    monkeypatch.setattr(
        demo, "_build_variant", lambda _s, recipe, variant, *_a, **_k: rebuilt.append((variant, recipe.train_epochs))
    )
    (tmp_path / NAMES[0]).write_bytes(b"half a file")
    build_demo(tmp_path, recipe=FAST)
    assert rebuilt == [("untrained", FAST.train_epochs)]
    rebuilt.clear()
    other = replace(FAST, train_epochs=FAST.train_epochs + 1)
    build_demo(tmp_path, recipe=other)
    assert rebuilt == [(variant, other.train_epochs) for variant in ("untrained", "basic", "l1")]


def test_the_viewer_lists_and_serves_the_demo(built: tuple[Path, list[Path], list[ProgressEvent]]) -> None:
    folder, paths, _ = built
    with TestClient(create_app(folder, initial=paths[1].name), base_url="http://127.0.0.1") as client:
        listed = client.get("/api/networks").json()
        assert sorted(entry["name"] for entry in listed) == sorted(NAMES)
        assert all(entry["kind"] == "processed" and not entry["broken"] for entry in listed)
        assert client.get("/api/initial").json() == {"network": "digits-basic.processed.nnscape"}
        for path in paths:
            response = client.get(f"/api/networks/{path.name}")
            assert response.status_code == 200
            assert loads(response.content).n_edges == 64 * 32 + 32 * 16 + 16 * 10


def test_cli_builds_then_serves_the_basic_network(
    built: tuple[Path, list[Path], list[ProgressEvent]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, paths, _ = built
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setitem(demo.DEMO_DATA, "digits", FAST)  # reuse the module's fast files
    monkeypatch.setattr("nnscape.server.view", lambda item, **options: calls.append((item, options)))
    assert main(["demo", "--dir", str(folder), "--no-browser", "--quiet"]) == 0
    assert calls == [(paths[1], {"folder": folder, "port": None, "open_browser": False, "block": True})]
    printed = capsys.readouterr().out
    assert "digits-l1.processed.nnscape: test accuracy" in printed
    assert "visible ink" in printed
    assert "spread" in printed


def test_fashion_mnist_without_the_data_set_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasets, "FASHION_MNIST_FOLDER", tmp_path / "absent")
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        build_demo(tmp_path / "demo", data="fashion-mnist")
    assert main(["demo", "--dir", str(tmp_path / "demo"), "--data", "fashion-mnist", "--quiet"]) == 1


def test_a_file_in_the_way_of_the_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    with pytest.raises(NnscapeError, match=r"demo folder .*taken: cannot create it"):
        build_demo(tmp_path / "taken", recipe=FAST)


def test_unknown_data_and_default_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="demo data 'cifar'"):
        demo_recipe("cifar")
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_demo_dir() == tmp_path / "nnscape" / "demo"
