"""Where things live and which services to use; the only module that reads the environment.

Embedded defaults: a workspace folder (`./.orchestrator`) holding the MLflow SQLite store,
artifacts and Parquet results, and a Ray instance started in process.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORCHESTRATOR_", extra="ignore", frozen=True)

    workspace: Path = Field(Path(".orchestrator"), description="local folder for all state")
    artifact_root: str | None = Field(
        None, description="file:// or s3:// root for checkpoints, masks and Parquet"
    )
    ray_address: str | None = Field(
        None,
        validation_alias=AliasChoices("RAY_ADDRESS", "ORCHESTRATOR_RAY_ADDRESS"),
        description="existing Ray cluster; unset starts Ray in process",
    )
    mlflow_tracking_uri: str | None = Field(
        None,
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "ORCHESTRATOR_MLFLOW_TRACKING_URI"),
        description="MLflow store or server; unset uses a SQLite file in the workspace",
    )
    dashboard_host: str = Field("127.0.0.1", description="Ray dashboard bind address")
    dashboard_port: int = Field(8265, ge=0, le=65535)
    include_dashboard: bool = True
    num_cpus: int | None = Field(None, gt=0, description="CPUs of an in-process Ray")
    num_gpus: float | None = Field(None, ge=0, description="GPUs an in-process Ray declares")
    lease_ttl_s: float = Field(
        60.0, gt=0, description="a dead driver's job claims expire after this long"
    )
    autoscaling: bool = Field(
        False,
        description="the Ray cluster adds nodes on demand: submit lets jobs wait for nodes "
        "that are not up yet instead of refusing requests no live node can satisfy",
    )
    factory_modules: str = Field(
        "",
        description="comma-separated module prefixes that `custom` task and model factories "
        "may come from (e.g. `my_pkg,lab.models`); empty allows any module outside Python's "
        "standard library",
    )

    @field_validator("artifact_root", "mlflow_tracking_uri", "ray_address")
    @classmethod
    def _no_credentials(cls, uri: str | None) -> str | None:
        """A password in a URI ends up in every message that names it: refuse it."""
        if uri and CREDENTIALS.search(uri):
            raise ValueError(
                f"{redacted(uri)} carries credentials (user:password@); remove them and use "
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (S3) or MLFLOW_TRACKING_USERNAME / "
                "MLFLOW_TRACKING_PASSWORD (MLflow) instead"
            )
        return uri

    def allowed_factory_modules(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.factory_modules.split(",") if part.strip())

    max_grid_points: int = Field(
        1_000_000,
        gt=0,
        description="grid points a sweep may expand to (summed over experiments), counted "
        "before any is built: a typo in a grid cannot eat the machine's memory",
    )
    max_sweep_file_bytes: int = Field(
        4_000_000, gt=0, description="size of one sweep file (each included file too)"
    )
    max_yaml_nodes: int = Field(
        1_000_000,
        gt=0,
        description="values one sweep file may expand to, an alias counting once per use "
        "(refuses YAML alias bombs before they are expanded)",
    )

    @property
    def artifact_uri(self) -> str:
        """`artifact_root`, or the workspace's `artifacts/` folder when it is unset."""
        workspace = self.workspace.expanduser().resolve()
        return self.artifact_root or (workspace / "artifacts").as_uri()

    @property
    def tracking_uri(self) -> str:
        """`mlflow_tracking_uri`, or a SQLite file in the workspace when it is unset."""
        workspace = self.workspace.expanduser().resolve()
        return self.mlflow_tracking_uri or f"sqlite:///{workspace / 'mlflow.db'}"

    def resolved(self) -> Settings:
        """The same settings with every default made explicit and absolute."""
        return self.model_copy(
            update={
                "workspace": self.workspace.expanduser().resolve(),
                "artifact_root": self.artifact_uri,
                "mlflow_tracking_uri": self.tracking_uri,
            }
        )


def load_settings() -> Settings:
    return Settings().resolved()


WORKER_PREFIXES = ("ORCHESTRATOR_", "AWS_", "MLFLOW_", "OMP_NUM_THREADS")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|ACCESS_KEY|CREDENTIAL|AUTH")
SECRETS_FILE_VARIABLE = "ORCHESTRATOR_WORKER_SECRETS_FILE"


def worker_environment() -> dict[str, str]:
    """Settings and service endpoints that Ray workers of a cluster need, secrets left out.

    Ray writes a runtime env's variables in clear text to its session logs, so credentials
    travel another way (`write_worker_secrets`).
    """
    return {
        name: value
        for name, value in os.environ.items()
        if name.startswith(WORKER_PREFIXES) and not SECRET_NAME.search(name)
    }


def write_worker_secrets() -> Path | None:
    """Save the credential variables (AWS_SECRET_ACCESS_KEY, MLFLOW_TRACKING_PASSWORD, ...)
    to a new file only this user can read (mode 0600); None when there are none.

    Its path, not its content, goes to the workers (`SECRETS_FILE_VARIABLE`); a worker that
    cannot read it (another machine without a shared /tmp) uses its own credentials: the
    standard AWS chain (instance role, ~/.aws) and ~/.mlflow/credentials.
    """
    secrets = {
        name: value
        for name, value in os.environ.items()
        if name.startswith(WORKER_PREFIXES) and SECRET_NAME.search(name)
    }
    if not secrets:
        return None
    handle, name = tempfile.mkstemp(prefix="orchestrator-worker-secrets-", suffix=".json")
    with os.fdopen(handle, "w") as stream:  # mkstemp creates it with mode 0600
        json.dump(secrets, stream)
    return Path(name)


def load_worker_secrets() -> None:
    """In a Ray worker (its `worker_process_setup_hook`): take the credentials the driver saved
    with `write_worker_secrets`, without overriding the worker's own."""
    path = os.environ.get(SECRETS_FILE_VARIABLE)
    try:
        secrets = json.loads(Path(path).read_text()) if path else {}
    except OSError:
        return  # another machine: the worker's own credential chain applies
    for name, value in secrets.items():
        os.environ.setdefault(name, value)


def ray_job_runtime_env() -> dict[str, Any]:
    """The runtime env Ray gave this driver when it runs as a Ray job (`ray job submit`).

    `ray.init` merges the driver's runtime env into it and refuses a field or an env var
    that both set, so the runner adds only what the job does not already provide.
    """
    config = os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR")
    return (json.loads(config).get("runtime_env") or {}) if config else {}


CREDENTIALS = re.compile(r"(?<=://)(?P<user>[^/@\s:]+)(?P<password>:[^/@\s]*)?@")


def redacted(text: str | None) -> str:
    """Text fit to print or log: credentials in URIs in it are masked (`user:***@`, `***@`)."""
    return CREDENTIALS.sub(lambda m: f"{m['user']}:***@" if m["password"] else "***@", text or "")
