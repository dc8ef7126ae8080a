"""Killed and cancelled submissions resume from checkpoints and lose nothing."""

from __future__ import annotations

import json
import signal

import pytest
import torch
from mlflow.tracking import MlflowClient
from safetensors.torch import load_file
from support.sweep_processes import checkpoints, slow_fit_sweep, start_submit, wait_for, write_sweep

from orchestrator.cli import main
from orchestrator.cli.analyze import load_tables
from orchestrator.settings import Settings


def _masks(workspace, sweep) -> dict[str, dict[str, torch.Tensor]]:
    files = (workspace / "artifacts" / sweep / "jobs").glob("*/mask.safetensors")
    return {path.parent.name: load_file(path) for path in files}


def _status(capsys, sweep) -> dict:
    capsys.readouterr()
    assert main(["status", sweep, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_sigkilled_submit_resumes_and_matches_an_uninterrupted_sweep(tmp_path, monkeypatch, capsys):
    sweep_file = write_sweep(tmp_path, slow_fit_sweep("resume", fit_steps=300))
    killed = tmp_path / "killed"
    process = start_submit(sweep_file, killed, "--executor", "local")
    wait_for(lambda: checkpoints(killed, "resume"), what="a first checkpoint")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    interrupted = checkpoints(killed, "resume")
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(killed))
    status = _status(capsys, "resume")
    assert status["counts"]["running"] == 0  # the driver is dead: nothing runs any more
    assert status["counts"]["done"] == 1 and status["counts"]["pending"] == 4

    assert main(["submit", str(sweep_file), "--executor", "local"]) == 0
    output = capsys.readouterr().out.replace("\n", " ")
    assert "4 done, 0 failed, 1 skipped" in output
    settings = Settings().resolved()
    runs = load_tables(settings, "resume")["runs"]
    assert len(runs) == 5 and runs["job_id"].is_unique and set(runs["status"]) == {"done"}
    client = MlflowClient(settings.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name("resume")
    children = [
        r for r in client.search_runs([experiment.experiment_id]) if "job_id" in r.data.tags
    ]
    assert sorted(r.data.tags["job_id"] for r in children) == sorted(runs["job_id"])
    assert {r.info.status for r in children} == {"FINISHED"}
    assert _status(capsys, "resume")["counts"]["done"] == 5

    whole = tmp_path / "whole"
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(whole))
    assert main(["submit", str(sweep_file), "--executor", "local"]) == 0
    resumed, uninterrupted = _masks(killed, "resume"), _masks(whole, "resume")
    assert resumed.keys() == uninterrupted.keys() and len(resumed) == 3
    assert interrupted[0].parent.parent.name in resumed  # a fit was cut short and resumed
    for job, logits in uninterrupted.items():
        assert all(torch.equal(logits[name], resumed[job][name]) for name in logits)


@pytest.mark.slow
def test_cancel_checkpoints_running_jobs_and_status_shows_what_is_left(
    tmp_path, monkeypatch, capsys
):
    sweep_file = write_sweep(tmp_path, slow_fit_sweep("cancelme", fit_steps=100_000))
    workspace = tmp_path / "ws"
    process = start_submit(sweep_file, workspace, "--executor", "local")
    wait_for(lambda: checkpoints(workspace, "cancelme"), what="a first checkpoint")
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(workspace))
    running = _status(capsys, "cancelme")
    assert running["counts"] == {"done": 1, "running": 1, "failed": 0, "pending": 3, "cancelled": 0}

    assert main(["cancel", "cancelme"]) == 0
    process.wait(timeout=60)
    assert process.returncode == 1
    assert "4 cancelled" in process.stdout.read().replace("\n", " ")
    after = _status(capsys, "cancelme")
    assert after["cancelled"] is True
    assert after["counts"] == {"done": 1, "running": 0, "failed": 0, "pending": 0, "cancelled": 4}
    stopped = next(
        job
        for job in after["jobs"]
        if job["kind"] == "fit"
        and checkpoints(workspace, "cancelme")[0].parent.parent.name == job["id"]
    )
    assert stopped["state"] == "cancelled"
    client = MlflowClient(Settings().resolved().mlflow_tracking_uri)
    experiment = client.get_experiment_by_name("cancelme")
    killed = client.search_runs(
        [experiment.experiment_id], filter_string="attributes.status = 'KILLED'"
    )
    assert [r.data.tags["job_id"] for r in killed] == [stopped["id"]]
    assert int(killed[0].data.tags["stopped_at_step"]) > 0


def test_status_of_an_unknown_sweep_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(tmp_path))
    assert main(["status", "nosuch"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no saved plan" in error and "submit it first" in error
