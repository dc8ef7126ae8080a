"""Secrets stay out of every output; keys stay inside the store; nothing unpickles or listens widely."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, tiny_sweep_data
from mlflow.tracking import MlflowClient
from sweep_processes import environment, write_sweep

from orchestrator.checkpoints import state_from_bytes
from orchestrator.errors import StoreError
from orchestrator.plan import plan_sweep
from orchestrator.settings import Settings, redacted
from orchestrator.spec import SweepSpec
from orchestrator.store import LocalStore, check_key

SECRET = "fake-secret-XYZ"
PASSWORD = "fake-pass-QRS"


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_planted_secrets_appear_in_no_output_of_a_sweep(tmp_path):
    workspace = tmp_path / "ws"
    env = environment(
        workspace,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_ACCESS_KEY_ID="fake-id",
        MLFLOW_TRACKING_PASSWORD=PASSWORD,
        MLFLOW_TRACKING_USERNAME="someone",
    )
    sweep_file = write_sweep(tmp_path, tiny_sweep_data("secrets", seeds=(1,)))
    results = [
        _cli("submit", str(sweep_file), "--executor", "local", env=env),
        _cli("status", "secrets", "--format", "json", env=env),
        _cli("analyze", "secrets", env=env),
    ]
    assert [r.returncode for r in results] == [0, 0, 0], results[-1].stderr
    for result in results:
        assert SECRET not in result.stdout + result.stderr
        assert PASSWORD not in result.stdout + result.stderr

    files = [p for p in workspace.rglob("*") if p.is_file()]
    assert any(p.name == "plan.json" for p in files) and any(p.suffix == ".parquet" for p in files)
    assert any(p.name == "report.md" for p in files) and any(p.name == "mlflow.db" for p in files)
    for path in files:
        data = path.read_bytes()
        assert SECRET.encode() not in data and PASSWORD.encode() not in data, path

    client = MlflowClient(f"sqlite:///{workspace / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("secrets")
    for run in client.search_runs([experiment.experiment_id]):
        text = repr(run.data.params) + repr(run.data.tags) + repr(run.data.metrics)
        assert SECRET not in text and PASSWORD not in text


def test_credentials_in_uris_are_masked_where_printed():
    assert redacted("http://user:pass@mlflow.example:5000/x") == "http://***@mlflow.example:5000/x"
    assert redacted("s3://bucket/prefix") == "s3://bucket/prefix"
    assert redacted("sqlite:////tmp/a@b/mlflow.db") == "sqlite:////tmp/a@b/mlflow.db"


@pytest.mark.parametrize("key", ["../outside", "/etc/passwd", "a/../../b", "a\\..\\b", ""])
def test_artifact_keys_cannot_escape_the_store_root(tmp_path, key):
    store = LocalStore(tmp_path / "root")
    with pytest.raises(StoreError, match="relative path inside the store root"):
        check_key(key)
    with pytest.raises(StoreError):
        store.put_bytes(key, b"x")
    assert not (tmp_path / "outside").exists()


def test_a_pickled_checkpoint_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    job = plan_sweep(SweepSpec.model_validate(tiny_sweep_data("pickle"))).jobs[0]
    with pytest.raises(StoreError, match="unreadable checkpoint"):
        state_from_bytes(job, pickle.dumps(Payload()), "state.safetensors")
    assert not marker.exists()


def test_dashboard_binds_to_loopback_and_ray_auth_is_never_disabled_for_users():
    assert Settings().dashboard_host == "127.0.0.1"
    shipped = [
        p
        for folder in ("orchestrator", "workloads", "analysis", "infra", "configs")
        for p in (REPO / folder).rglob("*")
        if p.is_file() and p.suffix in {".py", ".yaml", ".yml", ".sh", ".toml", ""}
    ]
    assert shipped
    offenders = [
        p
        for p in shipped
        for line in p.read_text(errors="ignore").splitlines()
        if "RAY_AUTH_MODE" in line and "disabled" in line
    ]
    assert offenders == [], "only tests may disable Ray token auth"
    assert Path(REPO / "tests" / "conftest.py").read_text().count("RAY_AUTH_MODE") >= 1
