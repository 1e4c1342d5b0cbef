"""Processing and render configs: defaults, ranges, JSON files and --set overrides."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from nnscape.cli import main
from nnscape.config import (
    PROCESSING_SETTINGS,
    RENDER_SETTINGS,
    ProcessingConfig,
    RenderConfig,
    load_config,
    parse_overrides,
    save_config,
)
from nnscape.errors import ConfigError


@pytest.mark.parametrize("config_type", [ProcessingConfig, RenderConfig])
def test_dataclass_defaults_match_the_setting_table(config_type: type[ProcessingConfig]) -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(config_type)}
    assert {s.key.replace(".", "_"): s.default for s in config_type.SETTINGS} == defaults


def test_processing_defaults_are_those_of_the_algorithm() -> None:
    assert ProcessingConfig().to_dict() == {
        "edge_bandwidth_reduction": 0.86, "node_bandwidth_reduction": 0.95, "edge_importance_type": 0,
        "layer_distance": 0.5, "layer_width": 1.0, "prune_percentage": 0.0, "sampling_rate": 15.0,
        "smoothing": True, "smoothing_iterations": 8,
    }  # fmt: skip


def test_render_config_nests_dotted_keys() -> None:
    nested = RenderConfig().to_dict()
    assert nested["edges"]["importance_opacity"] == 1.1
    assert nested["nodes"]["size"] == 0.04
    assert nested["edge_mode"] == "transparent_ellipsoid"
    assert RenderConfig.from_dict(nested) == RenderConfig()
    assert RenderConfig.from_dict({"edges.size": 0.5}).edges_size == 0.5


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"edge_bandwidth_reduction": 1.0}, r"edge_bandwidth_reduction: 1.0 is not allowed; .*\(0, 0.999\]"),
        ({"prune_percentage": 1}, r"prune_percentage: 1 .*\[0, 1\)"),
        ({"sampling_rate": 4.9}, r"sampling_rate: 4.9 .*\[5, 20\]"),
        ({"smoothing": "yes"}, r'smoothing: "yes" .*true or false'),
        ({"smoothing_iterations": 2.5}, r"smoothing_iterations: 2.5 .*whole number in \[0, 16\]"),
        ({"edge_importance_type": 4}, r"edge_importance_type: 4 .*one of 0, 1, 2, 3"),
        ({"layer_width": "wide"}, r'layer_width: "wide" .*a number in \(0, 1\]'),
        ({"layer_width": True}, r"layer_width: true .*a number"),
        ({"sampling_rates": 10}, r"unknown processing key 'sampling_rates'"),
    ],
)
def test_bad_processing_values_name_key_value_and_range(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ProcessingConfig.from_dict(values)


def test_bad_render_values() -> None:
    with pytest.raises(ConfigError, match=r"edges.importance_opacity: 2.5 .*\[0, 2\]"):
        RenderConfig.from_dict({"edges": {"importance_opacity": 2.5}})
    with pytest.raises(ConfigError, match=r"node_mode: \"cube\" .*one of \"none\""):
        RenderConfig.from_dict({"node_mode": "cube"})


def test_files_round_trip_and_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "configs" / "processing.json"
    assert load_config(ProcessingConfig, path) == ProcessingConfig()
    changed = ProcessingConfig(prune_percentage=0.5, smoothing=False)
    save_config(changed, path)
    assert load_config(ProcessingConfig, path) == changed
    path.write_text(json.dumps({"layer_width": 3}))
    with pytest.raises(ConfigError, match=rf"{path}: layer_width: 3"):
        load_config(ProcessingConfig, path)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read JSON"):
        load_config(ProcessingConfig, path)


def test_overrides_parse_types() -> None:
    overrides = parse_overrides(["smoothing=false", "sampling_rate=10", "prune_percentage=0.25"], PROCESSING_SETTINGS)
    assert overrides == {"smoothing": False, "sampling_rate": 10.0, "prune_percentage": 0.25}
    assert parse_overrides(["edge_mode=line"], RENDER_SETTINGS) == {"edge_mode": "line"}
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_overrides(["smoothing"], PROCESSING_SETTINGS)
    with pytest.raises(ConfigError, match="--set bogus: unknown key"):
        parse_overrides(["bogus=1"], PROCESSING_SETTINGS)
    with pytest.raises(ConfigError, match=r"sampling_rate: 100 .*\[5, 20\]"):
        parse_overrides(["sampling_rate=100"], PROCESSING_SETTINGS)


def test_every_setting_describes_its_range() -> None:
    for setting in (*PROCESSING_SETTINGS, *RENDER_SETTINGS):
        described = setting.as_json()
        assert described["default"] == setting.default
        assert described["range"]
        assert setting.check(setting.default) == setting.default


def test_generate_cli_rejects_bad_layers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = str(tmp_path / "x.nnscape")
    assert main(["generate", "--layers", "4,x,2", "--out", out]) == 1
    assert "--layers: 'x' is not a whole number" in capsys.readouterr().err
    assert main(["generate", "--layers", "4,0,2", "--out", out]) == 1
    assert "at least one node" in capsys.readouterr().err
    assert main(["generate", "--layers", "4,3", "--classes", "5", "--out", out]) == 1
    assert "output layer has 3 nodes but 5 classes" in capsys.readouterr().err
    assert main(["generate", "--layers", "4,3", "--out", str(tmp_path / "no" / "x.nnscape")]) == 1
    assert "does not exist" in capsys.readouterr().err
