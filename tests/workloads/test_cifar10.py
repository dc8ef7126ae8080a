"""The CIFAR-10 task on a tiny file set of the official format: splits, targets,
normalisation, augmentation and the confusion matrix."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError
from support.data_files import write_cifar10_folder

from workloads.data.base import check_target
from workloads.data.cifar10 import (
    CLASS_NAMES,
    Cifar10Config,
    confusion_matrix,
    random_crop_and_flip,
)

TRAIN_LABELS = [index % 10 for index in range(50)]
TEST_LABELS = [index % 10 for index in range(20)]


@pytest.fixture
def cifar_folder(tmp_path: Path) -> Path:
    write_cifar10_folder(tmp_path, TRAIN_LABELS, TEST_LABELS)
    return tmp_path


def test_targets_are_control_then_one_removal_per_class(cifar_folder: Path) -> None:
    task = Cifar10Config(path=str(cifar_folder)).build()
    assert task.target_functions[0] == "all"
    assert task.target_functions[1:] == tuple(f"without_{name}" for name in CLASS_NAMES)
    with pytest.raises(ValueError, match="unknown target"):
        check_target(task, "without_unicorn")


def test_heldout_split_is_80_20_disjoint_and_fixed(cifar_folder: Path) -> None:
    task = Cifar10Config(path=str(cifar_folder)).build()
    train, heldout = task.train_examples("all"), task.eval_examples("all")
    assert train["image"].shape == (40, 3, 32, 32) and heldout["image"].shape == (10, 3, 32, 32)
    rows = {
        bytes(image.flatten().tolist()) for image in torch.cat([train["image"], heldout["image"]])
    }
    assert len(rows) == 50  # every training image exactly once
    again = Cifar10Config(path=str(cifar_folder)).build().eval_examples("all")
    assert torch.equal(again["image"], heldout["image"])
    other_seed = Cifar10Config(path=str(cifar_folder), split_seed=1).build()
    assert not torch.equal(other_seed.eval_examples("all")["image"], heldout["image"])


def test_evaluate_on_test_trains_on_all_training_images(cifar_folder: Path) -> None:
    task = Cifar10Config(path=str(cifar_folder), evaluate_on="test").build()
    assert task.train_examples("all")["label"].tolist() == TRAIN_LABELS
    assert task.eval_examples("all")["label"].tolist() == TEST_LABELS


def test_without_class_trains_on_the_others_and_evaluates_on_all(cifar_folder: Path) -> None:
    task = Cifar10Config(path=str(cifar_folder), evaluate_on="test").build()
    train = task.train_examples("without_cat")
    assert CLASS_NAMES.index("cat") == 3
    assert train["label"].tolist() == [label for label in TRAIN_LABELS if label != 3]
    assert train["image"].shape[0] == 45
    assert task.eval_examples("without_cat")["label"].tolist() == TEST_LABELS


def test_class_subset_restricts_the_whole_task_keeping_label_indices(cifar_folder: Path) -> None:
    config = Cifar10Config(path=str(cifar_folder), evaluate_on="test", classes=["dog", "cat"])
    task = config.build()
    assert task.target_functions == ("all", "without_dog", "without_cat")
    assert task.shape["output_size"] == 10
    assert sorted(set(task.train_examples("all")["label"].tolist())) == [3, 5]
    assert task.train_examples("all")["label"].shape[0] == 10
    assert task.train_examples("without_dog")["label"].tolist() == [3] * 5
    assert sorted(set(task.eval_examples("all")["label"].tolist())) == [3, 5]


def test_unknown_or_repeated_classes_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown classes"):
        Cifar10Config(path="x", classes=["cat", "unicorn"])
    with pytest.raises(ValidationError, match="distinct"):
        Cifar10Config(path="x", classes=["cat", "cat"])


def test_inputs_are_normalised_per_channel_on_the_train_part(cifar_folder: Path) -> None:
    task = Cifar10Config(path=str(cifar_folder)).build()
    inputs = task.inputs(task.train_examples("all")["image"], train=False)
    per_channel = inputs.transpose(0, 1).reshape(3, -1)
    assert per_channel.mean(dim=1).abs().max() < 1e-5
    assert (per_channel.std(dim=1, unbiased=False) - 1).abs().max() < 1e-5
    # uniform random pixels: mean about 127.5 / 255
    assert (task.mean.flatten() - 0.5).abs().max() < 0.01


def test_random_crop_and_flip_is_a_shifted_window_of_the_padded_image() -> None:
    images = torch.randint(1, 256, (6, 3, 32, 32), dtype=torch.uint8)
    augmented = random_crop_and_flip(images, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    for image, result in zip(padded, augmented, strict=True):
        windows = [
            image[:, top : top + 32, left : left + 32] for top in range(9) for left in range(9)
        ]
        candidates = windows + [window.flip(-1) for window in windows]
        assert any(torch.equal(result, candidate) for candidate in candidates)
    assert not torch.equal(augmented, images)


def test_augmentation_applies_only_to_training_steps(cifar_folder: Path) -> None:
    task = Cifar10Config(path=str(cifar_folder), augment=True).build()
    images = task.train_examples("all")["image"][:8]
    assert torch.equal(task.inputs(images, train=False), task.inputs(images, train=False))
    assert not torch.equal(task.inputs(images, train=True), task.inputs(images, train=False))


def test_step_and_predict_use_the_argmax_of_the_logits(cifar_folder: Path) -> None:
    task = Cifar10Config(path=str(cifar_folder)).build()
    batch = task.eval_examples("all")
    images = torch.zeros_like(batch["image"])
    images[torch.arange(10), 0, 0, batch["label"]] = 255
    batch = {"image": images, "label": batch["label"]}

    def first_red_row(inputs: torch.Tensor) -> torch.Tensor:  # [batch, 10] logits
        return inputs[:, 0, 0, :10]

    assert torch.equal(task.predict(first_red_row, batch), batch["label"])
    result = task.step(first_red_row, batch, train=False)
    assert result.correct.all() and math.isfinite(float(result.loss))


def test_confusion_matrix_is_row_normalised_by_true_class() -> None:
    labels = torch.tensor([0, 0, 1, 1, 1, 2])
    predictions = torch.tensor([0, 1, 1, 1, 0, 2])
    matrix = confusion_matrix(predictions, labels, classes=4)
    expected = torch.tensor(
        [[0.5, 0.5, 0.0, 0.0], [1 / 3, 2 / 3, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]],
        dtype=torch.float64,
    )
    assert torch.allclose(matrix[:3], expected)
    assert torch.isnan(matrix[3]).all()  # no samples of class 3


def test_class_pair_draws_ten_distinct_ordered_pairs_per_seed_reproducibly() -> None:
    def pairs(seed: int) -> list[tuple[str, ...]]:
        configs = [Cifar10Config(path="unused", class_pair=k).for_seed(seed) for k in range(10)]
        return [tuple(config.classes) for config in configs]

    first = pairs(1)
    assert len(set(first)) == 10 and all(a != b for a, b in first)
    assert pairs(1) == first  # the same seed, the same pairs
    assert pairs(2) != first  # another seed, other pairs
    assert Cifar10Config(path="unused", class_pair=0).for_seed(1).class_pair is None
    assert Cifar10Config(path="unused").for_seed(1).classes is None  # no pair: unchanged
    with pytest.raises(ValidationError, match="not both"):
        Cifar10Config(path="unused", classes=["cat", "dog"], class_pair=0)
