"""Routes for the two configs: read (created with defaults), save (validated), and their settings tables."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body

from nnscape.config import ProcessingConfig, RenderConfig, load_config, save_config
from nnscape.server.state import State

__all__ = ["router"]

router = APIRouter(prefix="/api/config", tags=["config"])

ConfigName = Literal["processing", "rendering"]
_CONFIGS: dict[str, type[ProcessingConfig] | type[RenderConfig]] = {
    ProcessingConfig.NAME: ProcessingConfig,
    RenderConfig.NAME: RenderConfig,
}


@router.get("/{name}")
def read_config(name: ConfigName, state: State) -> dict[str, Any]:
    """The saved config as nested JSON; a missing file is created with the defaults."""
    path = state.config_folder / f"{name}.json"
    config = load_config(_CONFIGS[name], path)
    if not path.exists():
        save_config(config, path)
    return config.to_dict()


@router.put("/{name}")
def write_config(name: ConfigName, values: Annotated[dict[str, Any], Body()], state: State) -> dict[str, Any]:
    """Replace the saved config (keys left out take their defaults); answers what was saved."""
    config = _CONFIGS[name].from_dict(values, source=name)
    save_config(config, state.config_folder / f"{name}.json")
    return config.to_dict()


@router.get("/{name}/schema")
def config_schema(name: ConfigName) -> list[dict[str, Any]]:
    """Each setting's key, type, default, range and doc, in display order, for building controls."""
    return [setting.as_json() for setting in _CONFIGS[name].SETTINGS]
