"""CIFAR-10 class removal (paper E5) and 2-class mask stability (E6).

The paper's protocol: the 50k training images split 80/20 with a fixed seed, per-channel
normalisation from the 80% part, no augmentation, evaluation on the 20% part. ResNet-110
instead trains on all 50k with random crop (pad 4) and flip and is evaluated on the 10k
test set: `evaluate_on="test"`, `augment=True`.

Target functions: "all" (control), then "without_<class>": trained on every class but
that one and evaluated on all classes, so the removed class's drop can be measured.
`classes` restricts the whole task to a subset (E6 fits masks on 2-class subsets);
`class_pair` draws that subset from the seed: the paper's 10 random ordered class pairs
per seed are `class_pair` 0-9, each seed its own (`seeded_class_pairs`). Labels keep their CIFAR-10 index and the output stays 10-way whatever the subset, so one
base model serves every subset; normalisation is always that of the full training part.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, field_validator, model_validator

from workloads.data.base import Examples, ModelCall, StepResult, TaskConfig, check_target
from workloads.data.image_files import load_cifar10, pixel_statistics

CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CROP_PADDING = 4


class Cifar10Config(TaskConfig):
    name: Literal["cifar10"] = "cifar10"
    path: str = Field(
        description="folder with the python version's batch files, or cifar-10-python.tar.gz"
    )
    evaluate_on: Literal["heldout", "test"] = Field(
        "heldout",
        description="heldout: train on 80% of the 50k, evaluate on the other 20% (simple CNN); "
        "test: train on all 50k, evaluate on the 10k test set (ResNet-110)",
    )
    heldout_fraction: float = Field(0.2, gt=0, lt=1, description="share held out for evaluation")
    split_seed: int = Field(0, description="fixed seed of the train/held-out split")
    augment: bool = Field(False, description="random crop (pad 4) and flip in training steps")
    augment_seed: int = Field(0, description="seed of the task's augmentation generator")
    classes: list[str] | None = Field(
        None, description="restrict the task to these classes (E6: 2-class subsets); null = all"
    )
    class_pair: int | None = Field(
        None,
        ge=0,
        lt=len(CLASS_NAMES) * (len(CLASS_NAMES) - 1),
        description="E6: restrict the task to the class_pair-th ordered pair of classes in "
        "the seed's random order (`classes` is set from the mask seed at planning)",
    )

    @field_validator("classes")
    @classmethod
    def _known_distinct_classes(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        unknown = [name for name in value if name not in CLASS_NAMES]
        if unknown:
            raise ValueError(f"unknown classes {unknown}; valid: {', '.join(CLASS_NAMES)}")
        if len(set(value)) != len(value) or not value:
            raise ValueError(f"classes must be distinct and non-empty, got {value}")
        return value

    @model_validator(mode="after")
    def _one_way_to_choose_classes(self) -> Cifar10Config:
        if self.classes is not None and self.class_pair is not None:
            raise ValueError("set classes or class_pair, not both")
        return self

    def for_seed(self, seed: int) -> Cifar10Config:
        """With `class_pair`: the config restricted to that pair of the seed's order."""
        if self.class_pair is None:
            return self
        pair = seeded_class_pairs(seed)[self.class_pair]
        return self.model_copy(update={"classes": list(pair), "class_pair": None})

    def task_classes(self) -> tuple[str, ...]:
        return tuple(self.classes) if self.classes is not None else CLASS_NAMES

    def target_functions(self) -> tuple[str, ...]:
        return ("all", *(f"without_{name}" for name in self.task_classes()))

    def build(self) -> Cifar10Task:
        return Cifar10Task(self)


def seeded_class_pairs(seed: int) -> list[tuple[str, str]]:
    """All 90 ordered pairs of distinct classes in an order only `seed` decides (a hash, so
    that no Python or torch version changes a sweep's pairs); E6 takes the first 10."""
    pairs = [(a, b) for a in CLASS_NAMES for b in CLASS_NAMES if a != b]
    return sorted(
        pairs, key=lambda pair: hashlib.sha256(f"{seed}/{pair[0]}/{pair[1]}".encode()).digest()
    )


