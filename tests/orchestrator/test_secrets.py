"""Secrets stay out of every output; keys stay inside the store; nothing unpickles or listens widely."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from support.ports import free_port
from support.ray_nodes import RayNode
from support.sweep_processes import environment, write_sweep
from support.sweeps import REPO, tiny_sweep_data

from orchestrator.errors import StoreError
from orchestrator.execution.cluster import joining_runtime_env
from orchestrator.planning.plan import plan_sweep
from orchestrator.settings import (
    SECRETS_FILE_VARIABLE,
    Settings,
    load_worker_secrets,
    redacted,
    write_worker_secrets,
)
from orchestrator.stores.checkpoints import state_from_bytes
from orchestrator.stores.s3store import S3Store
from orchestrator.sweep.spec import SweepSpec

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


def planted(workspace: Path, ray_temp: Path, **extra: str) -> dict[str, str]:
    """An environment with planted credentials and Ray's files under `ray_temp`."""
    return environment(
        workspace,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_ACCESS_KEY_ID="fake-id",
        MLFLOW_TRACKING_PASSWORD=PASSWORD,
        MLFLOW_TRACKING_USERNAME="someone",
        RAY_TMPDIR=str(ray_temp),
        **extra,
    )


def files_holding_secrets(*folders: Path) -> list[Path]:
    files = [p for folder in folders for p in folder.rglob("*") if p.is_file()]
    assert files
    return [
        p for p in files if SECRET.encode() in p.read_bytes() or PASSWORD.encode() in p.read_bytes()
    ]


@pytest.fixture
def ray_temp():
    """Ray's temp folder for one test: short, since Ray's socket paths are limited."""
    folder = Path(tempfile.mkdtemp(prefix="ray"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_planted_secrets_appear_in_no_output_of_a_sweep_nor_in_rays_session_files(
    tmp_path, ray_temp
):
    workspace = tmp_path / "ws"
    env = planted(workspace, ray_temp)
    sweep_file = write_sweep(tmp_path, tiny_sweep_data("secrets", seeds=(1,)))
    results = [
        _cli("submit", str(sweep_file), env=env),  # an in-process Ray
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
    assert any(p.name == "raylet.out" for p in ray_temp.rglob("*"))
    assert files_holding_secrets(workspace, ray_temp) == []

    client = MlflowClient(f"sqlite:///{workspace / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("secrets")
    for run in client.search_runs([experiment.experiment_id]):
        text = repr(run.data.params) + repr(run.data.tags) + repr(run.data.metrics)
        assert SECRET not in text and PASSWORD not in text


@pytest.mark.slow
def test_cluster_workers_get_credentials_that_neither_ray_logs_nor_the_workspace_hold(
    tmp_path, ray_temp
):
    port = free_port()
    head = RayNode(
        [
            "--head",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=2",
            f"--temp-dir={ray_temp}",
            "--include-dashboard=false",
        ],
        {},
    )
    try:
        workspace = tmp_path / "ws"
        env = planted(workspace, ray_temp, RAY_ADDRESS=f"127.0.0.1:{port}")
        sweep_file = write_sweep(tmp_path, tiny_sweep_data("clustersecrets", seeds=(1,)))
        submitted = _cli("submit", str(sweep_file), env=env)
        worker = subprocess.run(
            [sys.executable, "-c", WORKER_SEES_CREDENTIALS],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        head.stop()
    assert submitted.returncode == 0, submitted.stderr[-3000:]
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert worker.stdout.split() == ["True", "True"]  # a worker got both, from the file
    assert files_holding_secrets(workspace, ray_temp) == []


WORKER_SEES_CREDENTIALS = f"""
import os
import ray
from orchestrator.execution.cluster import joining_runtime_env
from orchestrator.settings import write_worker_secrets

secrets = write_worker_secrets()
ray.init(log_to_driver=False, runtime_env=joining_runtime_env({{}}, secrets))
seen = ray.get(ray.remote(lambda: [
    os.environ.get("AWS_SECRET_ACCESS_KEY") == {SECRET!r},
    os.environ.get("MLFLOW_TRACKING_PASSWORD") == {PASSWORD!r},
]).remote())
print(*seen)
secrets.unlink()
"""


def test_a_cluster_runtime_env_names_a_private_credentials_file_instead_of_secrets(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://10.0.1.20:9000")
    secrets = write_worker_secrets()
    try:
        runtime_env = joining_runtime_env({}, secrets)
        shipped = json.dumps(runtime_env, default=str)
        assert SECRET not in shipped and PASSWORD not in shipped
        assert runtime_env["env_vars"]["AWS_ENDPOINT_URL"] == "http://10.0.1.20:9000"
        assert runtime_env["env_vars"][SECRETS_FILE_VARIABLE] == str(secrets)
        assert stat.S_IMODE(secrets.stat().st_mode) == 0o600

        # a worker: started without the credentials, it reads them from the file
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
        monkeypatch.setenv(SECRETS_FILE_VARIABLE, str(secrets))
        load_worker_secrets()
        assert os.environ["AWS_SECRET_ACCESS_KEY"] == SECRET
        assert os.environ["MLFLOW_TRACKING_PASSWORD"] == PASSWORD
    finally:
        secrets.unlink()


def test_credentials_in_uris_are_masked_where_printed():
    assert (
        redacted("http://user:pass@mlflow.example:5000/x")
        == "http://user:***@mlflow.example:5000/x"
    )
    assert redacted("http://token@mlflow.example/x") == "http://***@mlflow.example/x"
    assert redacted("s3://bucket/prefix") == "s3://bucket/prefix"
    assert redacted("sqlite:////tmp/a@b/mlflow.db") == "sqlite:////tmp/a@b/mlflow.db"


@pytest.mark.parametrize(
    "variable, uri",
    [
        ("ORCHESTRATOR_ARTIFACT_ROOT", f"s3://someone:{PASSWORD}@bucket/prefix"),
        ("MLFLOW_TRACKING_URI", f"http://someone:{PASSWORD}@127.0.0.1:1"),
    ],
)
def test_a_uri_setting_with_credentials_is_refused_in_one_line(tmp_path, variable, uri):
    result = _cli("status", "anything", env={**environment(tmp_path), variable: uri})
    assert result.returncode == 2
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1
    assert "carries credentials" in result.stderr and "someone:***@" in result.stderr
    assert PASSWORD not in result.stderr


def test_store_errors_mask_credentials_in_the_endpoint(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://someone:{PASSWORD}@127.0.0.1:1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "fake-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    store = S3Store("bucket", "prefix", attempts=1)
    with pytest.raises(StoreError, match="unreachable") as error:
        store.get_bytes("key")
    assert PASSWORD not in str(error.value) and "someone:***@127.0.0.1:1" in str(error.value)


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
