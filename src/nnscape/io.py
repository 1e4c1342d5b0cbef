"""Reading and writing ``.nnscape`` files: safetensors with the tensors and metadata of docs/format.md.

Writing serialises the safetensors layout here (header keys sorted, so the same network gives the same bytes,
which the ``safetensors`` package's writer does not promise for metadata) into a temporary file beside the
target, then a rename, so a crash never leaves half a file where a good one was. Reading parses the header here
too, as strictly as the safetensors reference reader (duplicate keys, overlaps, gaps and trailing bytes are
refused) and before the tensor bytes are read, so that every defect becomes one
:class:`~nnscape.errors.FormatError` naming the file and the field, never a traceback or a partial object.
The viewer's ``web/src/format.ts`` applies the same rules; ``tests/corpus/`` holds the files both are tested on.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import struct
from collections.abc import Mapping
from typing import IO, Any, NoReturn

import numpy as np

from nnscape import __version__
from nnscape.errors import FormatError
from nnscape.files import atomic_write_bytes
from nnscape.network import Network, default_layer_kinds, default_layer_names

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "READABLE_VERSIONS",
    "atomic_write_bytes",
    "json_depth",
    "load",
    "loads",
    "read_metadata",
    "save",
]

FORMAT_NAME = "nnscape"
# Written always; version 1 (no layer names or kinds, edges between consecutive layers only) is still read.
FORMAT_VERSION = "2"
READABLE_VERSIONS = ("1", "2")
# Metadata keys owned by the file format; the rest of Network.metadata is carried through unchanged.
_RESERVED_METADATA = ("format", "version", "kind", "class_names", "layer_names", "layer_kinds", "created_by")
_V2_METADATA = ("layer_names", "layer_kinds")
_HEADER_SIZE_BYTES = 8
_MAX_HEADER_BYTES = 100 * 1024 * 1024  # same bound as the safetensors reference reader
# Header object → tensor entry or __metadata__ → shape / data_offsets list; nothing legitimate nests deeper.
_MAX_HEADER_DEPTH = 3
# Longer integer literals are refused; no real size or offset needs more digits (2**64 has 20).
_MAX_INTEGER_DIGITS = 20
_DTYPES: dict[str, np.dtype[Any]] = {"I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "F32": np.dtype("<f4")}
_DTYPE_NAMES = {dtype: name for name, dtype in _DTYPES.items()}
_HEADER_ALIGNMENT = 8  # safetensors pads the header with spaces so tensor data starts aligned
# Every tensor of the format: its dtype and number of dimensions.
_FIELDS: dict[str, tuple[str, int]] = {
    "layer_sizes": ("I64", 1),
    "node_importance": ("F32", 2),
    "node_position": ("F32", 2),
    "edge_source": ("I32", 1),
    "edge_target": ("I32", 1),
    "edge_weight": ("F32", 1),
    "edge_importance": ("F32", 1),
    "edge_offsets": ("I64", 1),
    "edge_points": ("F32", 2),
}
_REQUIRED = tuple(_FIELDS)[:7]
_PROCESSED = ("edge_offsets", "edge_points")
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}


def save(network: Network, path: str | os.PathLike[str]) -> None:
    """Validate ``network`` and write it to ``path`` atomically, as format version 2."""
    atomic_write_bytes(path, dumps(network))


def dumps(network: Network) -> bytes:
    """The bytes of ``network`` as a version 2 ``.nnscape`` file (validated first)."""
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
        "layer_names": json.dumps(list(network.layer_names)),
        "layer_kinds": json.dumps(list(network.layer_kinds)),
        "created_by": f"nnscape {__version__}",
        **network.metadata,
    }
    return encode(tensors, metadata)


def encode(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> bytes:
    """The safetensors bytes of ``tensors`` (little-endian) with ``metadata``; no checks.

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


