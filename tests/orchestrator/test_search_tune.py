"""The Tune run behind a mask-fit search, on a toy trial whose best point is known.

The toy trial's "mask" keeps a fraction that falls with beta, and its accuracy falls once
beta passes 1e-3: the best feasible point is the largest beta below 1e-3. Real Ray Tune,
real ASHA, real restore from the run's folder.
"""

from __future__ import annotations

import math
import sys

import pytest
import ray.cloudpickle
from ray import tune

from orchestrator.jobs.search_tune import run_search
from workloads.search.objective import best_trial, draw_points, trial_score
from workloads.search.spec import SearchSpec

ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests

STEPS = 40
LOG_EVERY = 5
BASE_ACCURACY = 1.0


def spec(**overrides) -> SearchSpec:
    data = {
        "space": {"mask_fit.regularization_weight": {"loguniform": [1e-5, 1e-1]}},
        "objective": {"within": 0.05},
        "trials": 8,
        "scheduler": {"name": "asha", "grace_steps": 10, "reduction_factor": 2},
        "seed": 3,
    }
    return SearchSpec.model_validate({**data, **overrides})


def toy_metrics(beta: float, step: int) -> dict[str, float]:
    kept = 1.0 - min(0.9, (math.log10(beta) + 5) / 4 * 0.9) * step / STEPS
    accuracy = 1.0 if beta < 1e-3 else max(0.0, 1.0 - (math.log10(beta) + 3))
    return {"kept_fraction": kept, "batch_accuracy": accuracy}


def toy_trial(index: int, point: dict) -> None:
    beta = point["mask_fit.regularization_weight"]
    for step in range(LOG_EVERY, STEPS + 1, LOG_EVERY):
        metrics = toy_metrics(beta, step)
        score = trial_score(
            metrics["kept_fraction"], metrics["batch_accuracy"], BASE_ACCURACY, 0.05
        )
        final = step == STEPS
        tune.report(
            {
                "step": step,
                "score": score,
                **metrics,
                **({"final": 1, "masked_accuracy": metrics["batch_accuracy"]} if final else {}),
            }
        )


def test_the_same_seed_draws_the_same_trials_and_another_seed_others():
    assert draw_points(spec()) == draw_points(spec())
    assert draw_points(spec()) != draw_points(spec(seed=4))
    betas = [p["mask_fit.regularization_weight"] for p in draw_points(spec(trials=200))]
    assert min(betas) >= 1e-5 and max(betas) <= 1e-1
    assert sum(b < 1e-3 for b in betas) == pytest.approx(100, abs=25)  # log-uniform: half


def test_asha_stops_hopeless_trials_and_the_best_is_the_sparsest_feasible(ray_cluster, tmp_path):
    results = run_search(spec(), toy_trial, tmp_path / "tune", "toy", STEPS, {"cpu": 0.5})
    assert [r.trial_id for r in results] == [f"trial_{i:04d}" for i in range(8)]
    assert any(r.stopped_early for r in results)
    best, feasible = best_trial(results, BASE_ACCURACY, 0.05)
    assert feasible and not best.stopped_early
    points = draw_points(spec())
    feasible_betas = [
        p["mask_fit.regularization_weight"]
        for p in points
        if p["mask_fit.regularization_weight"] < 1e-3
    ]
    assert best.values["mask_fit.regularization_weight"] == max(feasible_betas)


def test_a_finished_search_is_restored_not_rerun(ray_cluster, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()

    def counted(index: int, point: dict) -> None:
        (calls / f"{index}-{len(list(calls.iterdir()))}").touch()
        toy_trial(index, point)

    first = run_search(spec(), counted, tmp_path / "tune", "toy", STEPS, {"cpu": 0.5})
    ran = len(list(calls.iterdir()))
    again = run_search(spec(), counted, tmp_path / "tune", "toy", STEPS, {"cpu": 0.5})
    assert len(list(calls.iterdir())) == ran  # no trial ran again
    assert again == first
