"""Read the standard CIFAR-10 (python version) and MNIST (IDX) files from a user-given path.

Nothing is downloaded: the user puts the official files in a folder (or gives the CIFAR
archive) and names it in the sweep spec. CIFAR-10 batches are pickles, so they are read
with an unpickler that refuses every global except the three numpy names an array needs,
and only from the path given. Missing files raise `DataFilesMissingError` naming them.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

try:  # numpy >= 2 moved the array reconstructor; the files name the numpy 1 module
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{index}" for index in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# The only globals a CIFAR-10 batch refers to: numpy's array reconstructor (under its
# numpy 1 and numpy 2 module names), the array type and the dtype type.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class DataFilesMissingError(FileNotFoundError):
    """The data set's files are not where the config says; the message says what to put where."""


class DataFormatError(ValueError):
    """A data file exists but is not in the official format."""


@dataclass(frozen=True)
class LabelledImages:
    """`images`: uint8, [n, channels, height, width] (CIFAR) or [n, height, width] (MNIST);
    `labels`: int64 [n]."""

    images: np.ndarray
    labels: np.ndarray


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Builds dicts, lists, bytes, ints and numpy arrays; refuses every other global."""

    def find_class(self, module: str, name: str) -> object:
        allowed = _ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"refusing global {module}.{name}: a CIFAR-10 batch holds only numpy arrays"
            )
        return allowed


def _unpickle_batch(data: bytes, source: str) -> LabelledImages:
    """One CIFAR-10 batch: b"data" uint8 [n, 3072] (R, G, B planes of 32x32), b"labels"."""
    try:
        batch = _ArrayOnlyUnpickler(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError as error:
        raise DataFormatError(f"{source}: {error}") from error
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DataFormatError(f"{source}: not a CIFAR-10 batch (no b'data' and b'labels')")
    images, labels = batch[b"data"], batch[b"labels"]
    if not isinstance(labels, list) or not all(type(label) is int for label in labels):
        raise DataFormatError(f"{source}: b'labels' must be a list of ints")
    labels = np.asarray(labels, dtype=np.int64)
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2:
        raise DataFormatError(f"{source}: b'data' must be a uint8 array [n, 3072]")
    if images.shape != (labels.shape[0], 3 * 32 * 32):
        raise DataFormatError(
            f"{source}: b'data' has shape {images.shape}, expected ({labels.shape[0]}, 3072)"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataFormatError(f"{source}: labels outside 0..9")
    return LabelledImages(images=images.reshape(-1, 3, 32, 32), labels=labels)


def _read_cifar10_members(path: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    """The named batch files' bytes, from the folder or the .tar.gz archive at `path`."""
    if path.is_dir():
        missing = [name for name in names if not (path / name).is_file()]
        if missing:
            raise DataFilesMissingError(
                f"CIFAR-10 files missing from {path}: {', '.join(missing)}. Put the python "
                f"version's batch files ({CIFAR10_FOLDER}/ extracted from "
                "cifar-10-python.tar.gz) in that folder, or give the archive's path instead."
            )
        return {name: (path / name).read_bytes() for name in names}
    if path.is_file():
        wanted = {f"{CIFAR10_FOLDER}/{name}": name for name in names}
        contents = {}
        with tarfile.open(path, "r:*") as archive:  # one pass: a gzip stream seeks slowly
            for member in archive:
                if member.isfile() and member.name in wanted:
                    stream = archive.extractfile(member)  # None only for non-files
                    if stream is not None:
                        contents[wanted[member.name]] = stream.read()
        missing = [name for name in names if name not in contents]
        if missing:
            raise DataFilesMissingError(
                f"CIFAR-10 archive {path} lacks {', '.join(missing)} in {CIFAR10_FOLDER}/: "
                "give the official cifar-10-python.tar.gz or its extracted folder."
            )
        return contents
    raise DataFilesMissingError(
        f"no CIFAR-10 data at {path}: put the official cifar-10-python.tar.gz there, or give "
        f"the folder holding {', '.join((*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE))}."
    )


def load_cifar10(path: Path) -> tuple[LabelledImages, LabelledImages]:
    """(the 50k training images, the 10k test images) from a folder or the archive."""
    path = Path(path)
    contents = _read_cifar10_members(path, (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE))
    batches = {name: _unpickle_batch(data, f"{path}/{name}") for name, data in contents.items()}
    train_batches = [batches[name] for name in CIFAR10_TRAIN_FILES]
    train = LabelledImages(
        images=np.concatenate([batch.images for batch in train_batches]),
        labels=np.concatenate([batch.labels for batch in train_batches]),
    )
    return train, batches[CIFAR10_TEST_FILE]


def parse_idx(data: bytes, source: str) -> np.ndarray:
    """An IDX file of unsigned bytes (magic 0x0000 08 ndim, big-endian uint32 sizes)."""
    if len(data) < 4 or data[:3] != b"\x00\x00\x08":
        raise DataFormatError(f"{source}: not an IDX file of unsigned bytes")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(f"{source}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if len(data) - header != int(np.prod(shape)):
        raise DataFormatError(
            f"{source}: IDX body has {len(data) - header} bytes, shape {shape} needs "
            f"{int(np.prod(shape))}"
        )
    # a copy: torch wants writable arrays, and the file's bytes can then be freed
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def _read_idx_file(folder: Path, name: str) -> np.ndarray | None:
    """The IDX file `name` or `name.gz` in `folder`, or None when neither exists."""
    if (folder / name).is_file():
        return parse_idx((folder / name).read_bytes(), str(folder / name))
    if (folder / f"{name}.gz").is_file():
        with gzip.open(folder / f"{name}.gz", "rb") as file:
            return parse_idx(file.read(), str(folder / f"{name}.gz"))
    return None


def load_mnist(folder: Path) -> tuple[LabelledImages, LabelledImages]:
    """(the 60k training digits, the 10k test digits) from the four IDX files in `folder`."""
    folder = Path(folder)
    read = {name: _read_idx_file(folder, name) for names in MNIST_FILES.values() for name in names}
    arrays = {name: array for name, array in read.items() if array is not None}
    missing = [name for name in read if name not in arrays]
    if missing:
        raise DataFilesMissingError(
            f"MNIST files missing from {folder}: {', '.join(missing)} (plain or .gz). Put the "
            "four official IDX files in that folder."
        )
    splits = []
    for images_name, labels_name in MNIST_FILES.values():
        images, labels = arrays[images_name], arrays[labels_name]
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise DataFormatError(
                f"{folder}: {images_name} {images.shape} and {labels_name} {labels.shape} "
                "must be [n, rows, columns] and [n]"
            )
        splits.append(LabelledImages(images=images, labels=labels.astype(np.int64)))
    return splits[0], splits[1]


def pixel_statistics(pixels: torch.Tensor) -> tuple[float, float]:
    """Mean and std of uint8 pixels scaled to [0, 1], exact, from a 256-bin histogram
    (a float copy of 50k images would take gigabytes)."""
    counts = torch.bincount(pixels.flatten(), minlength=256).double()
    values = torch.arange(256, dtype=torch.float64) / 255.0
    mean = float((counts * values).sum() / counts.sum())
    variance = float((counts * (values - mean) ** 2).sum() / counts.sum())
    return mean, variance**0.5
