"""Run a mask-fit search on Ray Tune: draw the trials, schedule them, stop hopeless ones.

The trials' values are drawn here from the search's seed (numpy), not by Tune's sampler,
and handed to Tune as a grid of fixed points: the same seed gives the same trials in the
same order whatever Tune's version or restore path, and a trial's id (`trial_0007`) names
its point. Each trial reports `step` and `score` (`orchestrator/execution/search_objective.py`) at
the fit's logging steps; ASHA compares trials on `score` at those steps. The Tune run lives
in a folder of its own (`storage`), so a driver killed mid-search restores it with Tune's
own restore: finished trials keep their results and are not run again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ray import tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, TrialScheduler

from orchestrator.execution.search_objective import TrialResult
from orchestrator.sweep.search import Choice, LogUniform, SearchSpec, Uniform

INDEX = "trial_index"


def draw_points(spec: SearchSpec) -> list[dict[str, Any]]:
    """The search's trials: `spec.trials` points drawn from the space with `spec.seed`."""
    rng = np.random.default_rng(spec.seed)
    points: list[dict[str, Any]] = []
    for _ in range(spec.trials):
        point: dict[str, Any] = {}
        for key, distribution in spec.space.items():  # fixed key order: the spec's
            point[key] = _draw(distribution, rng)
        points.append(point)
    return points


def _draw(distribution: LogUniform | Uniform | Choice, rng: np.random.Generator) -> Any:
    if isinstance(distribution, LogUniform):
        low, high = distribution.loguniform
        return float(math.exp(rng.uniform(math.log(low), math.log(high))))
    if isinstance(distribution, Uniform):
        return float(rng.uniform(*distribution.uniform))
    return distribution.choice[int(rng.integers(len(distribution.choice)))]


def scheduler_for(spec: SearchSpec, max_steps: int) -> TrialScheduler:
    if spec.scheduler.name == "none":
        return FIFOScheduler()
    return ASHAScheduler(
        time_attr="step",
        metric="score",
        mode="max",
        max_t=max_steps,
        grace_period=min(spec.scheduler.grace_steps, max_steps),
        reduction_factor=spec.scheduler.reduction_factor,
    )


def run_search(
    spec: SearchSpec,
    trial: Callable[[int, dict[str, Any]], None],
    storage: Path,
    name: str,
    max_steps: int,
    resources: dict[str, float],
    max_concurrent: int = 0,
) -> list[TrialResult]:
    """Run (or resume) the Tune run `storage/name`; one result per trial, in trial order.

    `trial(index, point)` runs one trial on its drawn values (`point`: dotted field ->
    value); it calls `tune.report` with at least `step`, `score`, `kept_fraction` and
    `accuracy` at each logging step, and `final: 1` with `masked_accuracy` on its last
    report.
    """
    storage.mkdir(parents=True, exist_ok=True)
    path = storage / name
    points = draw_points(spec)

    def one_trial(config: dict[str, Any]) -> None:
        trial(int(config[INDEX]), points[int(config[INDEX])])

    trainable = tune.with_resources(one_trial, resources)
    if tune.Tuner.can_restore(str(path)):
        tuner = tune.Tuner.restore(str(path), trainable=trainable, resume_errored=True)
    else:
        tuner = tune.Tuner(
            trainable,
            param_space={INDEX: tune.grid_search(list(range(len(points))))},
            tune_config=tune.TuneConfig(
                scheduler=scheduler_for(spec, max_steps),
                max_concurrent_trials=max_concurrent or None,
                trial_name_creator=lambda t: f"trial_{t.config[INDEX]:04d}",
                trial_dirname_creator=lambda t: f"trial_{t.config[INDEX]:04d}",
            ),
            run_config=tune.RunConfig(name=name, storage_path=str(storage), verbose=0),
        )
    grid = tuner.fit()
    return sorted(
        (
            _trial_result(result, points, max_steps)
            for result in (grid[i] for i in range(len(grid)))
            if result.metrics
        ),
        key=lambda result: result.trial_id,
    )


def _trial_result(result: tune.Result, points: list[dict[str, Any]], max_steps: int) -> TrialResult:
    metrics = result.metrics or {}
    index = int((result.config or {})[INDEX])
    final = bool(metrics.get("final"))
    return TrialResult(
        trial_id=f"trial_{index:04d}",
        values=dict(points[index]),
        kept_fraction=float(metrics["kept_fraction"]),
        masked_accuracy=float(metrics.get("masked_accuracy", metrics["accuracy"])),
        steps=int(metrics["step"]),
        stopped_early=not final and int(metrics["step"]) < max_steps,
    )
