"""Data sets: digits, Fashion-MNIST, IDX folders, .npz/.pt files, Python data, and their errors."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from nnscape.datasets import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_FOLDER,
    IDX_FILES,
    as_tensors,
    check_fits,
    load_dataset,
    read_idx,
)
from nnscape.errors import DataError


def _idx_bytes(array: np.ndarray) -> bytes:
    """An uint8 array in the IDX format (magic 0x0000 08 ndim, big-endian dimensions)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_idx_folder(folder: Path, *, gzipped: bool) -> None:
    rng = np.random.default_rng(0)
    parts = {
        "train_x": rng.integers(0, 256, (12, 3, 3)), "train_y": np.arange(12) % 3,
        "test_x": rng.integers(0, 256, (6, 3, 3)), "test_y": np.arange(6) % 3,
    }  # fmt: skip
    folder.mkdir(exist_ok=True)
    for key, stem in IDX_FILES.items():
        data = _idx_bytes(parts[key])
        if gzipped:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)


def test_digits_is_a_fixed_stratified_split_in_unit_range() -> None:
    first, second = load_dataset("digits"), load_dataset("digits")
    assert first.train_x.shape == (1347, 1, 8, 8)  # images keep their shape: one channel of 8×8
    assert first.test_x.shape == (450, 1, 8, 8)
    assert first.train_x.dtype == torch.float32
    assert first.train_y.dtype == torch.int64
    assert float(first.train_x.min()) == 0.0
    assert float(first.train_x.max()) == 1.0
    assert first.class_names == tuple(str(k) for k in range(10))
    assert torch.equal(first.test_y, second.test_y)
    share = torch.bincount(first.test_y) / 450
    assert float(share.min()) > 0.09  # stratified: every digit near 10 %


@pytest.mark.skipif(not FASHION_MNIST_FOLDER.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_fashion_mnist_has_named_classes_and_one_channel_images() -> None:
    splits = load_dataset("fashion-mnist")
    assert splits.train_x.shape == (60000, 1, 28, 28)
    assert splits.test_x.shape == (10000, 1, 28, 28)
    assert splits.n_features == 784
    assert splits.class_names == FASHION_MNIST_CLASSES
    assert splits.class_names[0] == "T-shirt/top"
    assert 0.0 <= float(splits.train_x.min()) < float(splits.train_x.max()) <= 1.0


@pytest.mark.parametrize("gzipped", [True, False])
def test_idx_folder_reads_plain_or_gzipped_files(tmp_path: Path, gzipped: bool) -> None:
    _write_idx_folder(tmp_path, gzipped=gzipped)
    splits = load_dataset(f"idx:{tmp_path}")
    assert splits.train_x.shape == (12, 1, 3, 3)  # 3×3 images get a channel axis
    assert splits.test_y.tolist() == [0, 1, 2, 0, 1, 2]
    assert splits.class_names == ("0", "1", "2")
    raw = read_idx(tmp_path / (IDX_FILES["train_x"] + (".gz" if gzipped else "")))
    torch.testing.assert_close(splits.train_x, torch.from_numpy(raw[:, None] / 255).float())


def test_idx_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"folder .* does not exist"):
        load_dataset(f"idx:{tmp_path / 'nowhere'}")
    with pytest.raises(DataError, match="has no train-images-idx3-ubyte"):
        load_dataset(f"idx:{tmp_path}")
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x12\x34\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(_idx_bytes(np.zeros((4, 2)))[:-3])
    with pytest.raises(DataError, match=r"announces \(4, 2\) \(8 bytes\) but 5 follow"):
        read_idx(short)


def test_idx_label_count_must_match_images(tmp_path: Path) -> None:
    _write_idx_folder(tmp_path, gzipped=False)
    (tmp_path / IDX_FILES["test_y"]).write_bytes(_idx_bytes(np.zeros(5)))
    with pytest.raises(DataError, match=r"test split: 6 inputs but labels of shape \(5,\)"):
        load_dataset(f"idx:{tmp_path}")


def test_npz_with_and_without_test_split(tmp_path: Path) -> None:
    x = np.arange(24, dtype=np.uint8).reshape(6, 2, 2)
    y = np.array([0, 1, 2, 0, 1, 2])
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=x, y=y)
    splits = load_dataset(str(plain))
    assert splits.train_x.shape == (6, 2, 2)  # any shape is kept as it is
    assert float(splits.train_x.max()) == pytest.approx(23 / 255)  # integers are pixels
    assert splits.test_x.shape == (0, 2, 2)
    assert splits.class_names == ("0", "1", "2")
    named = tmp_path / "named.npz"
    np.savez(named, x=x.astype(np.float32), y=y, x_test=x[:2].astype(np.float32), y_test=y[:2],
             class_names=np.array(["a", "b", "c"]))  # fmt: skip
    splits = load_dataset(str(named))
    assert splits.class_names == ("a", "b", "c")
    assert splits.test_x.shape == (2, 2, 2)
    assert float(splits.train_x.max()) == 23.0  # floats are kept as they are


