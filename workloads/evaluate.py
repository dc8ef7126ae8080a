"""Accuracy and loss of a (masked) frozen network on one target function."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from pydantic import BaseModel
from torch import nn

from workloads.data.base import Task, check_target, iterate_batches, model_device, to_device
from workloads.masking import call_with, masked_parameters


class Evaluation(BaseModel):
    accuracy: float
    loss: float
    samples: int


@torch.no_grad()
def evaluate(
    model: nn.Module,
    task: Task,
    target: str,
    mask: Mapping[str, torch.Tensor] | None = None,
    batch_size: int = 1024,
) -> Evaluation:
    """Exact-match accuracy and mean loss on the target's evaluation set, in eval mode."""
    check_target(task, target)
    model.eval()
    params = masked_parameters(model, mask or {})
    call = call_with(model, params)
    correct, loss_sum, samples = 0, 0.0, 0
    device = model_device(model)
    for batch in iterate_batches(task.eval_examples(target), batch_size):
        batch = to_device(batch, device)
        result = task.step(call, batch, train=False)
        size = result.correct.shape[0]
        correct += int(result.correct.sum())
        loss_sum += float(result.loss) * size
        samples += size
    return Evaluation(accuracy=correct / samples, loss=loss_sum / samples, samples=samples)