# -- reading ---------------------------------------------------------------------------------------------


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``__metadata__`` of a ``.nnscape`` file, checked, without reading its tensors."""
    name = str(path)
    with _open(path, name) as (file, size):
        header, _ = _read_header(file, size, name)
        return _check_metadata(header, name)


def load(path: str | os.PathLike[str], *, name: str | None = None) -> Network:
    """Read and fully validate a ``.nnscape`` file of either kind; errors name it ``name`` (default: the path).

    The 8-byte length and the header are read and checked first; the tensor bytes only once the header has
    accounted for every byte of the file. Anything but a regular file (a FIFO, a device) is refused unopened.
    """
    name = str(path) if name is None else name
    with _open(path, name) as (file, size):
        return _read(file, size, name)


def loads(data: bytes, *, name: str = "<bytes>") -> Network:
    """Parse and validate the bytes of a ``.nnscape`` file; ``name`` is used in error messages."""
    return _read(io.BytesIO(data), len(data), name)


@contextlib.contextmanager
def _open(path: str | os.PathLike[str], name: str) -> Any:
    try:
        # Non-blocking, so that opening a FIFO returns at once and is then refused as not a regular file.
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise FormatError(f"{name}: cannot read file ({exc.strerror})") from exc
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise FormatError(f"{name}: not a regular file (a folder, FIFO or device cannot be a .nnscape file)")
        try:
            yield file, info.st_size
        except OSError as exc:
            raise FormatError(f"{name}: cannot read file ({exc.strerror})") from exc


def _read(file: IO[bytes], size: int, name: str) -> Network:
    header, header_length = _read_header(file, size, name)
    metadata = _check_metadata(header, name)
    version, kind = metadata["version"], metadata["kind"]
    expected = _REQUIRED + (_PROCESSED if kind == "processed" else ())
    tensors = {key: value for key, value in header.items() if key != "__metadata__"}
    unknown = sorted(set(tensors) - set(expected))
    if unknown:
        _fail(name, f"field {unknown[0]} is not part of a {kind} file")
    missing = [key for key in expected if key not in tensors]
    if missing:
        _fail(name, f"field {missing[0]} is missing (kind={kind})")
    body_length = size - _HEADER_SIZE_BYTES - header_length
    spans = {key: _entry(tensors[key], key, name) for key in expected}
    _check_tiling(spans, body_length, name)
    body = file.read(body_length)
    if len(body) != body_length:
        _fail(name, "the file shrank while it was read")
    arrays = {key: _array(body, key, tensors[key], spans[key]) for key in expected}
    layer_names, layer_kinds = _layer_labels(metadata, len(arrays["layer_sizes"]), name)
    network = Network(
        **arrays,
        class_names=tuple(_string_list(metadata, "class_names", name)),
        layer_names=layer_names,
        layer_kinds=layer_kinds,
        metadata={k: v for k, v in metadata.items() if k not in _RESERVED_METADATA},
    )
    try:
        network.validate()
    except FormatError as exc:
        raise FormatError(f"{name}: {exc}") from exc
    if version == "1" and (network.edge_span != 1).any():
        e = int(np.argmax(network.edge_span != 1))
        _fail(name, f"edge_target: edge {e} skips a layer, which a version 1 file cannot hold")
    return network


def _fail(name: str, message: str) -> NoReturn:
    raise FormatError(f"{name}: {message}")


def _read_header(file: IO[bytes], size: int, name: str) -> tuple[dict[str, Any], int]:
    """Check the length prefix, then read and parse the JSON header; return it and its length in bytes."""
    if size < _HEADER_SIZE_BYTES:
        _fail(name, f"not a .nnscape file (header: only {size} bytes; empty or truncated)")
    (length,) = struct.unpack("<Q", file.read(_HEADER_SIZE_BYTES))
    if length > min(_MAX_HEADER_BYTES, size - _HEADER_SIZE_BYTES):
        _fail(
            name,
            f"not a .nnscape file (header length {length} does not fit the file of {size} bytes or the "
            f"{_MAX_HEADER_BYTES}-byte bound; wrong format or truncated)",
        )
    raw = file.read(length)
    if len(raw) != length:
        _fail(name, "the file shrank while it was read")
    return parse_header(raw, name), length


def parse_header(raw: bytes, name: str) -> dict[str, Any]:
    """The JSON header: strict UTF-8, standard JSON, no repeated key, at most three levels deep, an object."""
    try:
        text = raw.decode("utf-8")
        header = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_int=_integer)
    except _RepeatedKeyError as exc:
        _fail(name, f"header: key {exc.args[0][:80]!r} appears twice in one object")
    except RecursionError:
        _fail(name, f"header: nests deeper than {_MAX_HEADER_DEPTH} levels")
    except (UnicodeDecodeError, ValueError):
        _fail(name, "not a .nnscape file (header is not valid JSON)")
    if json_depth(header) > _MAX_HEADER_DEPTH:
        _fail(name, f"header: nests deeper than {_MAX_HEADER_DEPTH} levels")
    if not isinstance(header, dict):
        _fail(name, "not a .nnscape file (header is not a JSON object)")
    return header


class _RepeatedKeyError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _RepeatedKeyError(key)
        result[key] = value
    return result


def _no_constant(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")  # Python accepts NaN and Infinity; JSON (and the viewer) do not


def _integer(literal: str) -> int:
    if len(literal.lstrip("-")) > _MAX_INTEGER_DIGITS:
        raise ValueError(f"integer of {len(literal)} digits")
    return int(literal)


def json_depth(value: object) -> int:
    """How deeply JSON objects and arrays nest in ``value`` (a scalar is 0); iterative, so any depth is safe."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _check_metadata(header: Mapping[str, Any], name: str) -> dict[str, str]:
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        _fail(name, "not a .nnscape file (__metadata__: no string metadata; a plain safetensors file?)")
    if metadata.get("format") != FORMAT_NAME:
        _fail(name, f"metadata format is {_short(metadata.get('format'))}, expected {FORMAT_NAME!r}")
    version = metadata.get("version")
    if version not in READABLE_VERSIONS:
        _fail(
            name,
            f"format version {_short(version)} is not supported (this nnscape reads versions "
            f"{', '.join(READABLE_VERSIONS)}); upgrade nnscape",
        )
    if metadata.get("kind") not in ("network", "processed"):
        _fail(name, f"metadata kind is {_short(metadata.get('kind'))}, expected 'network' or 'processed'")
    if version == "1":
        for key in _V2_METADATA:
            if key in metadata:
                _fail(name, f"metadata {key} is not part of a version 1 file")
    return dict(metadata)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _string_list(metadata: Mapping[str, str], key: str, name: str) -> list[str]:
    try:
        values = json.loads(metadata[key], parse_constant=_no_constant)
    except (KeyError, ValueError, RecursionError):
        values = None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        _fail(name, f"metadata {key} must be a JSON list of strings")
    return values


