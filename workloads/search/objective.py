"""A search's trials, the one number it maximizes, and the best trial of a finished search.

The trials' values are drawn from the search's seed (numpy), not by Tune's sampler: the
same seed gives the same trials in the same order whatever Tune's version or restore path,
and a trial's id (`trial_0007`) names its point.

Feasible trials (masked accuracy at least the base model's minus the tolerance) score
`1 - kept_fraction`, in [0, 1]: sparser is better. Infeasible ones score below zero by how
far their accuracy falls short, so any feasible trial beats every infeasible one and, among
infeasible trials, the closest to feasible ranks first. ASHA compares trials on this score
at the fit's logging steps, where the accuracy is that of the mask so far on held-out data
(`trial.py`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workloads.search.spec import Choice, LogUniform, SearchSpec, Uniform


def trial_score(
    kept_fraction: float, accuracy: float, base_accuracy: float, within: float
) -> float:
    shortfall = (base_accuracy - within) - accuracy
    if shortfall <= 0:
        return 1.0 - kept_fraction
    return -shortfall


@dataclass(frozen=True)
class TrialResult:
    """A finished (or early-stopped) trial: its drawn values and last metrics.

    `masked_accuracy` is the mask's accuracy on the target's evaluation set at the trial's
    last report: the final mask's, or for a trial stopped early its unfinished mask's at
    the step it stopped (None if it never reported one); `batch_accuracy` is the last
    reported accuracy of the sampled masks on a training batch.
    """

    trial_id: str
    values: dict[str, float | int | str | bool]
    kept_fraction: float
    masked_accuracy: float | None
    batch_accuracy: float
    steps: int
    stopped_early: bool
    error: str | None = None  # the trial failed (a diverged fit, say) after `steps` steps
    curve: list[dict[str, float]] = field(default_factory=list, compare=False)

    @property
    def finished(self) -> bool:
        return not self.stopped_early and self.error is None


def best_trial(
    trials: Sequence[TrialResult], base_accuracy: float, within: float
) -> tuple[TrialResult, bool]:
    """The best trial that ran all its steps, and whether it is feasible; ties go to the
    earlier trial id. The mask of a trial stopped early, or failed, is unfinished, so it is
    never chosen."""
    finished = [
        (trial, trial.masked_accuracy)
        for trial in trials
        if trial.finished and trial.masked_accuracy is not None
    ]
    if not finished:
        raise ValueError("a search with no finished trials has no best trial")
    best, accuracy = min(
        finished,
        key=lambda pair: (
            -trial_score(pair[0].kept_fraction, pair[1], base_accuracy, within),
            pair[0].trial_id,
        ),
    )
    return best, accuracy >= base_accuracy - within


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


def trial_id(index: int) -> str:
    return f"trial_{index:04d}"
