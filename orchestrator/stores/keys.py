"""Where everything of a sweep lives in the artifact store: the one spelling of each key.

<sweep>/plan.json                              the latest submission's plan
<sweep>/cancel.json                            set by `orchestrator cancel`
<sweep>/drivers/<mlflow run id>.json           a live submission's heartbeat
<sweep>/results/<table>/<part>.parquet         one part per job (or "plan")
<sweep>/jobs/<job id>/model.safetensors        a train job's weights
<sweep>/jobs/<job id>/mask.safetensors         a fit job's mask logits
<sweep>/jobs/<job id>/masks.safetensors        a transfer job's masks
<sweep>/jobs/<job id>/trials/<trial>/mask.safetensors   a search trial's mask
<sweep>/jobs/<job id>/tune/                    a search's Ray Tune run (local stores only)
<sweep>/jobs/<job id>/lease/...                who runs the job now
<sweep>/jobs/<job id>/checkpoint/state.safetensors   where a stopped job resumes
<sweep>/jobs/<job id>/mlflow_journal.json      MLflow writes kept while it was down
"""

from __future__ import annotations

MODEL_FILE = "model.safetensors"
MASK_FILE = "mask.safetensors"
TRANSFER_MASKS_FILE = "masks.safetensors"
JOURNAL_NAME = "mlflow_journal.json"


def plan_key(sweep: str) -> str:
    return f"{sweep}/plan.json"


def cancel_key(sweep: str) -> str:
    return f"{sweep}/cancel.json"


def submission_key(sweep: str, run_id: str) -> str:
    return f"{sweep}/drivers/{run_id}.json"


def results_prefix(sweep: str) -> str:
    return f"{sweep}/results"


def table_prefix(sweep: str, table: str) -> str:
    return f"{results_prefix(sweep)}/{table}"


def part_key(sweep: str, table: str, part: str) -> str:
    return f"{table_prefix(sweep, table)}/{part}.parquet"


def jobs_prefix(sweep: str) -> str:
    return f"{sweep}/jobs"


def job_key(sweep: str, job_id: str, name: str) -> str:
    """A file a job keeps under its own folder (`name` may hold a sub-folder)."""
    return f"{jobs_prefix(sweep)}/{job_id}/{name}"


def lease_prefix(sweep: str, job_id: str) -> str:
    return job_key(sweep, job_id, "lease")


def checkpoint_key(sweep: str, job_id: str) -> str:
    return job_key(sweep, job_id, "checkpoint/state.safetensors")


def journal_key(sweep: str, job_id: str) -> str:
    return job_key(sweep, job_id, JOURNAL_NAME)


def trial_mask_key(sweep: str, job_id: str, trial: str) -> str:
    return job_key(sweep, job_id, f"trials/{trial}/{MASK_FILE}")
