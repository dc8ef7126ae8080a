"""`orchestrator status`: where every job of a sweep stands, read from the stores alone.

The plan saved at submit time lists the jobs; the `runs` table says which are done or
failed; live claims (and MLflow runs in RUNNING status that no claim contradicts) say which
are running. The rest are
pending, or cancelled after `orchestrator cancel`. Nothing here needs the driver alive; a
dead driver's submission run, left RUNNING, is marked KILLED on the way.
"""

from __future__ import annotations

from collections import Counter

from mlflow.tracking import MlflowClient

from orchestrator.settings import Settings
from orchestrator.stores.control import cancel_requested, load_plan
from orchestrator.stores.leases import claim_states
from orchestrator.stores.outputs import missing_outputs
from orchestrator.stores.results import read_table
from orchestrator.stores.store import open_store
from orchestrator.tracking.tracker import Tracker

STATES = ("done", "running", "failed", "pending", "cancelled")


def sweep_status(settings: Settings, sweep: str) -> dict:
    """{"sweep", "cancelled", "counts": {state: n}, "jobs": [{id, kind, experiment, serves, state, error}]}.

    `serves` lists every experiment and setting the job serves (several in a composed sweep);
    `experiment` is the first of them.
    """
    store = open_store(settings.artifact_uri)
    plan = load_plan(store, sweep)
    Tracker(settings.tracking_uri).close_dead_submissions(store, sweep, settings.lease_ttl_s)
    recorded = {row["job_id"]: row for row in read_table(store, sweep, "runs").to_pylist()}
    done = [(job_id, row["kind"]) for job_id, row in recorded.items() if row["status"] == "done"]
    lost = missing_outputs(store, sweep, done)  # not done any more: the next submit reruns them
    live, claimed = claim_states(store, plan.jobs)
    # A RUNNING MLflow run whose claim has lapsed was left by a dead driver: not running.
    running = live | (_running_in_mlflow(settings, sweep) - claimed)
    cancelled = cancel_requested(store, sweep)
    jobs = []
    for job in plan.jobs:
        row = None if job.id in lost else recorded.get(job.id)
        if row is not None:
            state, error = row["status"], row["error"]
        else:
            error = None
            state = "running" if job.id in running else "cancelled" if cancelled else "pending"
        jobs.append(
            {
                "id": job.id,
                "kind": job.kind,
                "experiment": job.experiment,
                "serves": job.served(),
                "state": state,
                "error": error,
            }
        )
    counts = Counter(job["state"] for job in jobs)
    return {
        "sweep": sweep,
        "cancelled": cancelled,
        "counts": {state: counts.get(state, 0) for state in STATES},
        "jobs": jobs,
    }


def _running_in_mlflow(settings: Settings, sweep: str) -> set[str]:
    client = MlflowClient(settings.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name(sweep)
    if experiment is None:
        return set()
    runs = client.search_runs(
        [experiment.experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=5000
    )
    return {run.data.tags["job_id"] for run in runs if "job_id" in run.data.tags}
