"""Two drivers of one sweep run each job once; a Ray worker killed mid-job is retried."""

from __future__ import annotations

import json
import os
import signal
import threading

import pytest
from mlflow.tracking import MlflowClient
from support.sweep_processes import checkpoints, slow_fit_sweep, start_submit, wait_for, write_sweep

from orchestrator.cli.analyze import load_tables
from orchestrator.execution.submit import submit
from orchestrator.planning.plan import plan_sweep
from orchestrator.settings import Settings
from orchestrator.sweep.spec import SweepSpec
from orchestrator.tracking.tracker import Tracker


def _one_run_per_job(settings: Settings, sweep: str, jobs: int) -> None:
    runs = load_tables(settings, sweep)["runs"]
    assert len(runs) == jobs and runs["job_id"].is_unique and set(runs["status"]) == {"done"}
    client = MlflowClient(settings.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name(sweep)
    children = [
        r for r in client.search_runs([experiment.experiment_id]) if "job_id" in r.data.tags
    ]
    assert sorted(r.data.tags["job_id"] for r in children) == sorted(runs["job_id"])


@pytest.mark.slow
def test_two_simultaneous_submits_run_each_job_once(tmp_path):
    workspace = tmp_path / "ws"
    settings = Settings(workspace=workspace).resolved()
    workspace.mkdir()
    Tracker(settings.mlflow_tracking_uri).ensure_experiment("twice", settings)  # schema first
    sweep_file = write_sweep(tmp_path, slow_fit_sweep("twice", fit_steps=150))
    first = start_submit(sweep_file, workspace, "--executor", "local")
    second = start_submit(sweep_file, workspace, "--executor", "local")
    assert first.wait(timeout=400) == 0, first.stderr.read()
    assert second.wait(timeout=400) == 0, second.stderr.read()
    leases = sorted((workspace / "artifacts" / "twice" / "jobs").glob("*/lease/*.json"))
    assert len(leases) == 5  # one claim per job, never taken over: each job ran once
    assert len({path.parent.parent.name for path in leases}) == 5
    _one_run_per_job(settings, "twice", 5)


@pytest.mark.slow
def test_ray_worker_killed_mid_job_is_retried_and_the_sweep_completes(tmp_path, ray_cluster):
    settings = Settings(workspace=tmp_path / "ws", include_dashboard=False).resolved()
    plan = plan_sweep(SweepSpec.model_validate(slow_fit_sweep("workerkill", fit_steps=400)))
    result = {}
    driver = threading.Thread(target=lambda: result.update(summary=submit(plan, settings, "ray")))
    driver.start()
    wait_for(lambda: checkpoints(settings.workspace, "workerkill"), what="a fit checkpoint")
    job_folder = checkpoints(settings.workspace, "workerkill")[0].parent.parent
    lease = json.loads(sorted((job_folder / "lease").glob("*.json"))[-1].read_text())
    assert lease["pid"] != os.getpid()  # the Ray worker running the fit
    os.kill(lease["pid"], signal.SIGKILL)
    driver.join(timeout=400)
    assert result["summary"].ok and result["summary"].done == 5
    assert len(list((job_folder / "lease").glob("*.json"))) == 2  # the retry took the claim over
    _one_run_per_job(settings, "workerkill", 5)
