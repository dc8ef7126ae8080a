"""Rows the evaluation job adds beside the spine's tables, from hand-made masks."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from orchestrator.extra_results import mask_row_rows
from workloads.data.scan import ScanTask

KEYS = {"sweep": "s", "experiment": "e", "setting": "{}", "seed": 1, "train_job_id": "t"}


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
