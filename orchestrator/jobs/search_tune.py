"""Run a mask-fit search on Ray Tune: schedule the drawn trials, stop hopeless ones.

The trials' values are drawn from the search's seed (`workloads/search/objective.py`) and
handed to Tune as a grid of trial indices, so a trial's id (`trial_0007`) names its point
whatever Tune's version or restore path. Each trial reports `step` and `score` at the
fit's logging steps; ASHA compares trials on `score` at those steps. The Tune run lives in
a folder of its own (`storage`), so a driver killed mid-search restores it with Tune's own
restore: finished trials keep their results and are not run again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from ray import tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, TrialScheduler

from workloads.search.objective import TrialResult, draw_points, trial_id
from workloads.search.spec import SearchSpec

INDEX = "trial_index"


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
) -> list[TrialResult]:
    """Run (or resume) the Tune run `storage/name`; one result per trial, in trial order.

    `trial(index, point)` runs one trial on its drawn values (`point`: dotted field ->
    value); it calls `tune.report` with at least `step`, `score`, `kept_fraction` and
    `batch_accuracy` (and `masked_accuracy`, the mask so far on held-out data) at each
    logging step, and `final: 1` on its last report (`workloads/search/trial.py`).
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
                max_concurrent_trials=spec.max_concurrent_trials or None,
                trial_name_creator=lambda t: trial_id(t.config[INDEX]),
                trial_dirname_creator=lambda t: trial_id(t.config[INDEX]),
            ),
            run_config=tune.RunConfig(name=name, storage_path=str(storage), verbose=0),
        )
    grid = tuner.fit()
    return sorted(
        (
            _trial_result(result, points, max_steps)
            for result in (grid[i] for i in range(len(grid)))
            if result.config and INDEX in result.config
        ),
        key=lambda result: result.trial_id,
    )


def _trial_result(result: tune.Result, points: list[dict[str, Any]], max_steps: int) -> TrialResult:
    """A trial's last report; a trial that failed before its first one has no metrics."""
    metrics = result.metrics or {}
    index = int((result.config or {})[INDEX])
    final = bool(metrics.get("final"))
    steps = int(metrics.get("step", 0))
    error = None if result.error is None else f"{type(result.error).__name__}: {result.error}"
    return TrialResult(
        trial_id=trial_id(index),
        values=dict(points[index]),
        kept_fraction=float(metrics.get("kept_fraction", math.nan)),
        masked_accuracy=(
            float(metrics["masked_accuracy"]) if "masked_accuracy" in metrics else None
        ),
        batch_accuracy=float(metrics.get("batch_accuracy", math.nan)),
        steps=steps,
        stopped_early=not final and error is None and steps < max_steps,
        error=None if final else error,
        curve=_curve(result.metrics_dataframe),
    )


CURVE_METRICS = (
    "loss",
    "task_loss",
    "batch_accuracy",
    "kept_fraction",
    "masked_accuracy",
    "score",
)


def _curve(frame: pd.DataFrame | None) -> list[dict[str, float]]:
    """The trial's reports, one point per logging step (what a fit job logs as its curve)."""
    if frame is None or frame.empty:
        return []
    columns = [c for c in ("step", *CURVE_METRICS) if c in frame.columns]
    return [
        {name: float(value) for name, value in row.items() if pd.notna(value)}
        for row in frame[columns].to_dict("records")
    ]