def _layer_labels(metadata: Mapping[str, str], n_layers: int, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if metadata["version"] == "1":
        return default_layer_names(n_layers), default_layer_kinds(n_layers)
    return tuple(_string_list(metadata, "layer_names", name)), tuple(_string_list(metadata, "layer_kinds", name))


def _entry(entry: Any, key: str, name: str) -> tuple[int, int]:
    """Check one tensor's header entry against the format; return its byte span in the data section."""
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        _fail(name, f"field {key} has a malformed header entry (expected exactly dtype, shape, data_offsets)")
    dtype, ndim = _FIELDS[key]
    if entry["dtype"] != dtype:
        _fail(name, f"field {key} has dtype {_short(entry['dtype'])}, expected {dtype!r}")
    shape, offsets = entry["shape"], entry["data_offsets"]
    if not (isinstance(shape, list) and len(shape) == ndim and all(_is_count(d) for d in shape)):
        _fail(name, f"field {key} has shape {_short(shape)}, expected {ndim} non-negative integer(s)")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
        _fail(name, f"field {key} has malformed data_offsets {_short(offsets)}")
    begin, end = offsets
    if end < begin:
        _fail(name, f"field {key} has data_offsets [{begin}, {end}] that end before they begin")
    # Exact integers: a shape whose product overflows int64 simply disagrees with the byte span.
    count = 1
    for dim in shape:
        count *= dim
    if count * _DTYPES[dtype].itemsize != end - begin:
        _fail(
            name,
            f"field {key} claims shape {_short(shape)} ({count * _DTYPES[dtype].itemsize} bytes) but its "
            f"data_offsets span {end - begin} bytes",
        )
    return begin, end


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_tiling(spans: Mapping[str, tuple[int, int]], body_length: int, name: str) -> None:
    """The tensors cover the data section exactly: no overlap, no gap, nothing after the last one."""
    position = 0
    for key, (begin, end) in sorted(spans.items(), key=lambda item: (item[1], item[0])):
        if begin < position:
            _fail(name, f"field {key} overlaps the tensor before it (starts at byte {begin}, before {position})")
        if begin > position:
            _fail(name, f"field {key} starts at byte {begin}, leaving a gap after byte {position}")
        if end > body_length:
            _fail(name, f"field {key} runs past the end of the file (truncated)")
        position = end
    if position != body_length:
        _fail(name, f"data: {body_length - position} bytes after the last tensor")


def _array(body: bytes, key: str, entry: Mapping[str, Any], span: tuple[int, int]) -> np.ndarray:
    dtype = _DTYPES[_FIELDS[key][0]]
    count = (span[1] - span[0]) // dtype.itemsize
    # Native-endian copy: the arrays outlive ``body`` and are compared against int32/float32 dtypes.
    array: np.ndarray = np.frombuffer(body, dtype=dtype, count=count, offset=span[0])
    return array.reshape(entry["shape"]).astype(dtype.newbyteorder("="))
