"""The one number a mask-fit search maximizes, and the best trial of a finished search.

Feasible trials (masked accuracy at least the base model's minus the tolerance) score
`1 - kept_fraction`, in [0, 1]: sparser is better. Infeasible ones score below zero by how
far their accuracy falls short, so any feasible trial beats every infeasible one and, among
infeasible trials, the closest to feasible ranks first. ASHA compares trials on this score
at the fit's logging steps, where the accuracy is the masked accuracy on the training batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def trial_score(
    kept_fraction: float, accuracy: float, base_accuracy: float, within: float
) -> float:
    shortfall = (base_accuracy - within) - accuracy
    if shortfall <= 0:
        return 1.0 - kept_fraction
    return -shortfall


@dataclass(frozen=True)
class TrialResult:
    """A finished (or early-stopped) trial: its drawn values and final metrics."""

    trial_id: str
    values: dict[str, float | int | str | bool]
    kept_fraction: float
    masked_accuracy: float
    steps: int
    stopped_early: bool


def best_trial(
    trials: Sequence[TrialResult], base_accuracy: float, within: float
) -> tuple[TrialResult, bool]:
    """The best trial that ran all its steps, and whether it is feasible; ties go to the
    earlier trial id. An early-stopped trial's mask is unfinished, so it is never chosen."""
    finished = [trial for trial in trials if not trial.stopped_early]
    if not finished:
        raise ValueError("a search with no finished trials has no best trial")
    ranked = sorted(
        finished,
        key=lambda t: (
            -trial_score(t.kept_fraction, t.masked_accuracy, base_accuracy, within),
            t.trial_id,
        ),
    )
    best = ranked[0]
    feasible = best.masked_accuracy >= base_accuracy - within
    return best, feasible
