"""Rows of the paper's controls beyond the spine's tables, computed in the evaluation job.

- mask variants (`evaluation.variants`): the E2 "first full mask" inverse test and the
  E10 half-mask test, as extra `evaluations` rows;
- `confusions` (tasks with `predict`, CIFAR-10 E5): the base model's, the control mask's
  and every class-removal mask's confusion on the control target's evaluation set;
- `mask_rows` (tasks with `output_tokens`, SCAN E3): per mask and output row, weights
  kept alone and together with the control mask;
- `mask_sharing` (two or more non-control masks): per mask and tensor, the weights it
  shares with the union of the other non-control masks (the paper's shared proportion);
- `op_confusion` (add/mul E1): per base model, mask and inverted mask, whether the answer
  is the sum, the product or neither, per true op.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from analysis.schema import (
    ConfusionRow,
    EvaluationRow,
    MaskRowRow,
    MaskSharingRow,
    OpConfusionRow,
)
from workloads.confusion import confusion, has_predictions
from workloads.evaluate import evaluate
from workloads.evaluation.config import EvaluationConfig
from workloads.masking import invert, shared_counts
from workloads.op_confusion import has_op_answers, op_confusion
from workloads.variants import early_tensor_names, first_full_inverted, half_masks

Masks = dict[str, torch.Tensor]


def control_label(task, masks: dict[str, Masks]) -> str | None:
    """The label of the control mask (the task's first target), if it was fitted."""
    control = task.target_functions[0]
    return control if control in masks else None


def variant_masks(
    evaluation: EvaluationConfig, task, masks: dict[str, Masks]
) -> list[tuple[str, str, Masks]]:
    """(mask label, mask_variant, mask) for each variant the spec asks for."""
    control = control_label(task, masks)
    if control is None:
        return []
    variants: list[tuple[str, str, Masks]] = []
    if "first_full_mask" in evaluation.variants:
        variants += [
            (label, "first_full_inverted", first_full_inverted(mask, masks[control]))
            for label, mask in masks.items()
            if label != control
        ]
    if "half_mask" in evaluation.variants:
        early = early_tensor_names(
            list(masks[control]), evaluation.half_mask_rounding, evaluation.half_mask_early
        )
        variants += [
            (control, name, mask) for name, mask in half_masks(masks[control], early).items()
        ]
    return variants


def variant_evaluation_rows(
    evaluation: EvaluationConfig,
    model: nn.Module,
    task,
    masks: dict[str, Masks],
    fits: dict[str, str],
    keys: dict[str, Any],
) -> list[EvaluationRow]:
    return [
        EvaluationRow(
            **keys,
            mask_job_id=fits[label],
            mask_target=label,
            mask_variant=variant,
            evaluated_function=function,
            **evaluate(
                model, task, function, mask, batch_size=evaluation.batch_size
            ).model_dump(),
        )
        for label, variant, mask in variant_masks(evaluation, task, masks)
        for function in task.target_functions
    ]


def confusion_rows(
    model: nn.Module, task, masks: dict[str, Masks], keys: dict[str, Any], batch_size: int
) -> list[ConfusionRow]:
    """Every cell of the unmasked and of each mask's confusion; empty for tasks without
    `predict`. Rows of classes without evaluation samples are left out."""
    if not has_predictions(task):
        return []
    names = task.class_names
    control = task.target_functions[0]
    rows = []
    for label, mask in [(None, None), *masks.items()]:
        matrix = confusion(model, task, control, mask, batch_size)  # [true, predicted]
        for true_index, predicted_index in torch.nonzero(~matrix.isnan()).tolist():
            rows.append(
                ConfusionRow(
                    **keys,
                    mask_target=label,
                    mask_variant="none" if label is None else "mask",
                    true_class=names[true_index],
                    predicted_class=names[predicted_index],
                    fraction=float(matrix[true_index, predicted_index]),
                )
            )
    return rows


def mask_row_rows(
    task, masks: dict[str, Masks], fits: dict[str, str], keys: dict[str, Any]
) -> list[MaskRowRow]:
    """Per mask, per row of the output layer (the last masked matrix), when the task names
    its output rows and the control mask was fitted; only the rows of tokens that are ever
    a target (`target_tokens`, SCAN: the six actions and EOS, never PAD or SOS)."""
    tokens = getattr(task, "output_tokens", None)
    control = control_label(task, masks)
    if tokens is None or control is None:
        return []
    layer = [name for name, keep in masks[control].items() if keep.dim() >= 2][-1]
    control_rows = masks[control][layer].flatten(1)  # [rows, inputs]
    if control_rows.shape[0] != len(tokens):
        raise ValueError(
            f"output layer {layer!r} has {control_rows.shape[0]} rows but the task names "
            f"{len(tokens)} output tokens"
        )
    targets = set(getattr(task, "target_tokens", tokens))
    rows = []
    for label, mask in masks.items():
        keep = mask[layer].flatten(1)
        kept, both = keep.sum(1).tolist(), (keep & control_rows).sum(1).tolist()
        rows += [
            MaskRowRow(
                **keys,
                mask_job_id=fits[label],
                mask_target=label,
                layer=layer,
                row=row,
                token=token,
                kept=kept[row],
                kept_and_control=both[row],
                total=keep.shape[1],
            )
            for row, token in enumerate(tokens)
            if token in targets
        ]
    return rows


def mask_sharing_rows(
    task, masks: dict[str, Masks], fits: dict[str, str], keys: dict[str, Any]
) -> list[MaskSharingRow]:
    """Per non-control mask and tensor: kept, shared with the other non-control masks'
    union, total; empty with fewer than two non-control masks. Masks fitted per data-order
    seed (labels `<target>-order<seed>`, E6) are repeats of one another, not other target
    functions, and are left out."""
    targets = {label: mask for label, mask in masks.items() if label in task.target_functions[1:]}
    if len(targets) < 2:
        return []
    return [
        MaskSharingRow(
            **keys,
            mask_job_id=fits[label],
            target_function=label,
            target_index=task.target_functions.index(label),
            layer=layer,
            layer_index=index,
            kept=kept,
            shared=shared,
            total=total,
        )
        for label, counts in shared_counts(targets).items()
        for index, (layer, (kept, shared, total)) in enumerate(counts.items())
    ]


def op_confusion_rows(
    model: nn.Module,
    task,
    masks: dict[str, Masks],
    fits: dict[str, str],
    keys: dict[str, Any],
    batch_size: int,
) -> list[OpConfusionRow]:
    """The base model's, each mask's and each inverted mask's op confusion; empty for
    tasks that cannot name the sum and product of a sample."""
    if not has_op_answers(task):
        return []
    conditions: list[tuple[str | None, str, Masks | None]] = [(None, "none", None)]
    for label, mask in masks.items():
        conditions += [(label, "mask", mask), (label, "inverted", invert(mask))]
    return [
        OpConfusionRow(
            **keys,
            mask_job_id=None if label is None else fits[label],
            mask_target=label,
            mask_variant=variant,
            **record,
        )
        for label, variant, mask in conditions
        for record in op_confusion(model, task, mask, batch_size)
    ]
