"""The store key layout: every key of a sweep under `<sweep>/`, a job's under its folder."""

from __future__ import annotations

from orchestrator.stores import keys
from orchestrator.stores.outputs import expected_outputs


def test_job_files_live_in_the_jobs_folder_of_their_sweep():
    assert keys.job_key("s", "abc", keys.MODEL_FILE) == "s/jobs/abc/model.safetensors"
    assert keys.checkpoint_key("s", "abc") == "s/jobs/abc/checkpoint/state.safetensors"
    assert keys.journal_key("s", "abc") == "s/jobs/abc/mlflow_journal.json"
    assert keys.lease_prefix("s", "abc").startswith(keys.jobs_prefix("s") + "/abc/")


def test_results_parts_and_signals_sit_beside_the_jobs_folder():
    assert keys.part_key("s", "runs", "abc") == "s/results/runs/abc.parquet"
    assert keys.part_key("s", "runs", "abc").startswith(keys.table_prefix("s", "runs"))
    assert keys.plan_key("s") == "s/plan.json" and keys.cancel_key("s") == "s/cancel.json"
    assert keys.submission_key("s", "r1") == "s/drivers/r1.json"


def test_a_done_fit_is_expected_to_leave_its_mask_and_its_tables():
    outputs = expected_outputs("s", "abc", "fit")
    assert keys.job_key("s", "abc", keys.MASK_FILE) in outputs
    assert keys.part_key("s", "mask_layers", "abc") in outputs
