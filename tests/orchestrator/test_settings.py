"""Settings: read from the environment once, every default made explicit by `resolved()`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from orchestrator.settings import (
    SECRETS_FILE_VARIABLE,
    Settings,
    load_worker_secrets,
    ray_job_runtime_env,
    worker_environment,
)


def test_resolved_settings_put_artifacts_and_mlflow_in_the_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings(workspace=Path("ws")).resolved()
    workspace = (tmp_path / "ws").resolve()
    assert settings.workspace == workspace
    assert settings.artifact_root == (workspace / "artifacts").as_uri()
    assert settings.mlflow_tracking_uri == f"sqlite:///{workspace / 'mlflow.db'}"
    assert settings.artifact_uri == settings.artifact_root
    assert settings.tracking_uri == settings.mlflow_tracking_uri


def test_given_uris_are_kept_by_resolved(tmp_path):
    settings = Settings(
        workspace=tmp_path, artifact_root="s3://bucket/prefix", mlflow_tracking_uri="http://m:5000"
    ).resolved()
    assert (settings.artifact_root, settings.tracking_uri) == (
        "s3://bucket/prefix",
        "http://m:5000",
    )


def test_settings_come_from_prefixed_variables_and_the_standard_names(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_LEASE_TTL_S", "5")
    monkeypatch.setenv("ORCHESTRATOR_FACTORY_MODULES", " my_pkg , lab.models ,")
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking:5000")
    settings = Settings()
    assert settings.lease_ttl_s == 5.0
    assert settings.allowed_factory_modules() == ("my_pkg", "lab.models")
    assert settings.ray_address == "ray://head:10001"
    assert settings.mlflow_tracking_uri == "http://tracking:5000"


@pytest.mark.parametrize("variable", ["ORCHESTRATOR_LEASE_TTL_S", "ORCHESTRATOR_NUM_CPUS"])
def test_out_of_range_numbers_are_refused(monkeypatch, variable):
    monkeypatch.setenv(variable, "0")
    with pytest.raises(ValueError, match=variable.removeprefix("ORCHESTRATOR_").lower()):
        Settings()


def test_workers_get_settings_and_endpoints_but_no_secrets(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_LEASE_TTL_S", "5")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hidden")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "hidden")
    monkeypatch.setenv("UNRELATED", "x")
    environment = worker_environment()
    assert environment["ORCHESTRATOR_LEASE_TTL_S"] == "5"
    assert environment["AWS_ENDPOINT_URL"] == "http://minio:9000"
    assert "hidden" not in environment.values() and "UNRELATED" not in environment


def test_a_worker_takes_saved_secrets_without_overriding_its_own(tmp_path, monkeypatch):
    saved = tmp_path / "secrets.json"
    saved.write_text(
        json.dumps({"AWS_SECRET_ACCESS_KEY": "saved", "MLFLOW_TRACKING_PASSWORD": "p"})
    )
    monkeypatch.setenv(SECRETS_FILE_VARIABLE, str(saved))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "own")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "restored after the test")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    load_worker_secrets()
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == "own"
    assert os.environ["MLFLOW_TRACKING_PASSWORD"] == "p"
    monkeypatch.setenv(SECRETS_FILE_VARIABLE, str(tmp_path / "on-another-machine.json"))
    load_worker_secrets()  # an unreadable file leaves the worker's own credentials


def test_a_ray_job_runtime_env_is_read_from_rays_variable(monkeypatch):
    monkeypatch.delenv("RAY_JOB_CONFIG_JSON_ENV_VAR", raising=False)
    assert ray_job_runtime_env() == {}
    config = {"runtime_env": {"env_vars": {"A": "1"}}}
    monkeypatch.setenv("RAY_JOB_CONFIG_JSON_ENV_VAR", json.dumps(config))
    assert ray_job_runtime_env() == {"env_vars": {"A": "1"}}
