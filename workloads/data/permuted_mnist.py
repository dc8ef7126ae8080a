"""Permuted MNIST (paper E7, transfer): MNIST, then fixed pixel permutations of it.

Target function "task_p" is MNIST with permutation p applied to the 784 pixels of every
image; "task_0" is plain MNIST (the identity). Permutations 1.. are drawn once from
`permutation_seed`, so every run of a sweep sees the same tasks. Training uses the 60k
training digits, evaluation the 10k test digits. The images are stored once; a batch
carries each example's task index and is permuted in `step`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from workloads.data.base import Examples, ModelCall, StepResult, TaskConfig, check_target
from workloads.data.image_files import LabelledImages, load_mnist, pixel_statistics

PIXELS = 28 * 28


class PermutedMnistConfig(TaskConfig):
    name: Literal["permuted_mnist"] = "permuted_mnist"
    path: str = Field(description="folder with the four MNIST IDX files (plain or .gz)")
    tasks: int = Field(11, ge=1, description="MNIST plus tasks - 1 permutations (paper: 11)")
    permutation_seed: int = Field(0, description="fixed seed of the permutations")

    def target_functions(self) -> tuple[str, ...]:
        return tuple(f"task_{index}" for index in range(self.tasks))

    def build(self) -> PermutedMnistTask:
        return PermutedMnistTask(self)


def permutations(tasks: int, seed: int) -> torch.Tensor:
    """[tasks, 784] pixel orders: row 0 the identity, the others random from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    orders = [torch.arange(PIXELS)]
    orders += [torch.randperm(PIXELS, generator=generator) for _ in range(tasks - 1)]
    return torch.stack(orders)


def _examples(digits: LabelledImages) -> Examples:
    images = torch.from_numpy(digits.images).reshape(-1, PIXELS)  # [n, 784] uint8
    return {"image": images, "label": torch.from_numpy(digits.labels)}


class PermutedMnistTask:
    shape = {"input_size": PIXELS, "output_size": 10}

    def __init__(self, config: PermutedMnistConfig) -> None:
        self.config = config
        self.target_functions = config.target_functions()
        train, test = load_mnist(Path(config.path))
        self._train, self._evaluation = _examples(train), _examples(test)
        self.mean, self.std = pixel_statistics(self._train["image"])
        self.permutations = permutations(config.tasks, config.permutation_seed)

    def _for_task(self, examples: Examples, target: str) -> Examples:
        check_target(self, target)
        index = self.target_functions.index(target)
        task = torch.full_like(examples["label"], index)
        return {**examples, "task": task}

    def train_examples(self, target: str) -> Examples:
        return self._for_task(self._train, target)

    def eval_examples(self, target: str) -> Examples:
        return self._for_task(self._evaluation, target)

    def inputs(self, batch: Examples) -> torch.Tensor:
        """Normalised pixels, each example in its task's pixel order: [batch, 784]."""
        pixels = (batch["image"].float() / 255.0 - self.mean) / self.std
        order = self.permutations.to(pixels.device)[batch["task"]]  # [batch, 784]
        return pixels.gather(1, order)

    def step(self, call: ModelCall, batch: Examples, train: bool) -> StepResult:
        logits = call(self.inputs(batch))  # [batch, 10]
        loss = F.cross_entropy(logits, batch["label"])
        return StepResult(loss=loss, correct=logits.argmax(dim=1) == batch["label"])
