"""What every task offers the trainer, the mask fitter and the evaluator.

A task is built from its config once per job. Examples are dicts of tensors sharing their
first dimension, so that sampling a batch is indexing every tensor with the same indices.
A target function is a named subset of the task's data (e.g. "add"); the first one is the
control target, the whole task.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from pydantic import BaseModel, ConfigDict

Examples = dict[str, torch.Tensor]
ModelCall = Callable[..., Any]


# Tasks whose target functions are subsets of a split (add/mul: about half of it, drawn
# at random): below this many samples a subset can come out empty, with nothing to fit on.
MIN_SPLIT_SIZE = 32


class TaskConfig(BaseModel):
    """Base of every task's config; `name` selects the task in the registry."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str

    def target_functions(self) -> tuple[str, ...]:
        """The task's target functions, the control (whole task) first."""
        raise NotImplementedError

    def build(self) -> Task:
        raise NotImplementedError

    def for_seed(self, seed: int) -> TaskConfig:
        """This config as the mask fits of `seed` use it: unchanged, unless a field draws
        from the seed (CIFAR-10's `class_pair`, E6)."""
        return self


@dataclass(frozen=True)
class StepResult:
    """Task loss (mean over the batch) and which samples were answered exactly right."""

    loss: torch.Tensor  # []
    correct: torch.Tensor  # [batch] bool


class Task(Protocol):
    """The interface between a data set and the generic training code."""

    target_functions: tuple[str, ...]
    shape: dict[str, int]

    def train_examples(self, target: str) -> Examples: ...

    def eval_examples(self, target: str) -> Examples: ...

    def step(self, call: ModelCall, batch: Examples, train: bool) -> StepResult: ...


def num_examples(examples: Examples) -> int:
    return next(iter(examples.values())).shape[0]


def sample_batch(examples: Examples, batch_size: int, generator: torch.Generator) -> Examples:
    """Uniform sampling with replacement, as the paper's mask and base training do."""
    index = torch.randint(0, num_examples(examples), (batch_size,), generator=generator)
    return {key: value[index] for key, value in examples.items()}


def to_device(batch: Examples, device: torch.device) -> Examples:
    """Data lives on the CPU; each batch moves to the model's device when it is used."""
    return {key: value.to(device, non_blocking=True) for key, value in batch.items()}


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def slice_batch(batch: Examples, start: int, stop: int) -> Examples:
    return {key: value[start:stop] for key, value in batch.items()}


def iterate_batches(examples: Examples, batch_size: int):
    """Deterministic, in-order batches over all examples (for evaluation)."""
    total = num_examples(examples)
    for start in range(0, total, batch_size):
        yield slice_batch(examples, start, min(start + batch_size, total))


def check_target(task: Task, target: str) -> None:
    if target not in task.target_functions:
        raise ValueError(
            f"unknown target function {target!r}; valid: {', '.join(task.target_functions)}"
        )


def task_generators(task: Task) -> dict[str, torch.Generator]:
    """The task's own random generators (teacher forcing, augmentation), by name, for a
    loop's checkpoint: a resumed loop restores them with its own, so it draws what an
    uninterrupted one draws. Tasks without any offer no `generators`."""
    return {f"task.{name}": g for name, g in getattr(task, "generators", {}).items()}


def one_batch(task: Task) -> AbstractContextManager[None]:
    """Scope of one training batch, however many slices (mask samples) or fits it is run
    as: a task with a per-batch random choice (teacher forcing) makes it once on entry and
    every step call inside reads it. Tasks without one offer no `one_batch` method."""
    scope = getattr(task, "one_batch", None)
    return scope() if scope is not None else nullcontext()
