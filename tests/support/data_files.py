"""Tiny data files in the official formats (CIFAR-10 python batches, MNIST IDX, the
Mathematics Dataset release layout), written independently of the loaders under test."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

MODULE = "arithmetic__add_or_sub"
REPEATED = "What is 5 + 5?"


def write_cifar10_batch(path: Path, data: np.ndarray, labels: list[int]) -> None:
    """One batch file as the official archive has it: a pickled dict with bytes keys."""
    batch = {
        b"batch_label": b"tiny batch",
        b"labels": labels,
        b"data": data,
        b"filenames": [f"image_{index}.png".encode() for index in range(len(labels))],
    }
    path.write_bytes(pickle.dumps(batch, protocol=4))


def write_cifar10_folder(
    folder: Path, train_labels: list[int], test_labels: list[int], seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Five training batches and a test batch of random images; returns the data rows
    (train, test), each [n, 3072]. `len(train_labels)` must be a multiple of 5."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    train = rng.integers(0, 256, (len(train_labels), 3072), dtype=np.uint8)
    test = rng.integers(0, 256, (len(test_labels), 3072), dtype=np.uint8)
    size = len(train_labels) // 5
    for index in range(5):
        rows = slice(index * size, (index + 1) * size)
        write_cifar10_batch(folder / f"data_batch_{index + 1}", train[rows], train_labels[rows])
    write_cifar10_batch(folder / "test_batch", test, test_labels)
    return train, test


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file of unsigned bytes, gzipped when the name ends in .gz."""
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    content = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(content) if path.suffix == ".gz" else content)


def write_release(root, pairs_per_difficulty: int = 12, module: str = MODULE) -> None:
    """train-easy/, train-medium/, train-hard/ with alternating question/answer lines."""
    for offset, difficulty in ((0, "easy"), (100, "medium"), (1000, "hard")):
        folder = root / f"train-{difficulty}"
        folder.mkdir(exist_ok=True)
        lines = []
        for i in range(pairs_per_difficulty):
            a, b = offset + i, 2 * i + 1
            lines += [f"What is {a} + {b}?", str(a + b)]
        lines += [REPEATED, "10"]  # the same question in every file
        (folder / f"{module}.txt").write_text("\n".join(lines) + "\n")
