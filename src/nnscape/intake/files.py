"""File loading: TorchScript, torch.export ``.pt2``, ONNX and nnscape checkpoints, never unpickling an entry.

The kind is recognised by the zip archive's contents, not the file name; a file that is not a zip archive is
read as ONNX when it is named ``.onnx`` (:mod:`nnscape.intake.onnx_file`).

- A checkpoint is read with ``torch.load(weights_only=True)``, which refuses anything but tensors and plain values.
- A ``.pt2`` archive is rebuilt in memory before torch sees it, because torch's export loader unpickles
  several entries (pickled weights and constants, custom and opaque objects, the legacy weights file) and
  retries ``torch.load`` with ``weights_only=False`` when the safe load of the sample inputs refuses. The copy
  holds only the program (JSON), the raw tensors its weight and constant configs list, and empty sample inputs
  (which torch reads as "none"); AOTInductor binaries, ExecuTorch programs, extra files and other programs are
  left behind, and an archive whose program needs a pickled entry is refused naming the entry.
- A TorchScript file is read by TorchScript's own loader, whose unpickler knows tensors and TorchScript types only.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nnscape.errors import ModelError
from nnscape.intake.factory import model_from_checkpoint
from nnscape.intake.onnx_file import load_onnx

__all__ = ["MAX_ARCHIVE_BYTES", "load_model", "safe_export_archive"]

MAX_ARCHIVE_BYTES = 4 << 30  # uncompressed entries nnscape reads from one model archive (a zip bomb stops here)
PROGRAM = "model"  # the program torch.export.save writes and torch.export.load returns
# Small text entries the loader reads, copied as they are.
_PLAIN_ENTRIES = ("archive_format", "archive_version", "byteorder", ".data/version", ".data/serialization_id")
_PROGRAM_ENTRY = f"models/{PROGRAM}.json"
_PAYLOADS = {  # payload config → folder of its raw tensors and the prefix torch gives their names
    f"data/weights/{PROGRAM}_weights_config.json": ("data/weights/", "weight_"),
    f"data/constants/{PROGRAM}_constants_config.json": ("data/constants/", "tensor_"),
}
_SAMPLE_INPUTS = f"data/sample_inputs/{PROGRAM}.pt"


def load_model(path: str | os.PathLike[str]) -> nn.Module:
    """Load a TorchScript file, a ``torch.export`` ``.pt2`` file, an ONNX file or an nnscape checkpoint, never
    unpickling or executing anything from the file.

    The model is checked with :func:`nnscape.intake.layer_chain` before it is returned.
    """
    from nnscape.intake import layer_chain

    file = Path(path)
    if not file.is_file():
        raise ModelError(f"{file}: no such model file")
    if not zipfile.is_zipfile(file):
        if file.suffix.lower() == ".onnx":
            return load_onnx(file)
        raise ModelError(
            f"{file}: not a model file nnscape reads (expected a TorchScript, .pt2, .onnx or nnscape checkpoint)"
        )
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            if any(name.split("/", 1)[-1] == "archive_format" for name in names):
                kind = "export"
                program = safe_export_archive(file, archive)
            elif any("/code/" in name for name in names):
                kind = "torchscript"
            else:
                kind = "checkpoint"
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelError(f"{file}: cannot read the archive: {exc}") from exc
    try:
        if kind == "export":
            model: nn.Module = _exported_program(program).module()
        elif kind == "torchscript":
            with warnings.catch_warnings():  # torch deprecates the format, but users still have such files
                warnings.filterwarnings("ignore", message=r"`torch\.jit\.load` is")
                model = torch.jit.load(file, map_location="cpu")  # type: ignore[no-untyped-call]
        else:
            model = model_from_checkpoint(file, torch.load(file, map_location="cpu", weights_only=True))
    except ModelError:
        raise
    except Exception as exc:  # torch raises many types for corrupt archives; one message for all of them
        raise ModelError(f"{file}: cannot load the {kind} model: {str(exc).splitlines()[0]}") from exc
    layer_chain(model)
    return model


def safe_export_archive(file: Path, archive: zipfile.ZipFile) -> io.BytesIO:
    """An in-memory ``.pt2`` holding only what the program needs and nothing torch would unpickle.

    Raises :class:`ModelError` naming the entry when the program needs a pickled entry or an entry is missing.
    """
    prefix = _archive_prefix(file, archive)
    present = {info.filename.removeprefix(prefix): info for info in archive.infolist()}
    if f"data/weights/{PROGRAM}.pt" in present or f"data/constants/{PROGRAM}.pt" in present:
        raise ModelError(f"{file}: the weights are stored as a pickle (legacy .pt2 layout), which nnscape never loads")
    wanted = [name for name in (*_PLAIN_ENTRIES, _PROGRAM_ENTRY, *_PAYLOADS) if name in present]
    for name in (_PROGRAM_ENTRY, *_PAYLOADS):
        if name not in present:
            raise ModelError(f"{file}: not a torch.export archive of one program: entry {name!r} is missing")
    for config_name, (folder, tensor_prefix) in _PAYLOADS.items():
        wanted += [folder + path_name for path_name in _raw_tensors(file, archive, present[config_name], tensor_prefix)]
    total = sum(present[name].file_size for name in wanted if name in present)
    if total > MAX_ARCHIVE_BYTES:
        raise ModelError(f"{file}: the program's entries hold {total} bytes; nnscape reads at most {MAX_ARCHIVE_BYTES}")
    copy = io.BytesIO()
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
        for name in wanted:
            if name not in present:
                raise ModelError(f"{file}: entry {name!r} is listed in the archive's config but missing")
            out.writestr(f"{PROGRAM}/{name}", archive.read(present[name]))
        out.writestr(f"{PROGRAM}/{_SAMPLE_INPUTS}", b"")  # read as "no sample inputs"
    copy.seek(0)
    return copy


def _exported_program(program: io.BytesIO) -> torch.export.ExportedProgram:
    """The program of a safe copy, read by the loader ``torch.export.load`` tries first.

    Called directly because ``torch.export.load`` logs a traceback when it fails and then retries the file as
    the pre-2.8 layout, whose error hides the real one.
    """
    from torch.export.pt2_archive._package import load_pt2

    return load_pt2(program).exported_programs[PROGRAM]


def _archive_prefix(file: Path, archive: zipfile.ZipFile) -> str:
    """The top folder every entry sits in (torch writes ``<name>/…``)."""
    for name in archive.namelist():
        if name.split("/", 1)[-1] == "archive_format":
            prefix = name[: -len("archive_format")]
            if prefix.count("/") <= 1 and all(other.startswith(prefix) for other in archive.namelist()):
                return prefix
    raise ModelError(f"{file}: not a torch.export archive: its entries are not in one top folder")


def _raw_tensors(file: Path, archive: zipfile.ZipFile, config: zipfile.ZipInfo, tensor_prefix: str) -> set[str]:
    """The raw tensor files a payload config lists; refuses any entry torch would unpickle."""
    if config.file_size > 64 << 20:
        raise ModelError(f"{file}: {config.filename} is {config.file_size} bytes; expected a small JSON config")
    try:
        entries: Any = json.loads(archive.read(config))["config"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ModelError(f"{file}: {config.filename} is not a payload config: {exc}") from exc
    if not isinstance(entries, dict):
        raise ModelError(f"{file}: {config.filename}: 'config' must be an object")
    names: set[str] = set()
    for key, entry in entries.items():
        path_name = entry.get("path_name") if isinstance(entry, dict) else None
        if not isinstance(path_name, str):
            raise ModelError(f"{file}: {config.filename}: entry {key!r} has no path_name")
        if entry.get("use_pickle") is not False or not path_name.startswith(tensor_prefix):
            raise ModelError(f"{file}: entry {key!r} is stored as a pickle, which nnscape never loads")
        if posixpath.basename(path_name) != path_name or path_name in ("", ".", ".."):
            raise ModelError(f"{file}: {config.filename}: entry {key!r} has a bad path_name {path_name!r}")
        names.add(path_name)
    return names
