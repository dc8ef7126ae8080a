"""Loaders of the official CIFAR-10 and MNIST files, on tiny files of the exact format.

The writers here build the files independently of the loader (pickle.dump of the
official dict, a hand-assembled Python 2 pickle, struct-packed IDX headers); the CIFAR
task and model tests reuse `write_cifar10_folder`.
"""

from __future__ import annotations

import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from support.data_files import write_cifar10_folder, write_idx

from workloads.data.image_files import (
    DataFilesMissingError,
    DataFormatError,
    load_cifar10,
    load_mnist,
    parse_idx,
    pixel_statistics,
)


def python2_batch_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """The byte layout of the official files (cPickle protocol 2 from Python 2 and numpy 1):
    str keys, numpy.core.multiarray._reconstruct, the raw pixels as one BINSTRING."""
    rows, columns = data.shape
    dtype = (
        b"cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R"
        + b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    )
    array = (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R"
        + b"(K\x01M"
        + struct.pack("<H", rows)
        + b"M"
        + struct.pack("<H", columns)
        + b"\x86"
        + dtype
        + b"\x89T"
        + struct.pack("<I", data.size)
        + data.tobytes()
        + b"tb"
    )
    label_list = b"](" + b"".join(b"K" + bytes([label]) for label in labels) + b"e"
    return b"\x80\x02}(U\x04data" + array + b"U\x06labels" + label_list + b"u."


def test_cifar10_folder_loads_channel_planes_and_labels(tmp_path: Path) -> None:
    train_labels = [index % 10 for index in range(10)]
    train, test = write_cifar10_folder(tmp_path, train_labels, [3, 1])
    train_images, test_images = load_cifar10(tmp_path)
    assert train_images.images.shape == (10, 3, 32, 32)
    assert train_images.images.dtype == np.uint8
    # row layout: 1024 red values, then green, then blue, each 32x32 row-major
    assert train_images.images[4, 0, 0, 0] == train[4, 0]
    assert train_images.images[4, 1, 1, 2] == train[4, 1024 + 32 + 2]
    assert train_images.images[9, 2, 31, 31] == train[9, 3071]
    assert train_images.labels.tolist() == train_labels
    np.testing.assert_array_equal(test_images.images.reshape(2, -1), test)
    assert test_images.labels.tolist() == [3, 1]


def test_cifar10_archive_loads_like_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    train, _ = write_cifar10_folder(folder, [7] * 5, [2])
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    train_images, test_images = load_cifar10(archive)
    np.testing.assert_array_equal(train_images.images.reshape(5, -1), train)
    assert train_images.labels.tolist() == [7] * 5
    assert test_images.labels.tolist() == [2]


def test_cifar10_python2_pickle_layout_loads(tmp_path: Path) -> None:
    data = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    write_cifar10_folder(tmp_path, [0] * 5, [0])
    (tmp_path / "test_batch").write_bytes(python2_batch_pickle(data, [6, 9]))
    _, test_images = load_cifar10(tmp_path)
    np.testing.assert_array_equal(test_images.images.reshape(2, -1), data)
    assert test_images.labels.tolist() == [6, 9]


def test_missing_cifar10_files_are_named_with_the_folder(tmp_path: Path) -> None:
    write_cifar10_folder(tmp_path, [0] * 5, [0])
    (tmp_path / "data_batch_3").unlink()
    (tmp_path / "test_batch").unlink()
    with pytest.raises(FileNotFoundError) as raised:
        load_cifar10(tmp_path)
    assert isinstance(raised.value, DataFilesMissingError)
    message = str(raised.value)
    assert "data_batch_3, test_batch" in message and str(tmp_path) in message
    assert "data_batch_1" not in message.split("missing from")[1].split(".")[0]


def test_absent_cifar10_path_raises_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DataFilesMissingError, match="cifar-10-python.tar.gz"):
        load_cifar10(tmp_path / "nowhere")


class _RunsAShellCommand:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_pickle_calling_os_system_is_refused_unexecuted(tmp_path: Path) -> None:
    write_cifar10_folder(tmp_path, [0] * 5, [0])
    marker = tmp_path / "executed"
    payload = {b"data": _RunsAShellCommand(f"touch {marker}"), b"labels": [0]}
    (tmp_path / "data_batch_2").write_bytes(pickle.dumps(payload, protocol=4))
    with pytest.raises(DataFormatError, match="refusing global .*system"):
        load_cifar10(tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("module", "name"), [("builtins", "eval"), ("numpy", "load"), ("numpy.lib.npyio", "load")]
)
def test_pickle_with_other_globals_is_refused(tmp_path: Path, module: str, name: str) -> None:
    write_cifar10_folder(tmp_path, [0] * 5, [0])
    call = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"U\x01x\x85R."
    (tmp_path / "test_batch").write_bytes(call)
    with pytest.raises(DataFormatError, match=f"refusing global {module}.{name}"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_mnist_idx_files_load_known_values(tmp_path: Path, suffix: str) -> None:
    train_images = np.arange(3 * 28 * 28, dtype=np.int64).astype(np.uint8).reshape(3, 28, 28)
    test_images = np.full((2, 28, 28), 200, dtype=np.uint8)
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", train_images)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", np.array([5, 0, 4]))
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", test_images)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", np.array([7, 2]))
    train, test = load_mnist(tmp_path)
    np.testing.assert_array_equal(train.images, train_images)
    assert train.images[1, 0, 1] == (28 * 28 + 1) % 256
    assert train.labels.tolist() == [5, 0, 4] and train.labels.dtype == np.int64
    np.testing.assert_array_equal(test.images, test_images)
    assert test.labels.tolist() == [7, 2]


def test_missing_mnist_files_are_named_with_the_folder(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((1, 28, 28)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(1))
    with pytest.raises(FileNotFoundError) as raised:
        load_mnist(tmp_path)
    assert isinstance(raised.value, DataFilesMissingError)
    assert f"missing from {tmp_path}: t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte" in str(
        raised.value
    )


def test_idx_with_wrong_body_length_is_refused() -> None:
    header = struct.pack(">BBBBI", 0, 0, 8, 1, 5)
    with pytest.raises(DataFormatError, match="needs 5"):
        parse_idx(header + b"\x00" * 4, "labels")
    with pytest.raises(DataFormatError, match="not an IDX"):
        parse_idx(b"\x00\x00\x0d\x01" + b"\x00" * 8, "floats")


def test_pixel_statistics_scale_to_unit_range() -> None:
    mean, std = pixel_statistics(torch.tensor([0, 255, 0, 255], dtype=torch.uint8))
    assert mean == pytest.approx(0.5) and std == pytest.approx(0.5)
    mean, std = pixel_statistics(torch.full((3, 2), 51, dtype=torch.uint8))
    assert mean == pytest.approx(0.2) and std == pytest.approx(0.0, abs=1e-12)
