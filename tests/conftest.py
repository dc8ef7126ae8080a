"""Shared fixtures: one real local Ray per test session, settings in a temporary workspace.

Helpers that tests import live in the `support` package (tests/support/)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session")
def ray_cluster():
    """A quiet, small local Ray for the whole session (starting it costs seconds)."""
    import ray

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=128 * 1024 * 1024,
        log_to_driver=False,
        runtime_env={"env_vars": {"RAY_AUTH_MODE": "disabled", "MLFLOW_DISABLE_TELEMETRY": "true"}},
    )
    yield ray
    ray.shutdown()


@pytest.fixture
def settings(tmp_path):
    from orchestrator.settings import Settings

    return Settings(workspace=tmp_path / "workspace", include_dashboard=False).resolved()
