"""Helpers for tests that run `orchestrator` as real processes and interrupt them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from support.sweeps import REPO, tiny_sweep_data


def slow_fit_sweep(name: str, fit_steps: int, checkpoint_every: int = 20) -> dict:
    """The tiny sweep with one seed and long mask fits that checkpoint often."""
    data = tiny_sweep_data(name, seeds=(1,))
    experiment = data["experiments"][0]
    experiment["mask_fit"].update(steps=fit_steps, log_every=10, checkpoint_every=checkpoint_every)
    return data


def write_sweep(folder: Path, data: dict) -> Path:
    path = folder / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def environment(workspace: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        ORCHESTRATOR_WORKSPACE=str(workspace),
        ORCHESTRATOR_INCLUDE_DASHBOARD="false",
        **extra,
    )
    return env


def start_submit(sweep_file: Path, workspace: Path, *flags: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "submit", str(sweep_file), *flags],
        env=environment(workspace, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, timeout_s: float = 120.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def checkpoints(workspace: Path, sweep: str) -> list[Path]:
    return sorted((workspace / "artifacts" / sweep / "jobs").glob("*/checkpoint/state.safetensors"))
