"""Permuted MNIST on tiny IDX files: tasks are fixed pixel permutations of MNIST."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from support.data_files import write_idx

from workloads.data.permuted_mnist import PermutedMnistConfig, permutations
from workloads.models.fnn import FeedforwardConfig


@pytest.fixture
def mnist_folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (6, 28, 28)))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 1, 2, 3, 4, 5]))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (4, 28, 28)))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([9, 8, 7, 6]))
    return tmp_path


def test_targets_are_mnist_then_ten_permutations(mnist_folder: Path) -> None:
    task = PermutedMnistConfig(path=str(mnist_folder)).build()
    assert task.target_functions == tuple(f"task_{index}" for index in range(11))
    assert task.shape == {"input_size": 784, "output_size": 10}


def test_permutations_are_fixed_and_task_0_is_the_identity() -> None:
    orders = permutations(11, seed=0)
    assert torch.equal(orders[0], torch.arange(784))
    assert all(torch.equal(order.sort().values, torch.arange(784)) for order in orders)
    assert len({tuple(order.tolist()) for order in orders}) == 11
    assert torch.equal(orders, permutations(11, seed=0))


def test_inputs_of_task_p_are_mnist_pixels_in_permutation_p(mnist_folder: Path) -> None:
    task = PermutedMnistConfig(path=str(mnist_folder), tasks=3).build()
    plain = task.inputs(task.train_examples("task_0"))  # [6, 784]
    permuted = task.inputs(task.train_examples("task_2"))
    order = task.permutations[2]
    assert torch.equal(permuted, plain[:, order])
    assert not torch.equal(permuted, plain)
    assert abs(float(plain.mean())) < 1e-5 and abs(float(plain.std(unbiased=False)) - 1) < 1e-5
    assert task.eval_examples("task_1")["label"].tolist() == [9, 8, 7, 6]


def test_fnn_trains_on_a_permuted_task(mnist_folder: Path) -> None:
    task = PermutedMnistConfig(path=str(mnist_folder), tasks=2).build()
    model = FeedforwardConfig(hidden_sizes=[16]).build(task)
    result = task.step(model, task.train_examples("task_1"), train=True)
    assert result.loss.shape == () and result.correct.shape == (6,)
