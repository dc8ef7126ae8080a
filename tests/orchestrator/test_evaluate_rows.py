"""Rows the evaluate job writes: the shared proportion's counts, the op confusion and the
SCAN mask rows, measured by `workloads.evaluation` and keyed by `jobs.evaluate`."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from orchestrator.jobs.evaluate import table_rows
from workloads.data.addmul import AddMulConfig
from workloads.data.scan import ScanTask
from workloads.evaluation.evaluate_all import (
    op_confusion_records,
    sharing_records,
    token_row_records,
)
from workloads.evaluation.records import EvaluationRecords
from workloads.models.fnn import FeedforwardConfig

KEYS = {"sweep": "s", "experiment": "e", "setting": "{}", "seed": 1, "train_job_id": "t"}


def rows_of(table: str, records: list, fits: dict[str, str]) -> list:
    """The records as the evaluate job writes them: with the job's keys and fit job ids."""
    return table_rows(EvaluationRecords(**{table: records}), KEYS, fits)[table]


def mask_sharing_rows(task, masks, fits, keys):
    return rows_of("mask_sharing", sharing_records(task, masks), fits)


def op_confusion_rows(model, task, masks, fits, keys, batch_size):
    return rows_of("op_confusion", op_confusion_records(model, task, masks, batch_size), fits)


def mask_row_rows(task, masks, fits, keys):
    return rows_of("mask_rows", token_row_records(task, masks), fits)


def mask(*keep: int) -> dict[str, torch.Tensor]:
    return {"0.weight": torch.tensor(keep, dtype=torch.bool)}


def test_sharing_rows_cover_the_target_masks_and_leave_the_control_out():
    task = AddMulConfig(train_size=32, validation_size=32).build()
    masks = {"all": mask(1, 1, 1, 1), "add": mask(1, 1, 0, 0), "mul": mask(0, 1, 1, 0)}
    fits = {"all": "f0", "add": "f1", "mul": "f2"}
    rows = {row.target_function: row for row in mask_sharing_rows(task, masks, fits, KEYS)}
    assert set(rows) == {"add", "mul"}  # the control keeps everything but is not "other"
    assert (rows["add"].kept, rows["add"].shared, rows["add"].total) == (2, 1, 4)
    assert (rows["mul"].target_index, rows["mul"].mask_job_id) == (2, "f2")


def test_sharing_needs_two_target_masks_and_ignores_data_order_repeats():
    task = AddMulConfig(train_size=32, validation_size=32).build()
    repeats = {"add-order1": mask(1, 0), "add-order2": mask(1, 1)}
    assert mask_sharing_rows(task, repeats, dict.fromkeys(repeats, "f"), KEYS) == []
    assert (
        mask_sharing_rows(task, {"all": mask(1), "add": mask(1)}, {"all": "f", "add": "g"}, KEYS)
        == []
    )


def test_op_confusion_rows_for_the_base_model_each_mask_and_each_inverse():
    task = AddMulConfig(train_size=32, validation_size=200).build()
    model = FeedforwardConfig(hidden_sizes=[8]).build(task)
    masks = {"add": {"0.weight": torch.ones(8, 42, dtype=torch.bool)}}
    rows = op_confusion_rows(model, task, masks, {"add": "f1"}, KEYS, batch_size=64)
    conditions = {(row.mask_variant, row.mask_target, row.mask_job_id) for row in rows}
    assert conditions == {("none", None, None), ("mask", "add", "f1"), ("inverted", "add", "f1")}
    assert len(rows) == 3 * 2 * 3  # conditions x true ops x matches
    base = {(r.true_op, r.answer_matches): r.fraction for r in rows if r.mask_variant == "none"}
    kept_all = {(r.true_op, r.answer_matches): r.fraction for r in rows if r.mask_variant == "mask"}
    assert base == kept_all  # a mask that keeps every weight changes no answer


def test_mask_rows_cover_the_actions_and_eos_but_not_pad_or_sos():
    task = SimpleNamespace(
        target_functions=("simple", "addprim_jump"),
        output_tokens=ScanTask.output_tokens,
        target_tokens=ScanTask.target_tokens,
    )
    rows = len(ScanTask.output_tokens)
    mask = {"output.weight": torch.ones(rows, 4, dtype=torch.bool)}
    written = mask_row_rows(
        task, {"simple": mask, "addprim_jump": mask}, {"simple": "f1", "addprim_jump": "f2"}, KEYS
    )
    tokens = {row.token for row in written}
    assert tokens == {"I_WALK", "I_LOOK", "I_RUN", "I_JUMP", "I_TURN_LEFT", "I_TURN_RIGHT", "<eos>"}
    assert {row.row for row in written if row.token == "<eos>"} == {2}
