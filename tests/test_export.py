"""Exports without a browser (issue 11): tables and Model Explorer node data, glTF structure and the official
validator, the standalone page's payload, the widget's traits, the command line and its errors."""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nnscape
from nnscape.cli import main
from nnscape.errors import ConfigError, NnscapeError
from nnscape.export import ViewOptions, export, export_gltf, export_html, export_table
from nnscape.export.html import PAYLOAD_ELEMENT
from nnscape.export.tables import model_explorer_node_data, node_scores
from nnscape.generate import random_network
from nnscape.network import Network

GLTF_CHECK = Path(__file__).parent / "gltf"
GLB_HEADER = struct.Struct("<III")
CHUNK_HEADER = struct.Struct("<II")


def tiny() -> Network:
    """2-3-2 by hand: node importance chosen so shares and scores are easy to check."""
    network = random_network((2, 3, 2), seed=0)
    importance = np.array(
        [[1.0, 0.0], [0.5, 0.5], [0.0, 0.0], [0.6, 0.8], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32
    )
    return network.with_changes(node_importance=importance)


@pytest.fixture
def processed(tmp_path: Path) -> Path:
    from nnscape.processing import process

    path = tmp_path / "net.processed.nnscape"
    process(random_network((6, 4, 3), seed=1), seed=0).save(path)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def read_glb(path: Path) -> tuple[dict[str, Any], bytes]:
    data = path.read_bytes()
    magic, version, length = GLB_HEADER.unpack_from(data)
    assert (magic, version, length) == (0x46546C67, 2, len(data))
    json_length, json_type = CHUNK_HEADER.unpack_from(data, GLB_HEADER.size)
    assert json_type == 0x4E4F534A
    start = GLB_HEADER.size + CHUNK_HEADER.size
    document = json.loads(data[start : start + json_length])
    bin_length, bin_type = CHUNK_HEADER.unpack_from(data, start + json_length)
    assert bin_type == 0x004E4942
    binary = data[start + json_length + CHUNK_HEADER.size :][:bin_length]
    return document, binary


def accessor(document: dict[str, Any], binary: bytes, index: int) -> np.ndarray:
    meta = document["accessors"][index]
    view = document["bufferViews"][meta["bufferView"]]
    dtype = "<u4" if meta["componentType"] == 5125 else "<f4"
    values = np.frombuffer(binary, dtype=dtype, count=view["byteLength"] // 4, offset=view["byteOffset"])
    return values.reshape(meta["count"], -1)


# -- tables ---------------------------------------------------------------------------------------------


def test_edge_table_has_a_row_per_edge(tmp_path: Path) -> None:
    network = tiny()
    rows = read_csv(export_table(network, tmp_path / "edges.csv"))
    assert len(rows) == network.n_edges == 2 * 3 + 3 * 2
    assert [int(r["source"]) for r in rows] == network.edge_source.tolist()
    assert [int(r["layer"]) for r in rows] == [0] * 6 + [1] * 6
    assert [float(r["importance"]) for r in rows] == pytest.approx(network.edge_importance.tolist(), abs=1e-6)
    assert [float(r["pruning_score"]) for r in rows] == pytest.approx(network.pruning_scores().tolist(), abs=1e-6)


def test_node_table_has_class_columns_and_scores(tmp_path: Path) -> None:
    network = tiny()
    rows = read_csv(export_table(network, tmp_path / "nodes.csv", table="nodes"))
    assert len(rows) == 7
    assert [f"importance_{c}" for c in network.class_names] == list(rows[0])[-2:]
    # Norm of the class vector, clipped at 1: (0.6, 0.8) → 1, (0.5, 0.5) → 0.7071, (1, 1) → 1.
    assert [float(r["importance"]) for r in rows] == pytest.approx([1, 0.707107, 0, 1, 1, 1, 1], abs=1e-6)
    assert [(int(r["layer"]), int(r["index_in_layer"])) for r in rows] == [
        (0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1)
    ]  # fmt: skip


def test_layer_summary_and_model_explorer_node_data(tmp_path: Path) -> None:
    network = tiny()
    rows = read_csv(export_table(network, tmp_path / "layers.csv", table="layers"))
    assert [r["model_node"] for r in rows] == ["linear", "linear_1"]
    first = network.edge_importance[:6]
    assert float(rows[0]["mean_edge_importance"]) == pytest.approx(first.mean(), abs=1e-6)
    assert float(rows[0]["mean_output_node_importance"]) == pytest.approx((0 + 1 + 1) / 3, abs=1e-6)
    data = json.loads(export_table(network, tmp_path / "node-data.json").read_text())
    assert data == model_explorer_node_data(network)
    assert set(data["results"]) == {"linear", "linear_1"}
    assert data["results"]["linear"]["value"] == pytest.approx(first.mean(), abs=1e-6)
    assert [stop["stop"] for stop in data["gradient"]] == [0, 1]


# -- glTF -----------------------------------------------------------------------------------------------


def test_glb_carries_importance_and_class_shares(tmp_path: Path) -> None:
    network = tiny()
    document, binary = read_glb(export_gltf(network, tmp_path / "net.glb"))
    assert document["asset"]["version"] == "2.0"
    nodes, edges = (mesh["primitives"][0] for mesh in document["meshes"])
    assert set(nodes["attributes"]) == {"POSITION", "COLOR_0", "_IMPORTANCE", "_SHARE_0", "_SHARE_1"}
    np.testing.assert_allclose(accessor(document, binary, nodes["attributes"]["POSITION"]), network.node_position)
    scores = accessor(document, binary, nodes["attributes"]["_IMPORTANCE"])[:, 0]
    np.testing.assert_allclose(scores, node_scores(network))
    share_0 = accessor(document, binary, nodes["attributes"]["_SHARE_0"])[:, 0]
    np.testing.assert_allclose(share_0, [1, 0.5, 0, 0.6 / 1.4, 0.5, 1, 0], atol=1e-6)
    # An unprocessed network: one straight segment per edge, its two ends carrying the end nodes' shares.
    indices = accessor(document, binary, edges["indices"])[:, 0]
    assert indices.size == 2 * network.n_edges
    assert edges["mode"] == 1
    edge_share = accessor(document, binary, edges["attributes"]["_SHARE_0"])[:, 0]
    np.testing.assert_allclose(edge_share[0::2], share_0[network.edge_source], atol=1e-6)
    np.testing.assert_allclose(edge_share[1::2], share_0[network.edge_target], atol=1e-6)
    importance = accessor(document, binary, edges["attributes"]["_IMPORTANCE"])[:, 0]
    np.testing.assert_allclose(importance[0::2], network.edge_importance)


def test_gltf_of_a_processed_network_follows_its_polylines(processed: Path, tmp_path: Path) -> None:
    network = nnscape.load(processed)
    document = json.loads(export_gltf(processed, tmp_path / "net.gltf").read_text())
    uri = document["buffers"][0]["uri"]
    binary = base64.b64decode(uri.split(",", 1)[1])
    edges = document["meshes"][1]["primitives"][0]
    assert network.edge_points is not None
    assert network.edge_offsets is not None
    points = accessor(document, binary, edges["attributes"]["POSITION"])
    np.testing.assert_allclose(points, network.edge_points)
    # Segments join consecutive points of one polyline, never two edges.
    segments = accessor(document, binary, edges["indices"])[:, 0].reshape(-1, 2)
    assert (segments[:, 1] == segments[:, 0] + 1).all()
    assert len(segments) == len(network.edge_points) - network.n_edges


def run_validator(*files: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed for the glTF validator (and to build the viewer)")
    if not (GLTF_CHECK / "node_modules" / "gltf-validator").is_dir():
        npm = shutil.which("npm")
        assert npm is not None, "npm is needed to install the glTF validator"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=GLTF_CHECK, check=True, capture_output=True)
    result = subprocess.run(
        [node, "validate.mjs", *map(str, files)], cwd=GLTF_CHECK, capture_output=True, text=True, check=True
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_official_validator_accepts_glb_and_gltf(processed: Path, tmp_path: Path) -> None:
    files = [export_gltf(processed, tmp_path / "net.glb"), export_gltf(processed, tmp_path / "net.gltf")]
    files.append(export_gltf(tiny(), tmp_path / "plain.glb"))
    for path, report in zip(files, run_validator(*files), strict=True):
        issues = report["issues"]
        assert (issues["numErrors"], issues["numWarnings"]) == (0, 0), f"{path.name}: {issues['messages']}"
        assert report["info"]["version"] == "2.0"
        assert report["info"]["drawCallCount"] == 2


def test_three_js_gltf_loader_reads_the_glb(processed: Path, tmp_path: Path) -> None:
    network = nnscape.load(processed)
    path = export_gltf(processed, tmp_path / "net.glb")
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, "load_three.mjs", str(path)], cwd=GLTF_CHECK, capture_output=True, text=True, check=True
    )
    nodes, edges = json.loads(result.stdout)
    shares = [f"_share_{k}" for k in range(network.n_classes)]  # three.js lower-cases custom attribute names
    assert (nodes["type"], nodes["vertices"]) == ("Points", network.n_nodes)
    assert nodes["attributes"] == ["position", "color", "_importance", *shares]
    assert (edges["type"], edges["vertices"]) == ("LineSegments", network.n_samples)
    assert edges["indices"] == 2 * (network.n_samples - network.n_edges)


# -- HTML payload, widget -------------------------------------------------------------------------------


def test_html_page_embeds_the_file_and_the_view(processed: Path, tmp_path: Path) -> None:
    view = ViewOptions.create(class_view="1", camera=2, render={"edge_mode": "line"})
    page = export_html(processed, tmp_path / "net.html", view=view).read_text()
    assert 'src="./static/viewer.js"' not in page, "the bundle is inline"
    start = page.index(f'id="{PAYLOAD_ELEMENT}">') + len(f'id="{PAYLOAD_ELEMENT}">')
    payload = json.loads(page[start : page.index("</script>", start)])
    assert base64.b64decode(payload["network"]) == processed.read_bytes()
    assert (payload["class_view"], payload["camera"], payload["render"]["edge_mode"]) == (1, 2, "line")
    assert {s["key"] for s in payload["render_schema"]} == set(payload["render"])


def test_show_returns_an_anywidget_with_checked_traits(processed: Path) -> None:
    import anywidget

    widget = nnscape.show(processed, class_view="2", render={"edges.size": 0.03})
    assert isinstance(widget, anywidget.AnyWidget)
    assert widget.network == processed.read_bytes()
    assert (widget.class_view, widget.render["edges.size"]) == (2, 0.03)
    widget.set_render(edge_mode="line")
    assert widget.render["edge_mode"] == "line"
    with pytest.raises(ConfigError, match="class view 'nope'"):
        widget.class_view = "nope"
    with pytest.raises(ConfigError, match=r"edges\.size: 5 is not allowed"):
        widget.render = {**widget.render, "edges.size": 5}
    with pytest.raises(ConfigError, match="camera: 12 is not a preset"):
        widget.camera = 12
    with pytest.raises(NnscapeError, match="unknown render setting 'edge_size'"):
        widget.set_render(edge_size=1)


# -- command line and errors ----------------------------------------------------------------------------


def test_cli_writes_each_format(processed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a.html", "a.glb", "a.gltf", "a.csv", "a.json"):
        assert main(["export", str(processed), "--out", str(tmp_path / name)]) == 0
        assert (tmp_path / name).stat().st_size > 0
    assert main(["export", str(processed), "--out", str(tmp_path / "n.csv"), "--table", "nodes"]) == 0
    assert len(read_csv(tmp_path / "n.csv")) == nnscape.load(processed).n_nodes
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--out", "{tmp}/x.obj"], "unknown export format .obj"),
        (["--out", "{tmp}/x.png", "--size", "big"], "--size 'big': expected WIDTHxHEIGHT"),
        (["--out", "{tmp}/x.png", "--size", "0x10"], "size 0x10: each side must be"),
        (
            ["--out", "{tmp}/x.html", "--camera", "10"],
            "--camera: '10' is not allowed; expected a whole number in [0, 9]",
        ),
        (["--out", "{tmp}/x.html", "--class-view", "cats"], "class view 'cats'"),
        (["--out", "{tmp}/x.html", "--set", "edges.size=9"], "edges.size: 9 is not allowed"),
        (["--out", "{tmp}/missing/x.html"], "does not exist"),
    ],
)
def test_cli_errors_are_one_line(
    processed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    argv = ["export", str(processed), *(a.replace("{tmp}", str(tmp_path)) for a in arguments)]
    assert main(argv) == (2 if "--camera" in arguments else 1)  # 2: argparse refuses it, as any usage error
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1
    assert not list(tmp_path.glob("x.*"))


def test_png_export_says_what_to_install(processed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNSCAPE_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(NnscapeError, match=r"apt-get install chromium") as error:
        export(processed, tmp_path / "x.png", size=(64, 64))
    assert "\n" not in str(error.value)
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # as if Playwright were not installed
    with pytest.raises(NnscapeError, match=r"pip install playwright"):
        export(processed, tmp_path / "x.png", size=(64, 64))
    assert not (tmp_path / "x.png").exists()


def test_missing_input_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(NnscapeError, match=r"nothing\.nnscape"):
        export(tmp_path / "nothing.nnscape", tmp_path / "x.csv")
