"""What the control plane costs: planning sweeps and running jobs through Ray + MLflow + Parquet."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

from orchestrator.execution.submit import submit
from orchestrator.planning.plan import plan_sweep
from orchestrator.settings import Settings
from orchestrator.sweep.spec import SweepSpec, load_sweep

FULL_PAPER = Path(__file__).resolve().parents[1] / "configs" / "sweeps" / "full_paper.yaml"


def addmul_sweep(name: str, seeds: int, steps: int) -> dict[str, Any]:
    """A tiny add/mul sweep: one train, three mask fits and their evaluations per seed."""
    return {
        "name": name,
        "experiments": [
            {
                "name": "addmul_ff",
                "task": {"name": "addmul", "train_size": 2000, "validation_size": 300},
                "model": {"name": "fnn", "hidden_sizes": [16, 16]},
                "training": {"steps": steps, "log_every": 1},
                "mask_fit": {"steps": steps, "log_every": 1, "batch_size": 64},
                "evaluation": {"batch_size": 512},
                "grid": {"seed": list(range(seeds))},
            }
        ],
    }


def planning_times(jobs_wanted: int = 100_000) -> dict[str, float]:
    """Seconds to plan full_paper.yaml (when this checkout has it) and ~`jobs_wanted` jobs."""
    figures: dict[str, float] = {}
    if FULL_PAPER.exists():
        start = time.perf_counter()
        plan = plan_sweep(load_sweep(FULL_PAPER))
        figures["plan_full_paper_s"] = time.perf_counter() - start
        figures["plan_full_paper_jobs"] = len(plan.jobs)
    per_seed = len(plan_sweep(SweepSpec.model_validate(addmul_sweep("one", 1, 10))).jobs)
    spec_data = addmul_sweep("synthetic", math.ceil(jobs_wanted / per_seed), 10)
    start = time.perf_counter()
    plan = plan_sweep(SweepSpec.model_validate(spec_data))
    figures["plan_synthetic_s"] = time.perf_counter() - start
    figures["plan_synthetic_jobs"] = len(plan.jobs)
    return figures


def orchestration_overhead(jobs_wanted: int = 200) -> dict[str, float]:
    """Wall time per job of a sweep of one-step jobs on an in-process Ray (start included)."""
    per_seed = len(plan_sweep(SweepSpec.model_validate(addmul_sweep("one", 1, 1))).jobs)
    plan = plan_sweep(
        SweepSpec.model_validate(addmul_sweep("overhead", math.ceil(jobs_wanted / per_seed), 1))
    )
    with tempfile.TemporaryDirectory() as workspace:
        settings = Settings(
            workspace=Path(workspace), include_dashboard=False, num_cpus=2
        ).resolved()
        start = time.perf_counter()
        summary = submit(plan, settings, "ray")
        wall = time.perf_counter() - start
    if not summary.ok:
        raise RuntimeError(f"overhead sweep failed: {summary.failed[:1]}")
    return {
        "overhead_jobs": len(plan.jobs),
        "overhead_wall_s": wall,
        "overhead_per_job_s": wall / len(plan.jobs),
    }
