"""Data sets for training example models and estimating importance, as float32 tensors in their own shape.

Specs understood by :func:`load_dataset`:

- ``digits`` — scikit-learn's bundled 8×8 handwritten digits (1 797 images, no download) as ``(n, 1, 8, 8)``
  images scaled from 0..16 to [0, 1]; a stratified 75/25 train/test split with a fixed seed
  (:data:`DIGITS_SPLIT_SEED`), so 1 347 training and 450 test images, always the same ones.
- ``fashion-mnist`` — the IDX files of the Debian package ``dataset-fashion-mnist`` in
  :data:`FASHION_MNIST_FOLDER` (60 000 training, 10 000 test images of 1×28×28 pixels scaled to [0, 1]).
- ``idx:FOLDER`` — any folder in the MNIST layout (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-…``; each file may be gzipped); images get a channel axis, ``(n, 1, height, width)``.
- ``FILE.npz`` / ``FILE.pt`` — arrays ``x``, ``y`` and optionally ``x_test``, ``y_test``, ``class_names``
  (``.pt`` files are read with ``weights_only=True``), ``x`` of any shape ``(n, …)``, kept as it is. Integer
  ``x`` (e.g. uint8 pixels) is divided by 255.

An MLP takes the values of an example flattened; a convolutional model takes the shape as it is.

Python data (a tuple of tensors or arrays, a ``Dataset``, a ``DataLoader``) becomes tensors with
:func:`as_tensors`.
"""

from __future__ import annotations

import gzip
import math
import os
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nnscape.errors import DataError
from nnscape.limits import MAX_CLASSES

__all__ = [
    "DIGITS_SPLIT_SEED",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FOLDER",
    "DatasetSplits",
    "as_tensors",
    "check_fits",
    "load_dataset",
    "read_idx",
]

FASHION_MNIST_FOLDER = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")  # fmt: skip
DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 0.25
DIGITS_MAX_VALUE = 16.0  # load_digits pixels are counts 0..16
PIXEL_MAX_VALUE = 255.0
IDX_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}
_IDX_DTYPES: dict[int, Any] = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}  # fmt: skip
_AS_TENSORS_BATCH = 1024
GZIP_MAGIC = b"\x1f\x8b"
# One array of a data file (IDX file, .npz member) holds at most 2^28 values (1 GiB as float32, 5.7 times
# Fashion-MNIST's training images), checked from its header before anything is read or unzipped.
MAX_IDX_DIMENSIONS = 8
MAX_ARRAY_VALUES = 2**28


