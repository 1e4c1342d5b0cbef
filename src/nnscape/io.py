"""Reading and writing ``.nnscape`` files (safetensors; tensor names and metadata as in DESIGN.md).

Writing serialises the safetensors layout here (header keys sorted, so the same network gives the same bytes,
which the ``safetensors`` package's writer does not promise for metadata) into a temporary file beside the
target, then a rename, so a crash never leaves half a file where a good one was. Reading parses the header here
too, so that every defect (truncation, wrong magic, a header lying about shapes, NaN, bad indices) becomes one
:class:`~nnscape.errors.FormatError` naming the file and the field, never a traceback or a partial object.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nnscape import __version__
from nnscape.errors import FormatError
from nnscape.files import atomic_write_bytes
from nnscape.network import Network

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "load", "read_metadata", "save"]

FORMAT_NAME = "nnscape"
FORMAT_VERSION = "1"
# Metadata keys owned by the file format; the rest of Network.metadata is carried through unchanged.
_RESERVED_METADATA = ("format", "version", "kind", "class_names", "created_by")
_HEADER_SIZE_BYTES = 8
_MAX_HEADER_BYTES = 100 * 1024 * 1024  # same bound as the safetensors reference reader
_DTYPES: dict[str, np.dtype[Any]] = {"I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "F32": np.dtype("<f4")}
_DTYPE_NAMES = {dtype: name for name, dtype in _DTYPES.items()}
_HEADER_ALIGNMENT = 8  # safetensors pads the header with spaces so tensor data starts aligned
_REQUIRED = ("layer_sizes", "node_importance", "node_position", "edge_source", "edge_target",
             "edge_weight", "edge_importance")  # fmt: skip
_PROCESSED = ("edge_offsets", "edge_points")


def save(network: Network, path: str | os.PathLike[str]) -> None:
    """Validate ``network`` and write it to ``path`` atomically."""
    network.validate()
    clash = sorted(set(network.metadata) & set(_RESERVED_METADATA))
    if clash:
        raise FormatError(f"metadata: keys {clash} are written by nnscape itself and cannot be set")
    tensors: dict[str, np.ndarray] = {name: np.ascontiguousarray(getattr(network, name)) for name in _REQUIRED}
    if network.edge_offsets is not None and network.edge_points is not None:
        tensors["edge_offsets"] = np.ascontiguousarray(network.edge_offsets)
        tensors["edge_points"] = np.ascontiguousarray(network.edge_points)
    metadata = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "kind": network.kind,
        "class_names": json.dumps(list(network.class_names)),
        "created_by": f"nnscape {__version__}",
        **network.metadata,
    }
    atomic_write_bytes(path, _encode(tensors, metadata))


def _encode(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> bytes:
    """The safetensors bytes of ``tensors`` (little-endian) with ``metadata``.

    Tensors are laid out widest dtype first, then by name, so every tensor starts at a multiple of its item
    size and the viewer can view the buffer as typed arrays without copying.
    """
    header: dict[str, Any] = {"__metadata__": dict(sorted(metadata.items()))}
    blobs, offset = [], 0
    for name in sorted(tensors, key=lambda n: (-tensors[n].dtype.itemsize, n)):
        array = tensors[name]
        blob = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {
            "dtype": _DTYPE_NAMES[array.dtype.newbyteorder("<")],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % _HEADER_ALIGNMENT)
    return b"".join([struct.pack("<Q", len(text)), text, *blobs])


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``__metadata__`` of a ``.nnscape`` file, checked for format and version, without its tensors."""
    name = str(path)
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            header, _ = _read_header(file.read(_HEADER_SIZE_BYTES), file, size, name)
    except OSError as exc:
        raise FormatError(f"{name}: cannot read file ({exc.strerror})") from exc
    return _check_metadata(header, name)


def load(path: str | os.PathLike[str], *, name: str | None = None) -> Network:
    """Read and fully validate a ``.nnscape`` file of either kind; errors name it ``name`` (default: the path)."""
    name = str(path) if name is None else name
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FormatError(f"{name}: cannot read file ({exc.strerror})") from exc
    return loads(data, name=name)


