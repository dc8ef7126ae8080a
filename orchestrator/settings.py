"""Where things live and which services to use; the only module that reads the environment.

Embedded defaults: a workspace folder (`./.orchestrator`) holding the MLflow SQLite store,
artifacts and Parquet results, and a Ray instance started in process.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field
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

    def resolved(self) -> Settings:
        """The same settings with every default made explicit and absolute."""
        workspace = self.workspace.expanduser().resolve()
        return self.model_copy(
            update={
                "workspace": workspace,
                "artifact_root": self.artifact_root or (workspace / "artifacts").as_uri(),
                "mlflow_tracking_uri": self.mlflow_tracking_uri
                or f"sqlite:///{workspace / 'mlflow.db'}",
            }
        )


def load_settings() -> Settings:
    return Settings().resolved()


def worker_environment() -> dict[str, str]:
    """Settings and service endpoints/credentials that Ray workers need, passed explicitly."""
    prefixes = ("ORCHESTRATOR_", "AWS_", "MLFLOW_", "OMP_NUM_THREADS")
    return {name: value for name, value in os.environ.items() if name.startswith(prefixes)}


def ray_job_runtime_env() -> dict[str, Any]:
    """The runtime env Ray gave this driver when it runs as a Ray job (`ray job submit`).

    `ray.init` merges the driver's runtime env into it and refuses a field or an env var
    that both set, so the runner adds only what the job does not already provide.
    """
    config = os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR")
    return (json.loads(config).get("runtime_env") or {}) if config else {}


def redacted(uri: str | None) -> str:
    """A URI fit to print or log: credentials in it (`user:password@`) are masked."""
    return re.sub(r"(?<=://)[^/@\s]+@", "***@", uri or "")
