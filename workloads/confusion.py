"""Confusion matrices of a (masked) frozen classifier, for the CIFAR-10 class removal (E5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import torch
from torch import nn
from typing_extensions import TypeIs

from workloads.data.base import Examples, ModelCall, Task, iterate_batches, model_device, to_device
from workloads.data.cifar10 import confusion_matrix
from workloads.masking import call_with, masked_parameters


class ClassifyingTask(Task, Protocol):
    """A task that names the class the network predicts for each example."""

    class_names: tuple[str, ...]  # output index -> class

    def predict(self, call: ModelCall, batch: Examples) -> torch.Tensor: ...


def has_predictions(task: Task) -> TypeIs[ClassifyingTask]:
    """Whether the task can name a predicted class per example (classification tasks)."""
    return callable(getattr(task, "predict", None))


@torch.no_grad()
def confusion(
    model: nn.Module,
    task: ClassifyingTask,
    target: str,
    mask: Mapping[str, torch.Tensor] | None = None,
    batch_size: int = 1024,
) -> torch.Tensor:
    """Row-normalised confusion [classes, classes] on the target's evaluation set; rows =
    true class, NaN rows for classes without samples."""
    model.eval()
    call = call_with(model, masked_parameters(model, mask or {}))
    device = model_device(model)
    predictions, labels = [], []
    for batch in iterate_batches(task.eval_examples(target), batch_size):
        predictions.append(task.predict(call, to_device(batch, device)).cpu())
        labels.append(batch["label"])
    return confusion_matrix(torch.cat(predictions), torch.cat(labels), task.shape["output_size"])
