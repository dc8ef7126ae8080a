"""Shared fixtures: one real local Ray per test session, a tiny add/mul sweep."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

REPO = Path(__file__).resolve().parents[1]


def tiny_sweep_data(name: str = "tiny", seeds: tuple[int, ...] = (1, 2)) -> dict:
    """An add/mul sweep that runs in seconds; large enough for every table to fill."""
    return {
        "name": name,
        "experiments": [
            {
                "name": "addmul_ff",
                "role": "addmul",
                "task": {"name": "addmul", "train_size": 2000, "validation_size": 300},
                "model": {"name": "fnn", "hidden_sizes": [16, 16]},
                "training": {"steps": 40, "learning_rate": 0.003, "log_every": 10},
                "mask_fit": {"steps": 12, "log_every": 4, "batch_size": 64},
                "evaluation": {"batch_size": 512},
                "grid": {"seed": list(seeds)},
            }
        ],
    }


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
