"""MLflow submission runs end KILLED when their driver is interrupted or dies, never RUNNING
forever, and a live concurrent driver's run is left alone."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from support.sweep_processes import checkpoints, environment, slow_fit_sweep, wait_for, write_sweep

from orchestrator.settings import Settings
from orchestrator.stores.keys import submission_key
from orchestrator.stores.leases import hold_submission
from orchestrator.stores.store import LocalStore
from orchestrator.tracking.tracker import Tracker


def dead_pid() -> int:
    """The id of a process that has exited."""
    process = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(process.stdout)


def status_of(client: MlflowClient, run_id: str) -> str:
    return client.get_run(run_id).info.status


def test_a_dead_drivers_run_is_killed_and_a_live_or_new_ones_is_left(tmp_path):
    settings = Settings(workspace=tmp_path).resolved()
    tracker = Tracker(settings.mlflow_tracking_uri)
    store = LocalStore(tmp_path / "artifacts")
    experiment = tracker.ensure_experiment("runs", settings)
    live, dead, new = (tracker.start_parent(experiment, "runs", {}) for _ in range(3))
    job = tracker.client.create_run(experiment, tags={"mlflow.parentRunId": dead}).info.run_id
    lease = {
        "owner": dead,
        "host": socket.gethostname(),
        "pid": dead_pid(),
        "expires_at": time.time() + 60,
    }
    store.put_bytes(submission_key("runs", dead), json.dumps(lease).encode())

    with hold_submission(store, "runs", live, ttl_s=60):
        assert tracker.close_dead_submissions(store, "runs", ttl_s=60) == 1
        assert [status_of(tracker.client, r) for r in (live, dead, job, new)] == [
            "RUNNING",  # its driver (this process) holds its lease
            "KILLED",
            "KILLED",  # the dead submission's job run, left RUNNING, too
            "RUNNING",  # no lease yet, but just started: its driver is writing it
        ]
        # a run without a lease older than the lease time was left by a driver that died early
        assert tracker.close_dead_submissions(store, "runs", ttl_s=1e-6) == 1
        assert [status_of(tracker.client, r) for r in (live, new)] == ["RUNNING", "KILLED"]


def submission_runs(workspace: Path, sweep: str) -> dict[str, str]:
    client = MlflowClient(f"sqlite:///{workspace / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(sweep)
    if experiment is None:
        return {}
    runs = client.search_runs([experiment.experiment_id], "tags.kind = 'submission'")
    return {run.info.run_id: run.info.status for run in runs}


def running_job(workspace: Path, sweep: str, known: set[str]) -> bool:
    """Whether a job run of a submission not in `known` is RUNNING."""
    client = MlflowClient(f"sqlite:///{workspace / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(sweep)
    runs = client.search_runs([experiment.experiment_id], "attributes.status = 'RUNNING'")
    parents = {run.data.tags.get("mlflow.parentRunId") for run in runs}
    return bool(parents - known - {None})


def start(sweep_file: Path, workspace: Path) -> subprocess.Popen:
    """`orchestrator submit` that Ctrl-C reaches (a background shell starts it ignoring SIGINT)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrator.cli",
            "submit",
            str(sweep_file),
            "--executor",
            "local",
        ],
        env=environment(workspace),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def cli(*args: str, workspace: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args],
        env=environment(workspace),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_killed_and_interrupted_drivers_leave_no_submission_run_running(tmp_path):
    workspace = tmp_path / "ws"
    sweep_file = write_sweep(tmp_path, slow_fit_sweep("stopped", fit_steps=100_000))

    first = start(sweep_file, workspace)
    wait_for(lambda: checkpoints(workspace, "stopped"), what="a fit checkpoint")
    (first_run,) = submission_runs(workspace, "stopped")
    assert cli("status", "stopped", workspace=workspace).returncode == 0
    assert submission_runs(workspace, "stopped") == {first_run: "RUNNING"}  # alive: left alone
    first.kill()
    first.communicate()
    assert cli("status", "stopped", workspace=workspace).returncode == 0
    assert submission_runs(workspace, "stopped") == {first_run: "KILLED"}

    for sent, exit_code in ((signal.SIGINT, 130), (signal.SIGTERM, 128 + signal.SIGTERM)):
        known = set(submission_runs(workspace, "stopped"))
        driver = start(sweep_file, workspace)
        wait_for(lambda seen=known: running_job(workspace, "stopped", seen), what="a new job run")
        driver.send_signal(sent)
        _, err = driver.communicate(timeout=300)
        assert driver.returncode == exit_code, err[-3000:]
        assert "Traceback" not in err and "marked KILLED" in err
        (new_run,) = set(submission_runs(workspace, "stopped")) - known
        assert submission_runs(workspace, "stopped")[new_run] == "KILLED"
