"""evaluate_all: every record of an evaluation job, without Ray, MLflow or a store."""

from __future__ import annotations

import torch

from workloads.data.addmul import AddMulConfig
from workloads.evaluate import evaluate
from workloads.evaluation.config import EvaluationConfig
from workloads.evaluation.evaluate_all import evaluate_all, mask_variants
from workloads.masking import maskable_parameter_names
from workloads.models.fnn import FeedforwardConfig


def tiny():
    task = AddMulConfig(train_size=32, validation_size=64).build()
    torch.manual_seed(0)
    model = FeedforwardConfig(hidden_sizes=[8]).build(task).eval()
    return task, model


def masks_of(model, keep_first: dict[str, int]) -> dict[str, dict[str, torch.Tensor]]:
    """Per label, a mask keeping the first `n` weights of every masked tensor."""
    names = maskable_parameter_names(model, False)
    shapes = {name: p.shape for name, p in model.named_parameters() if name in names}
    masks = {}
    for label, n in keep_first.items():
        masks[label] = {}
        for name, shape in shapes.items():
            flat = torch.zeros(shape.numel(), dtype=torch.bool)
            flat[:n] = True
            masks[label][name] = flat.reshape(shape)
    return masks


def test_records_cover_base_each_mask_variant_and_every_function_in_order():
    task, model = tiny()
    masks = masks_of(model, {"all": 40, "add": 20})
    config = EvaluationConfig(batch_size=32, random_removal_draws=2)
    records = evaluate_all(model, task, masks, config, seed=3)
    functions = list(task.target_functions)
    per_mask = ["mask", "inverted", "inverted_io_kept"] + [
        variant for _ in range(2) for variant in ("random_removal", "random_removal_io_kept")
    ]
    expected = [(None, "none", 0)] + [
        (label, variant, draw)
        for label in masks
        for variant, draw in zip(per_mask, [0, 0, 0, 0, 0, 1, 1], strict=True)
    ]
    seen = [(r.mask_target, r.mask_variant, r.draw) for r in records.evaluations]
    assert seen == [condition for condition in expected for _ in functions]
    assert [r.evaluated_function for r in records.evaluations] == functions * len(expected)
    base = evaluate(model, task, functions[1], batch_size=32)
    assert records.evaluations[1].accuracy == base.accuracy  # the unmasked model, function 2


def test_overlaps_sharing_and_op_confusion_come_back_with_the_evaluations():
    task, model = tiny()
    masks = masks_of(model, {"all": 40, "add": 20, "mul": 10})
    config = EvaluationConfig(batch_size=32, random_removal_draws=0, io_kept_inverse=False)
    records = evaluate_all(model, task, masks, config, seed=0)
    pairs = {(r.function_a, r.function_b) for r in records.mask_overlaps}
    assert pairs == {("all", "add"), ("all", "mul"), ("add", "mul")}
    layer = records.mask_overlaps[0]
    assert (layer.kept_a, layer.kept_b, layer.both) == (40, 20, 20)
    assert {r.target_function for r in records.mask_sharing} == {"add", "mul"}
    first = next(r for r in records.mask_sharing if r.target_function == "mul")
    assert (first.kept, first.shared) == (10, 10)  # add keeps a superset of mul's weights
    conditions = {(r.mask_target, r.mask_variant) for r in records.op_confusion}
    assert (None, "none") in conditions and ("mul", "inverted") in conditions
    assert records.confusions == [] and records.mask_rows == []  # add/mul has neither


def test_random_draws_of_a_mask_repeat_for_a_seed_and_differ_between_draws():
    _, model = tiny()
    (mask,) = masks_of(model, {"all": 30}).values()
    config = EvaluationConfig(random_removal_draws=2, io_kept_inverse=False)
    first = [m for variant, _, m in mask_variants(mask, config, 5) if variant == "random_removal"]
    again = [m for variant, _, m in mask_variants(mask, config, 5) if variant == "random_removal"]
    assert all(torch.equal(a[n], b[n]) for a, b in zip(first, again, strict=True) for n in a)
    assert any(not torch.equal(first[0][n], first[1][n]) for n in first[0])
    assert all(
        int((~m[n]).sum()) == int(mask[n].sum()) for m in first for n in m
    )  # as many removed