def loads(data: bytes, *, name: str = "<bytes>") -> Network:
    """Parse and validate the bytes of a ``.nnscape`` file; ``name`` is used in error messages."""
    header, body_start = _read_header(data[:_HEADER_SIZE_BYTES], None, len(data), name, data)
    metadata = _check_metadata(header, name)
    kind = metadata["kind"]
    expected = _REQUIRED + (_PROCESSED if kind == "processed" else ())
    tensors = {key: value for key, value in header.items() if key != "__metadata__"}
    missing = [key for key in expected if key not in tensors]
    if missing:
        raise FormatError(f"{name}: field {missing[0]} is missing (kind={kind})")
    unknown = sorted(set(tensors) - set(expected))
    if unknown:
        raise FormatError(f"{name}: field {unknown[0]} is not part of a {kind} file")
    arrays = {key: _tensor(tensors[key], key, data, body_start, name) for key in expected}
    try:
        class_names = json.loads(metadata["class_names"])
    except (KeyError, json.JSONDecodeError) as exc:
        raise FormatError(f"{name}: metadata class_names must be a JSON list of strings") from exc
    if not isinstance(class_names, list):
        raise FormatError(f"{name}: metadata class_names must be a JSON list of strings")
    network = Network(
        **arrays,
        class_names=tuple(class_names),
        metadata={k: v for k, v in metadata.items() if k not in _RESERVED_METADATA},
    )
    try:
        network.validate()
    except FormatError as exc:
        raise FormatError(f"{name}: {exc}") from exc
    return network


def _read_header(
    prefix: bytes, file: Any, size: int, name: str, data: bytes | None = None
) -> tuple[dict[str, Any], int]:
    """Parse the length prefix and JSON header; return it and where the tensor bytes start."""
    if size < _HEADER_SIZE_BYTES:
        raise FormatError(f"{name}: not a .nnscape file (only {size} bytes; empty or truncated)")
    (length,) = struct.unpack("<Q", prefix)
    if length > min(_MAX_HEADER_BYTES, size - _HEADER_SIZE_BYTES):
        raise FormatError(
            f"{name}: not a .nnscape file (header length {length} does not fit the file of {size} bytes; "
            "wrong format or truncated)"
        )
    end = _HEADER_SIZE_BYTES + length
    raw = data[_HEADER_SIZE_BYTES:end] if data is not None else file.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{name}: not a .nnscape file (header is not valid JSON)") from exc
    if not isinstance(header, dict):
        raise FormatError(f"{name}: not a .nnscape file (header is not a JSON object)")
    return header, end


def _check_metadata(header: Mapping[str, Any], name: str) -> dict[str, str]:
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise FormatError(f"{name}: not a .nnscape file (no string metadata; a plain safetensors file?)")
    if metadata.get("format") != FORMAT_NAME:
        raise FormatError(f"{name}: metadata format is {metadata.get('format')!r}, expected {FORMAT_NAME!r}")
    if metadata.get("version") != FORMAT_VERSION:
        raise FormatError(
            f"{name}: format version {metadata.get('version')!r} is not supported (this nnscape reads "
            f"version {FORMAT_VERSION}); upgrade nnscape"
        )
    if metadata.get("kind") not in ("network", "processed"):
        raise FormatError(f"{name}: metadata kind is {metadata.get('kind')!r}, expected 'network' or 'processed'")
    return dict(metadata)


def _tensor(entry: Any, key: str, data: bytes, body_start: int, name: str) -> np.ndarray:
    if not isinstance(entry, dict):
        raise FormatError(f"{name}: field {key} has a malformed header entry")
    dtype = _DTYPES.get(str(entry.get("dtype")))
    if dtype is None:
        raise FormatError(f"{name}: field {key} has unsupported dtype {entry.get('dtype')!r}")
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise FormatError(f"{name}: field {key} has a malformed shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
        raise FormatError(f"{name}: field {key} has malformed data_offsets {offsets!r}")
    begin, end = body_start + offsets[0], body_start + offsets[1]
    count = int(np.prod(shape, dtype=np.int64))
    if offsets[0] < 0 or end < begin or end - begin != count * dtype.itemsize:
        raise FormatError(
            f"{name}: field {key} claims shape {shape} ({count * dtype.itemsize} bytes) but its data_offsets "
            f"span {offsets[1] - offsets[0]} bytes"
        )
    if end > len(data):
        raise FormatError(f"{name}: field {key} runs past the end of the file (truncated)")
    # Native-endian copy: the arrays outlive ``data`` and are compared against int32/float32 dtypes.
    array: np.ndarray = np.frombuffer(data, dtype=dtype, count=count, offset=begin)
    return array.reshape(shape).astype(dtype.newbyteorder("="))
