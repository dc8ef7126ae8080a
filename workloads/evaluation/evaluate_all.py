"""Everything the evaluation job measures on one base model and its masks, as records.

`evaluate_all` is the whole of it, pure (model, task, masks, config and seed in; records
out), in this order:
- `evaluations`: the unmasked model, then per mask the mask, its inverse and the inverse's
  controls (`mask_variants`: I/O tensors kept whole, random removal of as many weights,
  drawn in order from a generator seeded with `seed` per mask), then the variants the
  config asks for (`variant_masks`: E2 "first full mask" inverse test, E10 half masks);
  each evaluated on every target function;
- `mask_overlaps`: per pair of masks and tensor, kept by each and by both;
- `confusions` (tasks with `predict`, CIFAR-10 E5): the base model's and every mask's
  confusion on the control target's evaluation set;
- `mask_rows` (tasks with `output_tokens`, SCAN E3): per mask and output row, weights kept
  alone and together with the control mask;
- `mask_sharing` (two or more non-control masks): per mask and tensor, the weights it
  shares with the union of the other non-control masks (the paper's shared proportion);
- `op_confusion` (add/mul E1): per base model, mask and inverted mask, whether the answer
  is the sum, the product or neither, per true op.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import torch
from torch import nn

from workloads.confusion import confusion, has_predictions
from workloads.controls import io_kept, random_removal
from workloads.data.base import Task
from workloads.evaluate import evaluate
from workloads.evaluation.config import EvaluationConfig
from workloads.evaluation.records import (
    ConfusionRecord,
    EvaluationRecord,
    EvaluationRecords,
    OpConfusionRecord,
    OverlapRecord,
    SharingRecord,
    TokenRowRecord,
)
from workloads.masking import invert, overlap_counts, shared_counts
from workloads.op_confusion import has_op_answers, op_confusion
from workloads.variants import early_tensor_names, first_full_inverted, half_masks

Masks = dict[str, torch.Tensor]


def evaluate_all(
    model: nn.Module,
    task: Task,
    masks: dict[str, Masks],
    evaluation: EvaluationConfig,
    seed: int,
) -> EvaluationRecords:
    """Every record of one evaluation job; `masks` are final masks by label, control first,
    each with its tensors in the model's order (tables list layers in that order)."""
    records = EvaluationRecords()
    for label, variant, draw, mask in conditions(masks, evaluation, seed):
        records.evaluations += on_every_function(
            model, task, label, variant, draw, mask, evaluation
        )
    records.mask_overlaps = overlap_records(masks)
    for label, variant, mask in variant_masks(evaluation, task, masks):
        records.evaluations += on_every_function(model, task, label, variant, 0, mask, evaluation)
    records.confusions = confusion_records(model, task, masks, evaluation.batch_size)
    records.mask_rows = token_row_records(task, masks)
    records.mask_sharing = sharing_records(task, masks)
    records.op_confusion = op_confusion_records(model, task, masks, evaluation.batch_size)
    return records


def on_every_function(
    model: nn.Module,
    task: Task,
    label: str | None,
    variant: str,
    draw: int,
    mask: Masks | None,
    evaluation: EvaluationConfig,
) -> list[EvaluationRecord]:
    """One mask variant (or the unmasked model) evaluated on each target function."""
    return [
        EvaluationRecord(
            label,
            variant,
            draw,
            function,
            **evaluate(model, task, function, mask, batch_size=evaluation.batch_size).model_dump(),
        )
        for function in task.target_functions
    ]


def conditions(
    masks: dict[str, Masks], evaluation: EvaluationConfig, seed: int
) -> Iterator[tuple[str | None, str, int, Masks | None]]:
    """(mask label, variant, draw, mask applied): the unmasked model first, then each mask's
    variants; each is built once and evaluated on every target function."""
    yield None, "none", 0, None
    for label, mask in masks.items():
        for variant, draw, applied in mask_variants(mask, evaluation, seed):
            yield label, variant, draw, applied


