"""End to end against real services on loopback: an S3 server (moto) holding artifacts and
Parquet results, and an MLflow tracking server whose artifacts are proxied to that bucket.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from mlflow.tracking import MlflowClient
from moto.server import ThreadedMotoServer
from support.ports import free_port
from support.services import mlflow_server as running_mlflow_server
from support.sweeps import tiny_sweep_data

from orchestrator.execution.submit import submit
from orchestrator.planning.plan import plan_sweep
from orchestrator.settings import Settings
from orchestrator.stores.results import read_table
from orchestrator.stores.store import open_store
from orchestrator.sweep.spec import SweepSpec


@pytest.fixture
def s3_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "MLFLOW_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    bucket = f"e2e-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    yield endpoint, bucket
    server.stop()


@pytest.fixture
def mlflow_server(s3_bucket: tuple[str, str], tmp_path: Path) -> Iterator[str]:
    _, bucket = s3_bucket
    (tmp_path / "server").mkdir()
    with running_mlflow_server(
        tmp_path / "server" / "mlflow.db",
        f"s3://{bucket}/mlflow",
        free_port(),
        tmp_path / "mlflow-server.log",
    ) as url:
        yield url


@pytest.mark.slow
def test_sweep_through_mlflow_server_and_s3(
    s3_bucket: tuple[str, str], mlflow_server: str, tmp_path: Path
) -> None:
    _, bucket = s3_bucket
    settings = Settings(
        workspace=tmp_path / "workspace",
        artifact_root=f"s3://{bucket}/artifacts",
        mlflow_tracking_uri=mlflow_server,
    ).resolved()
    plan = plan_sweep(SweepSpec.model_validate(tiny_sweep_data("s3e2e", seeds=(1,))))
    summary = submit(plan, settings, executor_name="local")
    assert summary.ok, [outcome.error for outcome in summary.failed]
    assert summary.done == len(plan.jobs) == 5  # train, fits for all/add/mul, evaluate

    store = open_store(settings.artifact_root)
    runs = {row["job_id"]: row for row in read_table(store, "s3e2e", "runs").to_pylist()}
    assert set(runs) == {job.id for job in plan.jobs}
    assert {row["status"] for row in runs.values()} == {"done"}

    client = MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name("s3e2e")
    mlflow_runs = client.search_runs([experiment.experiment_id])
    assert len(mlflow_runs) == len(plan.jobs) + 1
    by_job = {run.data.tags.get("job_id"): run for run in mlflow_runs}
    assert by_job[None].info.run_id == summary.parent_run_id
    objects = [
        item["Key"]
        for page in boto3.client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix="mlflow/")
        for item in page.get("Contents", [])
    ]
    for job in plan.jobs:
        run = by_job[job.id]
        assert run.info.status == "FINISHED"
        assert run.data.tags["mlflow.parentRunId"] == summary.parent_run_id
        assert runs[job.id]["mlflow_run_id"] == run.info.run_id
        artifact = {"train": "model.safetensors", "fit": "mask.safetensors"}.get(job.kind)
        if artifact is None:
            continue
        assert [a.path for a in client.list_artifacts(run.info.run_id)] == [artifact]
        assert any(key.endswith(f"{run.info.run_id}/artifacts/{artifact}") for key in objects)
        assert store.exists(f"s3e2e/jobs/{job.id}/{artifact}")
