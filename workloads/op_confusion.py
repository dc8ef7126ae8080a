"""The op-confusion test of add/mul (paper E1): is a (masked) net's answer the sum, the
product or neither?

Per true op, the share of evaluation samples whose 2-digit answer equals (a + b) mod 100
("sum"), equals (a * b) mod 100 ("product"), or neither. "sum" and "product" are counted
independently: where the two coincide (2 + 2 = 2 * 2, 0 + 0 = 0 * 0, ...) an answer equal to
both counts in both, so per true op sum + product + neither exceeds 100% by the share of
such samples the net answers right. Tasks offer the test through `answer_candidates` and
`predicted_answers` (workloads/data/addmul.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import torch
from torch import nn
from typing_extensions import TypeIs

from workloads.data.addmul import OPS
from workloads.data.base import Examples, ModelCall, Task, iterate_batches, model_device, to_device
from workloads.masking import call_with, masked_parameters

MATCHES = ("sum", "product", "neither")


class OpAnsweringTask(Task, Protocol):
    """A task that says per sample its true op, sum and product and the network's answer."""

    def answer_candidates(self, batch: Examples) -> dict[str, torch.Tensor]: ...

    def predicted_answers(self, call: ModelCall, batch: Examples) -> torch.Tensor: ...


def has_op_answers(task: Task) -> TypeIs[OpAnsweringTask]:
    """Whether the task can say, per sample, its true op, sum, product and the net's answer."""
    return callable(getattr(task, "predicted_answers", None))


def answer_matches(
    predicted: torch.Tensor,
    op: torch.Tensor,
    sums: torch.Tensor,
    products: torch.Tensor,
    ops: Sequence[str] = OPS,
) -> list[dict[str, object]]:
    """Per true op with samples and per match (sum, product, neither): the share of that
    op's samples, and how many samples the op has. All inputs are [n]."""
    is_sum, is_product = predicted == sums, predicted == products
    matches = {"sum": is_sum, "product": is_product, "neither": ~(is_sum | is_product)}
    records = []
    for index, name in enumerate(ops):
        of_op = op == index
        samples = int(of_op.sum())
        if samples == 0:
            continue
        records += [
            {
                "true_op": name,
                "answer_matches": match,
                "fraction": int((matches[match] & of_op).sum()) / samples,
                "samples": samples,
            }
            for match in MATCHES
        ]
    return records


@torch.no_grad()
def op_confusion(
    model: nn.Module,
    task: OpAnsweringTask,
    mask: Mapping[str, torch.Tensor] | None = None,
    batch_size: int = 1024,
) -> list[dict[str, object]]:
    """`answer_matches` of the (masked) frozen net on the control target's evaluation set
    (both ops), in eval mode."""
    model.eval()
    call = call_with(model, masked_parameters(model, mask or {}))
    device = model_device(model)
    parts: dict[str, list[torch.Tensor]] = {"predicted": [], "op": [], "sum": [], "product": []}
    for batch in iterate_batches(task.eval_examples(task.target_functions[0]), batch_size):
        parts["predicted"].append(task.predicted_answers(call, to_device(batch, device)).cpu())
        for key, values in task.answer_candidates(batch).items():
            parts[key].append(values)
    joined = {key: torch.cat(values) for key, values in parts.items()}
    return answer_matches(joined["predicted"], joined["op"], joined["sum"], joined["product"])
