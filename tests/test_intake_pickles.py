"""No code runs from a model file: .pt2 archives with a pickle payload in every entry such an archive can hold.

Each payload would create a marker when unpickled. Loading must either refuse the file in one line naming
the entry or succeed without the payload (entries the program does not need are never read).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

from nnscape.cli import main
from nnscape.errors import ModelError
from nnscape.intake import load_model, mlp_chain

Entries = dict[str, bytes]


class _Payload:
    """Unpickling this creates the marker (a folder): the stand-in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (self.marker,))


def _payload(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"x": _Payload(marker)}, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[nn.Module, Entries]:
    """A small MLP saved by torch.export, as entry name → bytes (without the archive's top folder)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3)).eval()
    path = tmp_path_factory.mktemp("export") / "model.pt2"
    torch.export.save(torch.export.export(model, (torch.randn(2, 6),)), path)
    with zipfile.ZipFile(path) as archive:
        entries = {info.filename.split("/", 1)[1]: archive.read(info) for info in archive.infolist()}
    return model, entries


def _write(path: Path, entries: Entries) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(f"model/{name}", data)
    return path


def _set_config(entries: Entries, config: str, key: str, **changes: object) -> None:
    """Change (or add) entry ``key`` of a payload config."""
    content = json.loads(entries[config])
    content["config"].setdefault(key, {"is_param": False, "use_pickle": False}).update(changes)
    entries[config] = json.dumps(content).encode()


WEIGHTS = "data/weights/model_weights_config.json"
CONSTANTS = "data/constants/model_constants_config.json"


def _sample_inputs(entries: Entries, payload: bytes) -> None:
    entries["data/sample_inputs/model.pt"] = payload


def _pickled_weight(entries: Entries, payload: bytes) -> None:
    entries["data/weights/weight_0"] = payload
    _set_config(entries, WEIGHTS, "0.weight", use_pickle=True)


def _pickled_constant(entries: Entries, payload: bytes) -> None:
    entries["data/constants/tensor_0"] = payload
    _set_config(entries, CONSTANTS, "lifted_tensor_0", path_name="tensor_0", use_pickle=True)


def _custom_object(entries: Entries, payload: bytes) -> None:
    entries["data/constants/custom_obj_0"] = payload
    _set_config(entries, CONSTANTS, "lifted_tensor_0", path_name="custom_obj_0")


def _opaque_object(entries: Entries, payload: bytes) -> None:
    entries["data/constants/opaque_obj_0"] = payload
    _set_config(entries, CONSTANTS, "lifted_tensor_0", path_name="opaque_obj_0")


def _legacy_weights(entries: Entries, payload: bytes) -> None:
    entries["data/weights/model.pt"] = payload


def _legacy_constants(entries: Entries, payload: bytes) -> None:
    entries["data/constants/model.pt"] = payload


def _raw_weight_is_a_pickle(entries: Entries, payload: bytes) -> None:
    entries["data/weights/weight_0"] = payload  # read as raw float bytes, if at all


def _second_program(entries: Entries, payload: bytes) -> None:
    entries["models/other.json"] = entries["models/model.json"]
    entries["data/sample_inputs/other.pt"] = payload


def _extra_and_compiled_files(entries: Entries, payload: bytes) -> None:
    entries["extra/notes.pt"] = payload
    entries["data/aotinductor/model/model.so"] = payload  # torch would dlopen a compiled package
    entries["data/executorch/model.pte"] = payload


def _old_format(entries: Entries, payload: bytes) -> None:
    """The torch 2.7 layout (``version`` and ``serialized_*.pt`` at the top), which torch's loader falls back to."""
    entries.clear()
    entries.update({
        "version": b"8.0", "serialized_exported_program.json": b"{}", "serialized_state_dict.pt": payload,
        "serialized_constants.pt": payload, "serialized_example_inputs.pt": payload,
    })  # fmt: skip


Attack = Callable[[Entries, bytes], None]
REFUSED: dict[str, tuple[Attack, str]] = {
    "pickled-weight": (_pickled_weight, r"entry '0\.weight' is stored as a pickle"),
    "pickled-constant": (_pickled_constant, r"entry 'lifted_tensor_0' is stored as a pickle"),
    "custom-object": (_custom_object, r"entry 'lifted_tensor_0' is stored as a pickle"),
    "opaque-object": (_opaque_object, r"entry 'lifted_tensor_0' is stored as a pickle"),
    "legacy-weights": (_legacy_weights, r"stored as a pickle \(legacy \.pt2 layout\)"),
    "legacy-constants": (_legacy_constants, r"stored as a pickle \(legacy \.pt2 layout\)"),
    "raw-weight": (_raw_weight_is_a_pickle, r"cannot load the export model"),
    "old-format": (_old_format, r"cannot load the checkpoint model"),
}
IGNORED: dict[str, Attack] = {
    "sample-inputs": _sample_inputs,
    "second-program": _second_program,
    "extra-and-compiled": _extra_and_compiled_files,
}


def test_the_payload_is_live(tmp_path: Path) -> None:
    """The payload does run when something unpickles it, so the tests below would notice."""
    marker = tmp_path / "ran"
    torch.load(io.BytesIO(_payload(marker)), weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("attack", REFUSED.values(), ids=REFUSED.keys())
def test_a_program_needing_a_pickle_is_refused_without_running_it(
    attack: tuple[Attack, str], exported: tuple[nn.Module, Entries], tmp_path: Path
) -> None:
    change, message = attack
    entries = dict(exported[1])
    marker = tmp_path / "ran"
    change(entries, _payload(marker))
    with pytest.raises(ModelError, match=message) as refusal:
        load_model(_write(tmp_path / "evil.pt2", entries))
    assert "\n" not in str(refusal.value)
    assert not marker.exists()


@pytest.mark.parametrize("attack", IGNORED.values(), ids=IGNORED.keys())
def test_entries_the_program_does_not_need_are_never_read(
    attack: Attack, exported: tuple[nn.Module, Entries], tmp_path: Path
) -> None:
    model, clean = exported
    entries = dict(clean)
    marker = tmp_path / "ran"
    attack(entries, _payload(marker))
    loaded = load_model(_write(tmp_path / "evil.pt2", entries))
    assert not marker.exists()
    x = torch.randn(2, 6)  # the batch size it was exported with
    torch.testing.assert_close(loaded(x), model(x))
    assert mlp_chain(loaded).layer_sizes == [6, 4, 3]


@pytest.mark.parametrize("command", ["importance", "evaluate"])
def test_cli_never_runs_a_sample_inputs_payload(
    command: str, exported: tuple[nn.Module, Entries], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reported attack, end to end: the file loads (its program is fine) and the payload stays inert."""
    entries = dict(exported[1])
    marker = tmp_path / "ran"
    _sample_inputs(entries, _payload(marker))
    _set_config(entries, WEIGHTS, "0.weight", use_pickle=True)  # and a weight torch would unpickle
    path = _write(tmp_path / "evil.pt2", entries)
    out = tmp_path / "out.nnscape"
    assert main([command, str(path), "--data", "digits", "--out", str(out), "--quiet"]) == 1
    error = capsys.readouterr().err
    assert "is stored as a pickle" in error
    assert error.count("\n") == 1
    assert not marker.exists()
    assert not out.exists()