def mask_variants(
    mask: Masks, evaluation: EvaluationConfig, seed: int
) -> Iterator[tuple[str, int, Masks]]:
    """(variant, draw, mask applied): the mask, its inverse and the inverse's controls.

    Each mask's random draws come from a generator of its own seeded with `seed`, so a
    mask's controls do not depend on which masks were evaluated before it.
    """
    inverted = invert(mask)
    yield "mask", 0, mask
    yield "inverted", 0, inverted
    if evaluation.io_kept_inverse:
        yield "inverted_io_kept", 0, io_kept(inverted)
    generator = torch.Generator().manual_seed(seed)
    for draw in range(evaluation.random_removal_draws):
        random = random_removal(mask, generator)
        yield "random_removal", draw, random
        if evaluation.io_kept_inverse:
            yield "random_removal_io_kept", draw, io_kept(random)


def control_label(task: Task, masks: dict[str, Masks]) -> str | None:
    """The label of the control mask (the task's first target), if it was fitted."""
    control = task.target_functions[0]
    return control if control in masks else None


def variant_masks(
    evaluation: EvaluationConfig, task: Task, masks: dict[str, Masks]
) -> list[tuple[str, str, Masks]]:
    """(mask label, mask_variant, mask) for each variant the config asks for."""
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


def overlap_records(masks: dict[str, Masks]) -> list[OverlapRecord]:
    return [
        OverlapRecord(a, b, layer, index, **counts)
        for a, b in itertools.combinations(masks, 2)
        for index, (layer, counts) in enumerate(overlap_counts(masks[a], masks[b]).items())
    ]


def confusion_records(
    model: nn.Module, task: Task, masks: dict[str, Masks], batch_size: int
) -> list[ConfusionRecord]:
    """Every cell of the unmasked and of each mask's confusion; empty for tasks without
    `predict`. Rows of classes without evaluation samples are left out."""
    if not has_predictions(task):
        return []
    names = task.class_names
    control = task.target_functions[0]
    records = []
    for label, mask in [(None, None), *masks.items()]:
        matrix = confusion(model, task, control, mask, batch_size)  # [true, predicted]
        for true_index, predicted_index in torch.nonzero(~matrix.isnan()).tolist():
            records.append(
                ConfusionRecord(
                    mask_target=label,
                    mask_variant="none" if label is None else "mask",
                    true_class=names[true_index],
                    predicted_class=names[predicted_index],
                    fraction=float(matrix[true_index, predicted_index]),
                )
            )
    return records


def token_row_records(task: Task, masks: dict[str, Masks]) -> list[TokenRowRecord]:
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
    records = []
    for label, mask in masks.items():
        keep = mask[layer].flatten(1)
        kept, both = keep.sum(1).tolist(), (keep & control_rows).sum(1).tolist()
        records += [
            TokenRowRecord(label, layer, row, token, kept[row], both[row], keep.shape[1])
            for row, token in enumerate(tokens)
            if token in targets
        ]
    return records


def sharing_records(task: Task, masks: dict[str, Masks]) -> list[SharingRecord]:
    """Per non-control mask and tensor: kept, shared with the other non-control masks'
    union, total; empty with fewer than two non-control masks. Masks fitted per data-order
    seed (labels `<target>-order<seed>`, E6) are repeats of one another, not other target
    functions, and are left out."""
    targets = {label: mask for label, mask in masks.items() if label in task.target_functions[1:]}
    if len(targets) < 2:
        return []
    return [
        SharingRecord(
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


def op_confusion_records(
    model: nn.Module, task: Task, masks: dict[str, Masks], batch_size: int
) -> list[OpConfusionRecord]:
    """The base model's, each mask's and each inverted mask's op confusion; empty for
    tasks that cannot name the sum and product of a sample."""
    if not has_op_answers(task):
        return []
    conditions: list[tuple[str | None, str, Masks | None]] = [(None, "none", None)]
    for label, mask in masks.items():
        conditions += [(label, "mask", mask), (label, "inverted", invert(mask))]
    return [
        OpConfusionRecord(mask_target=label, mask_variant=variant, **record)  # type: ignore[arg-type]
        for label, variant, mask in conditions
        for record in op_confusion(model, task, mask, batch_size)
    ]