def test_pt_file_is_read_weights_only(tmp_path: Path) -> None:
    path = tmp_path / "data.pt"
    torch.save({"x": torch.rand(4, 3), "y": torch.tensor([0, 1, 0, 1]), "class_names": ["no", "yes"]}, path)
    splits = load_dataset(str(path))
    assert splits.class_names == ("no", "yes")
    assert splits.train_y.tolist() == [0, 1, 0, 1]
    torch.save([1, 2], path)
    with pytest.raises(DataError, match="expected a dict with x and y, got list"):
        load_dataset(str(path))


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.zeros((3, 2))}, "missing array 'y'"),
        ({"x": np.zeros((3, 2)), "y": np.zeros(4, int)}, r"3 inputs but labels of shape \(4,\)"),
        ({"x": np.zeros((3, 2)), "y": np.zeros(3)}, "labels must be integer class indices, got torch.float64"),
        ({"x": np.zeros((3, 2)), "y": np.array([0, -1, 1])}, "labels must be class indices >= 0, got -1"),
        ({"x": np.zeros(3), "y": np.zeros(3, int)}, r"inputs need one row per example, got shape \(3,\)"),
        ({"x": np.full((2, 2), np.nan), "y": np.array([0, 1])}, "inputs contain NaN"),
        ({"x": np.zeros((2, 2)), "y": np.array([0, 1]), "x_test": np.zeros((1, 2))}, "must come together"),
        ({"x": np.zeros((2, 2)), "y": np.array([0, 0])}, "need at least 2 classes, got 1"),
        ({"x": np.zeros((2, 2)), "y": np.array([0, 2]), "class_names": np.array(["a", "b"])}, "2 class_names"),
    ],
    ids=["no-y", "length", "float-labels", "negative", "1d", "nan", "half-test", "one-class", "few-names"],
)
def test_bad_array_files_are_refused(tmp_path: Path, arrays: dict[str, np.ndarray], message: str) -> None:
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=message):
        load_dataset(str(path))


def test_unknown_specs_and_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="expected digits, fashion-mnist, idx:FOLDER"):
        load_dataset("mnist")
    with pytest.raises(DataError, match="no such data file"):
        load_dataset(str(tmp_path / "none.npz"))
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK garbage")
    with pytest.raises(DataError, match="cannot read"):
        load_dataset(str(broken))


class PairDataset(Dataset[tuple[torch.Tensor, int]]):
    def __len__(self) -> int:
        return 5

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.full((2, 2), float(index)), index % 2


def test_python_data_becomes_tensors_in_their_shape() -> None:
    x, y = torch.rand(5, 2, 2), torch.tensor([0, 1, 0, 1, 0])
    for data in ((x, y), (x.numpy(), y.numpy()), TensorDataset(x, y), DataLoader(TensorDataset(x, y), batch_size=2)):
        got_x, got_y, names = as_tensors(data)
        torch.testing.assert_close(got_x, x)
        assert got_y.tolist() == y.tolist()
        assert names is None
    got_x, got_y, _ = as_tensors(PairDataset())
    assert got_x.shape == (5, 2, 2)
    assert got_y.tolist() == [0, 1, 0, 1, 0]
    splits = load_dataset("digits")
    assert as_tensors(splits)[2] == splits.class_names


def test_python_data_errors() -> None:
    with pytest.raises(DataError, match=r"an \(x, y\) pair, a Dataset or a DataLoader, got str"):
        as_tensors("digits")
    with pytest.raises(DataError, match=r"the DataLoader must yield \(x, y\) pairs"):
        as_tensors(DataLoader(TensorDataset(torch.rand(3, 2)), batch_size=2))
    with pytest.raises(DataError, match="the DataLoader is empty"):
        as_tensors(DataLoader(TensorDataset(torch.rand(0, 2), torch.zeros(0, dtype=torch.long))))


def test_check_fits_names_the_mismatch() -> None:
    x, y = torch.rand(4, 3), torch.tensor([0, 1, 2, 3])
    check_fits(x, y, n_inputs=3, n_classes=4)
    with pytest.raises(DataError, match=r"the model takes 5 inputs but the data has examples of shape \(3,\)"):
        check_fits(x, y, n_inputs=5, n_classes=4)
    check_fits(x.reshape(4, 1, 3), y, n_inputs=3, n_classes=4)  # an image's pixels are its inputs
    check_fits(x, y, n_inputs=None, n_classes=4)  # a convolutional model checks the shape itself
    with pytest.raises(DataError, match=r"labels range over \[0, 3\] but the model has 2 outputs"):
        check_fits(x, y, n_inputs=3, n_classes=2)