def channel_statistics(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images [n, 3, h, w] scaled to [0, 1]: [1, 3, 1, 1]."""
    statistics = torch.tensor([pixel_statistics(images[:, channel]) for channel in range(3)])
    return statistics[:, 0].view(1, 3, 1, 1), statistics[:, 1].view(1, 3, 1, 1)


def random_crop_and_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by 4, crop a random 32x32 window, flip half horizontally: [n, c, h, w]."""
    count, channels, height, width = images.shape
    padded = F.pad(images, (CROP_PADDING,) * 4)  # [n, c, h + 8, w + 8]
    top = torch.randint(0, 2 * CROP_PADDING + 1, (count,), generator=generator)
    left = torch.randint(0, 2 * CROP_PADDING + 1, (count,), generator=generator)
    flip = torch.rand(count, generator=generator) < 0.5
    rows = (top[:, None] + torch.arange(height)).to(images.device)  # [n, h]
    columns = (left[:, None] + torch.arange(width)).to(images.device)  # [n, w]
    columns = torch.where(flip.to(images.device)[:, None], columns.flip(1), columns)
    # two gathers (rows, then columns) are several times faster than one 4-d index
    rows = rows[:, None, :, None].expand(count, channels, height, padded.shape[3])
    cropped_rows = padded.gather(2, rows)  # [n, c, h, w + 8]
    return cropped_rows.gather(3, columns[:, None, None, :].expand(count, channels, height, width))


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor, classes: int) -> torch.Tensor:
    """Row-normalised confusion [classes, classes]: entry (t, p) = share of class-t samples
    predicted as p. Rows of classes without samples are NaN (no data, not zero accuracy)."""
    counts = torch.bincount(
        labels.long() * classes + predictions.long(), minlength=classes * classes
    ).view(classes, classes)
    totals = counts.sum(dim=1, keepdim=True)
    return counts.double() / totals.double()


class Cifar10Task:
    shape = {"input_channels": 3, "image_size": 32, "output_size": len(CLASS_NAMES)}
    class_names = CLASS_NAMES  # output index -> class, for confusion tables

    def __init__(self, config: Cifar10Config) -> None:
        self.config = config
        self.target_functions = config.target_functions()
        train_files, test_files = load_cifar10(Path(config.path))
        images = torch.from_numpy(train_files.images)  # [50k, 3, 32, 32] uint8
        labels = torch.from_numpy(train_files.labels)
        if config.evaluate_on == "heldout":
            order = torch.randperm(
                labels.shape[0], generator=torch.Generator().manual_seed(config.split_seed)
            )
            heldout = order[: round(labels.shape[0] * config.heldout_fraction)]
            kept = order[heldout.shape[0] :]
            train = {"image": images[kept], "label": labels[kept]}
            evaluation = {"image": images[heldout], "label": labels[heldout]}
        else:
            train = {"image": images, "label": labels}
            evaluation = {
                "image": torch.from_numpy(test_files.images.copy()),
                "label": torch.from_numpy(test_files.labels),
            }
        self.mean, self.std = channel_statistics(train["image"])
        task_labels = torch.tensor([CLASS_NAMES.index(name) for name in config.task_classes()])
        self._train = _where(train, torch.isin(train["label"], task_labels))
        self._evaluation = _where(evaluation, torch.isin(evaluation["label"], task_labels))
        self.augment_generator = torch.Generator().manual_seed(config.augment_seed)
        self.generators = {"augment": self.augment_generator}

    def train_examples(self, target: str) -> Examples:
        check_target(self, target)
        if target == "all":
            return self._train
        removed = CLASS_NAMES.index(target.removeprefix("without_"))
        return _where(self._train, self._train["label"] != removed)

    def eval_examples(self, target: str) -> Examples:
        """All of the task's classes for every target: removal is measured on the rest too."""
        check_target(self, target)
        return self._evaluation

    def inputs(self, images: torch.Tensor, train: bool) -> torch.Tensor:
        """uint8 [n, 3, 32, 32] -> normalised float, augmented in training when configured."""
        if train and self.config.augment:
            images = random_crop_and_flip(images, self.augment_generator)
        mean, std = self.mean.to(images.device), self.std.to(images.device)
        return (images.float() / 255.0 - mean) / std

    def step(self, call: ModelCall, batch: Examples, train: bool) -> StepResult:
        logits = call(self.inputs(batch["image"], train))  # [batch, 10]
        loss = F.cross_entropy(logits, batch["label"])
        return StepResult(loss=loss, correct=logits.argmax(dim=1) == batch["label"])

    @torch.no_grad()
    def predict(self, call: ModelCall, batch: Examples) -> torch.Tensor:
        """Predicted class index per example [batch], for `confusion_matrix`."""
        return call(self.inputs(batch["image"], train=False)).argmax(dim=1)


def _where(examples: Examples, keep: torch.Tensor) -> Examples:
    return {key: value[keep] for key, value in examples.items()}
