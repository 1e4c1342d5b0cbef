"""The server's API with FastAPI's TestClient: every route, and every way a request can be refused."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from nnscape import server
from nnscape.config import PROCESSING_SETTINGS, RENDER_SETTINGS, ProcessingConfig, RenderConfig
from nnscape.generate import random_network
from nnscape.io import loads
from nnscape.network import Network
from nnscape.server import app as app_module
from nnscape.server import create_app
from nnscape.summary import describe

BASE_URL = "http://127.0.0.1"


def straight_processed(network: Network) -> Network:
    """``network`` as a processed file with two-point polylines (enough for the format, no bundling)."""
    position = network.node_position
    points = np.stack([position[network.edge_source], position[network.edge_target]], axis=1).reshape(-1, 3)
    offsets = np.arange(network.n_edges + 1, dtype=np.int64) * 2
    return network.with_changes(edge_offsets=offsets, edge_points=points, metadata={"pruned_edges": "0"})


def set_age(path: Path, seconds_ago: float) -> None:
    """Give ``path`` an older modification time, so that "newest first" is deterministic."""
    stamp = path.stat().st_mtime - seconds_ago
    os.utime(path, (stamp, stamp))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A served folder: one plain network (oldest), one processed (newer), one broken file (newest)."""
    served = tmp_path / "served"
    served.mkdir()
    plain = random_network([4, 3, 2], seed=1)
    plain.save(served / "plain.nnscape")
    straight_processed(plain).save(served / "plain.processed.nnscape")
    (served / "broken.nnscape").write_bytes(b"not a network at all")
    set_age(served / "plain.nnscape", 30)
    set_age(served / "plain.processed.nnscape", 20)
    set_age(served / "broken.nnscape", 10)
    (served / "notes.txt").write_text("not listed")
    return served


@pytest.fixture
def client(folder: Path) -> Iterator[TestClient]:
    with TestClient(create_app(folder), base_url=BASE_URL) as test_client:
        yield test_client


def test_package_exports_the_agreed_names() -> None:
    assert callable(server.create_app)
    assert callable(server.view)
    assert callable(server.serve_in_thread)


# -- the list and the files ----------------------------------------------------------------------------------


def test_list_has_every_network_newest_first_with_the_broken_one_marked(client: TestClient) -> None:
    response = client.get("/api/networks")
    assert response.status_code == 200
    entries = response.json()
    assert [e["name"] for e in entries] == ["broken.nnscape", "plain.processed.nnscape", "plain.nnscape"]
    broken, processed, plain = entries
    assert broken["broken"] is True
    assert "not a .nnscape file" in broken["error"]
    assert "\n" not in broken["error"]
    assert str(client.app.state.nnscape.folder.root) not in broken["error"]  # type: ignore[attr-defined]
    assert processed["broken"] is False
    assert processed["kind"] == "processed"
    assert processed["samples"] == 2 * processed["edges"]
    assert plain == {
        "name": "plain.nnscape",
        "kind": "network",
        "layer_sizes": [4, 3, 2],
        "layer_names": ["input", "hidden 1", "output"],
        "layer_kinds": ["input", "linear", "linear"],
        "classes": 2,
        "class_names": ["0", "1"],
        "edges": 4 * 3 + 3 * 2,
        "pruned_edges": 0,
        "samples": 0,
        "size_bytes": plain["size_bytes"],
        "modified": plain["modified"],
        "broken": False,
    }
    assert plain["size_bytes"] > 0
    assert processed["modified"] > plain["modified"]


def test_each_broken_file_is_listed_alone_as_broken(folder: Path) -> None:
    """Every broken file of the shared corpus, and hostile metadata that the summary decodes, in one folder."""
    corpus = Path(__file__).resolve().parent / "corpus" / "files"
    manifest = json.loads((corpus / "manifest.json").read_text())
    for entry in manifest:
        (folder / entry["file"]).write_bytes((corpus / entry["file"]).read_bytes())
    plain = random_network([4, 3, 2], seed=1)
    deep = "[" * 100_000 + "]" * 100_000
    plain.with_changes(metadata={"source": deep, "quality": '{"ink": NaN}'}).save(folder / "odd-metadata.nnscape")
    os.mkfifo(folder / "pipe.nnscape")
    with TestClient(create_app(folder), base_url=BASE_URL) as client:
        response = client.get("/api/networks")
        assert response.status_code == 200
        listed = {entry["name"]: entry for entry in response.json()}
    for entry in manifest:
        assert listed[entry["file"]]["broken"] is (not entry["valid"]), listed[entry["file"]]
        if not entry["valid"]:
            assert entry["field"] in listed[entry["file"]]["error"]
    assert listed["odd-metadata.nnscape"]["broken"] is False
    odd = describe(folder / "odd-metadata.nnscape")  # kept as text: too deep to decode, NaN not JSON
    assert odd["source"] == deep
    assert odd["quality"] == '{"ink": NaN}'
    assert "pipe.nnscape" not in listed  # not a regular file, so never opened