@dataclass(frozen=True)
class DatasetSplits:
    """Training and test data of one data set.

    ``train_x``/``test_x`` are ``(n, *shape) float32`` tensors (images ``(n, channels, height, width)``),
    ``train_y``/``test_y`` ``(n,) int64`` class
    indices in ``[0, len(class_names))``. The test split may be empty (0 rows) when the source has none.
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    class_names: tuple[str, ...]
    name: str = ""

    @property
    def n_features(self) -> int:
        """Values per example (pixels of an image)."""
        return math.prod(self.train_x.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def load_dataset(spec: str) -> DatasetSplits:
    """Load a data set by spec (see the module docstring); raise :class:`DataError` naming what is wrong."""
    if spec == "digits":
        return _digits()
    if spec == "fashion-mnist":
        if not FASHION_MNIST_FOLDER.is_dir():
            raise DataError(
                f"fashion-mnist: {FASHION_MNIST_FOLDER} does not exist; install it with "
                "`apt-get install dataset-fashion-mnist`, or pass idx:FOLDER"
            )
        return _idx_folder(FASHION_MNIST_FOLDER, FASHION_MNIST_CLASSES, "fashion-mnist")
    if spec.startswith("idx:"):
        return _idx_folder(Path(spec[4:]), None, spec)
    path = Path(spec)
    if path.suffix in (".npz", ".pt"):
        if not path.is_file():
            raise DataError(f"{path}: no such data file")
        return _array_file(path)
    raise DataError(f"data {spec!r}: expected digits, fashion-mnist, idx:FOLDER, or a .npz or .pt file")


def as_tensors(data: object) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...] | None]:
    """Training inputs ``(n, *shape) float32``, labels ``(n,) int64`` and class names (if known) of ``data``.

    ``data`` may be :class:`DatasetSplits` (its training split), a pair ``(x, y)`` of tensors or arrays, a
    ``torch.utils.data.Dataset`` yielding ``(x, y)`` pairs, or a ``DataLoader`` yielding ``(x, y)`` batches.
    Inputs keep their shape.
    """
    from torch.utils.data import DataLoader, Dataset, TensorDataset

    if isinstance(data, DatasetSplits):
        return data.train_x, data.train_y, data.class_names
    if isinstance(data, TensorDataset) and len(data.tensors) == 2:
        x, y = data.tensors
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = (torch.as_tensor(part) for part in data)
    elif isinstance(data, DataLoader):
        x, y = _concatenate(data, "DataLoader")
    elif isinstance(data, Dataset):
        x, y = _concatenate(DataLoader(data, batch_size=_AS_TENSORS_BATCH), "Dataset")
    else:
        raise DataError(
            f"data: expected DatasetSplits, an (x, y) pair, a Dataset or a DataLoader, got {type(data).__name__}"
        )
    x, y = _checked(x, y, "data")
    return x, y, None


def check_fits(x: torch.Tensor, y: torch.Tensor, *, n_inputs: int | None, n_classes: int, name: str = "data") -> None:
    """Raise :class:`DataError` unless each example of ``x`` holds ``n_inputs`` values (when given; an image of
    any shape counts its pixels) and every label is a class index."""
    if n_inputs is not None and math.prod(x.shape[1:]) != n_inputs:
        raise DataError(f"{name}: the model takes {n_inputs} inputs but the data has examples of shape "
                        f"{tuple(x.shape[1:])}")  # fmt: skip
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise DataError(
            f"{name}: labels range over [{int(y.min())}, {int(y.max())}] but the model has {n_classes} outputs"
        )


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """One IDX file (MNIST format, optionally gzipped) as a numpy array of its stored shape and type.

    The header is checked before the data is read: at most :data:`MAX_ARRAY_VALUES` values, and exactly as many
    bytes as it announces (a gzipped file is decompressed only that far, so a gzip bomb costs nothing).
    """
    file = Path(path)
    try:
        with file.open("rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=raw) as unzipped:
                    return _read_idx_stream(unzipped.read, file, None)
            return _read_idx_stream(raw.read, file, os.fstat(raw.fileno()).st_size)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{file}: broken gzip data ({exc})") from exc
    except OSError as exc:
        raise DataError(f"{file}: cannot read ({exc.strerror or exc})") from exc


def _read_idx_stream(read: Callable[[int], bytes], file: Path, file_size: int | None) -> np.ndarray:
    """The array that ``read`` (a stream's read) yields.

    ``file_size`` (None when gzipped) lets a header that lies about the size fail before the data is read.
    """
    magic = read(4)
    if len(magic) < 4 or magic[:2] != b"\x00\x00" or magic[2] not in _IDX_DTYPES:
        raise DataError(f"{file}: not an IDX file (bad magic number)")
    ndim = magic[3]
    if not 1 <= ndim <= MAX_IDX_DIMENSIONS:
        raise DataError(f"{file}: IDX header announces {ndim} dimensions; expected 1 to {MAX_IDX_DIMENSIONS}")
    dims = read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(f"{file}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = np.dtype(_IDX_DTYPES[magic[2]])
    count = math.prod(shape)  # Python integers: four 2^32 dimensions cannot wrap around
    if count > MAX_ARRAY_VALUES:
        raise DataError(
            f"{file}: IDX header announces {shape} = {count} values; at most {MAX_ARRAY_VALUES} are allowed"
        )
    expected = count * dtype.itemsize
    header = 4 + 4 * ndim
    if file_size is not None and file_size - header != expected:
        raise DataError(f"{file}: IDX header announces {shape} ({expected} bytes) but {file_size - header} follow")
    data = read(expected + 1)
    if len(data) != expected:
        follow = f"{len(data)}" if len(data) < expected else "more"
        raise DataError(f"{file}: IDX header announces {shape} ({expected} bytes) but {follow} follow")
    return np.frombuffer(data, dtype).reshape(shape)


# -- sources -------------------------------------------------------------------------------------------------


def _digits() -> DatasetSplits:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.images / DIGITS_MAX_VALUE).astype(np.float32)[:, None]  # (n, 1, 8, 8): one channel
    y = bunch.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        x, y, test_size=DIGITS_TEST_FRACTION, stratify=y, random_state=DIGITS_SPLIT_SEED
    )
    return DatasetSplits(
        torch.from_numpy(train_x), torch.from_numpy(train_y), torch.from_numpy(test_x), torch.from_numpy(test_y),
        tuple(str(k) for k in range(10)), "digits",
    )  # fmt: skip


def _idx_folder(folder: Path, class_names: Sequence[str] | None, name: str) -> DatasetSplits:
    if not folder.is_dir():
        raise DataError(f"{name}: folder {folder} does not exist")
    arrays: dict[str, np.ndarray] = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / f"{stem}.gz"]
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            raise DataError(f"{name}: {folder} has no {stem} (or {stem}.gz)")
        array = read_idx(found)
        arrays[key] = array[:, None] if key.endswith("_x") and array.ndim == 3 else array  # images get a channel
    train_x, train_y = _checked(arrays["train_x"], arrays["train_y"], f"{name} training split")
    test_x, test_y = _checked(arrays["test_x"], arrays["test_y"], f"{name} test split")
    n_classes = _class_count(name, train_y, test_y)
    names = tuple(class_names) if class_names is not None else tuple(str(k) for k in range(n_classes))
    return _splits(train_x, train_y, test_x, test_y, names, name)


def _array_file(path: Path) -> DatasetSplits:
    content: dict[str, Any]
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                for key in archive.files:
                    _check_npy_header(archive.zip, key, path)
                content = {key: archive[key] for key in archive.files}
        else:
            loaded = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(loaded, dict):
                raise DataError(f"{path}: expected a dict with x and y, got {type(loaded).__name__}")
            content = loaded
    except DataError:
        raise
    except pickle.UnpicklingError as exc:  # torch's own text advises unpickling it after all: not ours to repeat
        raise DataError(
            f"{path}: holds Python objects other than tensors, numbers and strings; nnscape never unpickles data "
            "files (save plain tensors in a dict, or use .npz)"
        ) from exc
    except Exception as exc:  # numpy and torch raise many types for corrupt files
        raise DataError(f"{path}: cannot read ({str(exc).splitlines()[0]})") from exc
    for key in ("x", "y"):
        if key not in content:
            raise DataError(f"{path}: missing array {key!r} (need x and y; x_test, y_test, class_names optional)")
    if ("x_test" in content) != ("y_test" in content):
        raise DataError(f"{path}: x_test and y_test must come together")
    train_x, train_y = _checked(content["x"], content["y"], f"{path} x/y")
    if "x_test" in content:
        test_x, test_y = _checked(content["x_test"], content["y_test"], f"{path} x_test/y_test")
        if test_x.shape[1:] != train_x.shape[1:]:
            raise DataError(
                f"{path}: x has examples of shape {tuple(train_x.shape[1:])} but x_test {tuple(test_x.shape[1:])}"
            )
    else:
        test_x, test_y = train_x[:0], train_y[:0]
    n_classes = _class_count(str(path), train_y, test_y)
    names = _class_names(content.get("class_names"), n_classes, path)
    return _splits(train_x, train_y, test_x, test_y, names, str(path))


def _check_npy_header(archive: zipfile.ZipFile, key: str, path: Path) -> None:
    """Refuse an .npz member whose header announces more than MAX_ARRAY_VALUES values, before numpy allocates."""
    name = f"{key}.npy" if f"{key}.npy" in archive.namelist() else key  # numpy lists members without ".npy"
    with archive.open(name) as member:
        version = np.lib.format.read_magic(member)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, _ = reader(member)
    count = math.prod(shape)
    if count > MAX_ARRAY_VALUES:
        raise DataError(
            f"{path}: array {key} has shape {shape} = {count} values; at most {MAX_ARRAY_VALUES} are allowed"
        )


def _class_count(name: str, *labels: torch.Tensor) -> int:
    """Classes the labels imply (largest label + 1), refused beyond MAX_CLASSES before any names are made."""
    largest = max((int(y.max()) for y in labels if y.numel()), default=-1)
    if largest >= MAX_CLASSES:
        raise DataError(f"{name}: label {largest} implies {largest + 1} classes; at most {MAX_CLASSES} are allowed")
    return largest + 1


def _class_names(value: object, n_classes: int, path: Path) -> tuple[str, ...]:
    if value is None:
        return tuple(str(k) for k in range(n_classes))
    items = value.tolist() if isinstance(value, np.ndarray) else value
    if isinstance(items, str) or not isinstance(items, (list, tuple)):
        raise DataError(f"{path}: class_names must be a list of strings, got {type(items).__name__}")
    names = tuple(str(name) for name in items)
    if len(names) < n_classes:
        raise DataError(f"{path}: {len(names)} class_names but labels go up to {n_classes - 1}")
    return names


def _splits(
    train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
    names: tuple[str, ...], name: str,
) -> DatasetSplits:  # fmt: skip
    if len(names) < 2:
        raise DataError(f"{name}: need at least 2 classes, got {len(names)}")
    for split, labels in (("training", train_y), ("test", test_y)):
        if labels.numel() and int(labels.max()) >= len(names):
            raise DataError(f"{name}: {split} label {int(labels.max())} has no class name ({len(names)} names)")
    return DatasetSplits(train_x, train_y, test_x, test_y, names, name)


def _checked(x_value: object, y_value: object, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` as ``(n, *shape) float32`` (integers / 255) and check ``y`` is ``(n,)`` class indices."""
    x, y = _tensor(x_value, name), _tensor(y_value, name)
    if x.ndim < 2:
        raise DataError(f"{name}: inputs need one row per example, got shape {tuple(x.shape)}")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise DataError(f"{name}: {x.shape[0]} inputs but labels of shape {tuple(y.shape)}; expected ({x.shape[0]},)")
    if y.dtype.is_floating_point or y.dtype == torch.bool or y.is_complex():
        raise DataError(f"{name}: labels must be integer class indices, got {y.dtype}")
    if y.numel() and int(y.min()) < 0:
        raise DataError(f"{name}: labels must be class indices >= 0, got {int(y.min())}")
    x = x.float() / PIXEL_MAX_VALUE if not x.dtype.is_floating_point else x.float()
    if not torch.isfinite(x).all():
        raise DataError(f"{name}: inputs contain NaN or infinite values")
    return x.contiguous(), y.long().contiguous()


def _tensor(value: object, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise DataError(f"{name}: expected numbers, got an array of {array.dtype}")
    # torch needs writable arrays in native byte order (IDX files are big-endian and memory-mapped read-only)
    return torch.from_numpy(array.astype(array.dtype.newbyteorder("="), copy=not array.flags.writeable))


def _concatenate(batches: Iterable[Any], kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for batch in batches:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise DataError(f"data: the {kind} must yield (x, y) pairs, got {type(batch).__name__}")
        x, y = batch
        xs.append(torch.as_tensor(x))
        ys.append(torch.as_tensor(y).reshape(-1))
    if not xs:
        raise DataError(f"data: the {kind} is empty")
    try:
        return torch.cat(xs), torch.cat(ys)
    except RuntimeError as exc:
        raise DataError(f"data: the {kind}'s batches differ in shape ({str(exc).splitlines()[0]})") from exc
