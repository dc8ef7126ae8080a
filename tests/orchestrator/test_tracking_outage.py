"""The MLflow tracking server goes down while jobs run: no metric is lost.

A real `mlflow server` is started, the driver creates the sweep's experiment and parent
run, the server is stopped, the jobs run (they journal their MLflow writes beside their
results), the server comes back on the same store, and the next `submit` sends every
journalled write: one run per job with its curves, params and artifacts.
"""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from support.ports import free_port
from support.services import mlflow_server
from support.sweeps import tiny_sweep_data

from orchestrator.execution.runner import LocalExecutor
from orchestrator.execution.submit import submit
from orchestrator.jobs.lifecycle import JobContext
from orchestrator.planning.plan import plan_sweep
from orchestrator.settings import Settings
from orchestrator.stores.keys import JOURNAL_NAME
from orchestrator.stores.results import read_table
from orchestrator.stores.store import open_store
from orchestrator.sweep.spec import SweepSpec
from orchestrator.tracking.tracker import Tracker

pytestmark = pytest.mark.slow


def test_jobs_journal_mlflow_writes_while_the_server_is_down(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # fail fast instead of backing off
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    port, database = free_port(), tmp_path / "mlflow.db"
    artifacts, log = (tmp_path / "mlartifacts").as_uri(), tmp_path / "server.log"
    plan = plan_sweep(SweepSpec.model_validate(tiny_sweep_data("outage", seeds=(1,))))
    with mlflow_server(database, artifacts, port, log) as url:
        settings = Settings(workspace=tmp_path / "ws", mlflow_tracking_uri=url).resolved()
        tracker = Tracker(url)
        experiment_id = tracker.ensure_experiment("outage", settings)
        parent = tracker.start_parent(experiment_id, "outage", {})
    # the server is down now: every job still finishes and records its results
    context = JobContext(settings=settings, experiment_id=experiment_id, parent_run_id=parent)
    outcomes = LocalExecutor().run(plan.jobs, context, {}, lambda job, outcome: None)
    assert {outcome.status for outcome in outcomes.values()} == {"done"}
    store = open_store(settings.artifact_root)
    journals = [key for key in store.list("outage") if key.endswith(JOURNAL_NAME)]
    assert len(journals) == len(plan.jobs)
    runs = read_table(store, "outage", "runs").to_pylist()
    assert all(row["mlflow_run_id"].startswith("offline-") for row in runs)

    with mlflow_server(database, artifacts, port, log) as url:
        again = submit(plan, settings, "local")
        assert again.skipped == len(plan.jobs) and again.done == 0
        client = MlflowClient(url)
        children = [r for r in client.search_runs([experiment_id]) if r.data.tags.get("job_id")]
        assert sorted(r.data.tags["job_id"] for r in children) == sorted(
            job.id for job in plan.jobs
        )
        assert all(r.info.status == "FINISHED" for r in children)
        fit = next(r for r in children if r.data.tags["kind"] == "fit")
        assert [m.step for m in client.get_metric_history(fit.info.run_id, "kept_fraction")] == [
            4,
            8,
            12,
        ]
        assert [a.path for a in client.list_artifacts(fit.info.run_id)] == ["mask.safetensors"]
        assert fit.data.params["mask_fit.mask_samples_per_step"] == "4"
    assert not [key for key in store.list("outage") if key.endswith(JOURNAL_NAME)]
    runs = {
        row["job_id"]: row["mlflow_run_id"]
        for row in read_table(store, "outage", "runs").to_pylist()
    }
    assert runs == {r.data.tags["job_id"]: r.info.run_id for r in children}