def test_list_sees_a_file_that_changed_under_the_same_name(client: TestClient, folder: Path) -> None:
    client.get("/api/networks")
    random_network([5, 2], seed=0).save(folder / "plain.nnscape")
    entry = next(e for e in client.get("/api/networks").json() if e["name"] == "plain.nnscape")
    assert entry["layer_sizes"] == [5, 2]


def test_a_network_downloads_as_its_exact_bytes(client: TestClient, folder: Path) -> None:
    response = client.get("/api/networks/plain.processed.nnscape")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == (folder / "plain.processed.nnscape").read_bytes()
    assert loads(response.content).kind == "processed"


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/networks/missing.nnscape", 404, "missing.nnscape: no such network in the served folder"),
        ("/api/networks/notes.txt", 400, "ending in .nnscape"),
        ("/api/networks/.hidden.nnscape", 400, "ending in .nnscape"),
        ("/api/networks/%2e%2e", 400, "bare file name"),
        ("/api/networks/%2e%2e%2fsecret.nnscape", 400, "bare file name"),
        ("/api/networks/sub%5csecret.nnscape", 400, "bare file name"),
        ("/api/networks/%2Fetc%2Fpasswd", 400, "bare file name"),
    ],
)
def test_bad_names_are_refused_with_a_clear_message(client: TestClient, path: str, status: int, message: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert message in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/networks/../x", "/api/networks/%2e%2e/secret.nnscape", "/../secret.nnscape"])
def test_dot_dot_paths_never_reach_a_file_outside(client: TestClient, folder: Path, path: str) -> None:
    (folder.parent / "secret.nnscape").write_bytes(b"outside")
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert b"outside" not in response.content


def test_a_link_out_of_the_folder_is_neither_listed_nor_served(client: TestClient, folder: Path) -> None:
    outside = folder.parent / "outside.nnscape"
    random_network([2, 2], seed=0).save(outside)
    (folder / "escape.nnscape").symlink_to(outside)
    (folder / "inside.nnscape").symlink_to(folder / "plain.nnscape")
    names = [entry["name"] for entry in client.get("/api/networks").json()]
    assert "escape.nnscape" not in names
    assert "inside.nnscape" in names
    response = client.get("/api/networks/escape.nnscape")
    assert response.status_code == 403
    assert "outside the served folder" in response.json()["detail"]
    assert client.get("/api/networks/inside.nnscape").content == (folder / "plain.nnscape").read_bytes()


def test_a_subfolder_named_like_a_network_is_not_served(client: TestClient, folder: Path) -> None:
    (folder / "folder.nnscape").mkdir()
    assert "folder.nnscape" not in [entry["name"] for entry in client.get("/api/networks").json()]
    assert client.get("/api/networks/folder.nnscape").status_code == 403


def test_requests_for_another_host_are_refused(client: TestClient) -> None:
    """A web page that rebinds its own domain to 127.0.0.1 must not reach the API."""
    assert client.get("/api/networks", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/api/networks", headers={"host": "localhost:8000"}).status_code == 200


# -- generate ------------------------------------------------------------------------------------------------


def test_generate_writes_a_new_file_that_is_listed_and_loads(client: TestClient) -> None:
    response = client.post("/api/generate", json={"layers": [6, 4, 3], "seed": 7, "name": "fresh"})
    assert response.status_code == 200
    assert response.json() == {"name": "fresh.nnscape"}
    assert client.get("/api/networks").json()[0]["name"] == "fresh.nnscape"
    network = loads(client.get("/api/networks/fresh.nnscape").content)
    assert network.layer_sizes.tolist() == [6, 4, 3]
    expected = random_network([6, 4, 3], seed=7)
    np.testing.assert_array_equal(network.edge_importance, expected.edge_importance)


def test_generate_never_overwrites(client: TestClient, folder: Path) -> None:
    before = (folder / "plain.nnscape").read_bytes()
    first = client.post("/api/generate", json={"layers": [2, 2], "name": "plain.nnscape"}).json()["name"]
    second = client.post("/api/generate", json={"layers": [2, 2], "name": "plain.nnscape"}).json()["name"]
    assert (first, second) == ("plain-2.nnscape", "plain-3.nnscape")
    assert (folder / "plain.nnscape").read_bytes() == before


def test_generate_has_a_default_name(client: TestClient) -> None:
    assert client.post("/api/generate", json={"layers": [3, 2]}).json() == {"name": "random-3-2.nnscape"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"layers": [4, 0, 2]}, "layers.1: Input should be greater than or equal to 1 (got 0)"),
        ({"layers": [4]}, "layers: List should have at least 2 items"),
        ({"layers": "4,2"}, "layers: Input should be a valid list"),
        ({"layers": [4, 2.5]}, "layers.1: Input should be a valid integer"),
        ({"layers": [4, "2"]}, "layers.1: Input should be a valid integer"),
        ({"layers": [4, True]}, "layers.1: Input should be a valid integer"),
        ({"layers": [4, 2], "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({}, "layers: Field required"),
        ({"layers": [4, 2], "classes": 1}, "classes: Input should be greater than or equal to 2"),
        ({"layers": [4, 2], "seed": -1}, "seed: Input should be greater than or equal to 0"),
        ({"layers": [4, 3], "classes": 2}, "classes: the output layer has 3 nodes but 2 classes"),
        ({"layers": [100_000, 100_000]}, "at most 100000000 are allowed"),
        ({"layers": [1, 9_000]}, "at most 268435456 bytes are allowed"),
        ({"layers": [4, 2], "name": "../up"}, "bare file name"),
        ({"layers": [4, 2], "name": "/tmp/abs"}, "bare file name"),
        ({"layers": [4, 2], "name": ".hidden"}, "ending in .nnscape"),
        ({"layers": [4, 2], "name": "semi;colon"}, "a new file name must be"),
    ],
)
def test_generate_refuses_bad_bodies_with_one_line(
    client: TestClient, folder: Path, body: dict[str, object], message: str
) -> None:
    before = sorted(os.listdir(folder))
    response = client.post("/api/generate", json=body)
    assert response.status_code in (400, 422)
    assert message in response.json()["detail"]
    assert "\n" not in response.json()["detail"]
    assert sorted(os.listdir(folder)) == before


def test_a_body_that_is_not_json_is_refused(client: TestClient) -> None:
    response = client.post("/api/generate", content=b"{layers", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "JSON decode error" in response.json()["detail"]


# -- the page and the initial network ------------------------------------------------------------------------


def test_initial_is_the_newest_processed_then_the_newest(client: TestClient, folder: Path) -> None:
    assert client.get("/api/initial").json() == {"network": "plain.processed.nnscape"}
    (folder / "plain.processed.nnscape").unlink()
    assert client.get("/api/initial").json() == {"network": "plain.nnscape"}
    (folder / "plain.nnscape").unlink()
    assert client.get("/api/initial").json() == {"network": None}


def test_initial_is_the_one_given(folder: Path) -> None:
    with TestClient(create_app(folder, initial="plain.nnscape"), base_url=BASE_URL) as client:
        assert client.get("/api/initial").json() == {"network": "plain.nnscape"}


def test_an_initial_name_outside_the_folder_is_refused(folder: Path) -> None:
    with pytest.raises(Exception, match="not a network file"):
        create_app(folder, initial="missing.nnscape")
    with pytest.raises(Exception, match="bare file name"):
        create_app(folder, initial="../plain.nnscape")


def test_the_page_and_its_assets_come_from_the_package_bundle(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "static"
    (bundle / "assets").mkdir(parents=True)
    (bundle / "index.html").write_text("<!doctype html><title>nnscape</title>")
    (bundle / "assets" / "viewer.js").write_text("console.log('viewer')")
    monkeypatch.setattr(app_module, "STATIC_DIR", bundle)
    with TestClient(create_app(folder), base_url=BASE_URL) as client:
        page = client.get("/?network=plain.nnscape")
        assert page.status_code == 200
        assert "<title>nnscape</title>" in page.text
        assert client.get("/static/assets/viewer.js").text == "console.log('viewer')"
        assert client.get("/plain.nnscape").status_code == 404  # the served folder is not static
        assert client.get("/static/plain.nnscape").status_code == 404
        assert client.get("/static/%2e%2e/%2e%2e/served/plain.nnscape").status_code == 404


def test_without_a_built_viewer_the_page_says_how_to_build_it(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "STATIC_DIR", tmp_path / "no-bundle")
    with TestClient(create_app(folder), base_url=BASE_URL) as client:
        page = client.get("/")
        assert page.status_code == 503
        assert "viewer was not built" in page.text
        assert "pip install ." in page.text
        assert client.get("/api/networks").status_code == 200


# -- configs -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("config_type", [ProcessingConfig, RenderConfig])
def test_reading_a_config_creates_it_with_defaults(
    client: TestClient, folder: Path, config_type: type[ProcessingConfig] | type[RenderConfig]
) -> None:
    response = client.get(f"/api/config/{config_type.NAME}")
    assert response.status_code == 200
    assert response.json() == config_type().to_dict()
    saved = folder / "configs" / f"{config_type.NAME}.json"
    assert json.loads(saved.read_text()) == config_type().to_dict()


def test_a_saved_config_round_trips(client: TestClient, folder: Path) -> None:
    changed = RenderConfig(edge_mode="line", edges_size=0.05).to_dict()
    response = client.put("/api/config/rendering", json=changed)
    assert response.status_code == 200
    assert response.json() == changed
    assert client.get("/api/config/rendering").json() == changed
    assert json.loads((folder / "configs" / "rendering.json").read_text()) == changed


def test_a_partial_config_fills_in_defaults(client: TestClient) -> None:
    saved = client.put("/api/config/processing", json={"prune_percentage": 0.5}).json()
    assert saved == ProcessingConfig(prune_percentage=0.5).to_dict()


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("processing", {"prune_percentage": 1.0}, "prune_percentage: 1.0 is not allowed; expected a value in [0, 1)"),
        ("processing", {"smoothing_iterations": "8"}, 'smoothing_iterations: "8" is not allowed'),
        ("processing", {"bandwidth": 0.5}, "unknown processing key 'bandwidth'"),
        ("rendering", {"edges": {"size": -1}}, "edges.size: -1 is not allowed"),
        ("rendering", {"node_mode": "cube"}, 'node_mode: "cube" is not allowed'),
        ("rendering", [1, 2], "Input should be a valid dictionary"),
    ],
)
def test_a_bad_config_is_refused_and_not_saved(
    client: TestClient, folder: Path, name: str, body: object, message: str
) -> None:
    response = client.put(f"/api/config/{name}", json=body)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert not (folder / "configs" / f"{name}.json").exists()


def test_a_broken_config_file_is_reported_not_replaced(client: TestClient, folder: Path) -> None:
    (folder / "configs").mkdir()
    (folder / "configs" / "processing.json").write_text('{"sampling_rate": 99}')
    response = client.get("/api/config/processing")
    assert response.status_code == 422
    assert "sampling_rate: 99 is not allowed" in response.json()["detail"]
    assert (folder / "configs" / "processing.json").read_text() == '{"sampling_rate": 99}'


def test_an_unknown_config_is_refused(client: TestClient) -> None:
    response = client.get("/api/config/secrets")
    assert response.status_code == 422
    assert "name: Input should be 'processing' or 'rendering'" in response.json()["detail"]


@pytest.mark.parametrize(("name", "settings"), [("processing", PROCESSING_SETTINGS), ("rendering", RENDER_SETTINGS)])
def test_the_schema_is_the_settings_table(client: TestClient, name: str, settings: tuple[object, ...]) -> None:
    schema = client.get(f"/api/config/{name}/schema").json()
    assert schema == json.loads(json.dumps([setting.as_json() for setting in settings]))  # type: ignore[attr-defined]
    assert all({"key", "type", "default", "doc", "range"} <= set(entry) for entry in schema)
