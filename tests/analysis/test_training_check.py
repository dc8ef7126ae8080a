"""The results page's "did it learn and converge?" rows, on tables made by hand."""

from __future__ import annotations

import pandas as pd

from analysis.training_check import training_check


def evaluation(seed: int, function: str, accuracy: float) -> dict:
    return {
        "experiment": "double_add_lstm",
        "setting": "{}",
        "seed": seed,
        "mask_variant": "none",
        "evaluated_function": function,
        "accuracy": accuracy,
    }


def curve(seed: int, step: int, kept: float) -> dict:
    return {
        "experiment": "double_add_lstm",
        "setting": "{}",
        "seed": seed,
        "mask_job_id": f"fit{seed}",
        "target_function": "all",
        "step": step,
        "task_loss": 0.1,
        "kept_fraction": kept,
    }


def test_a_seed_on_the_plateau_and_a_still_shrinking_mask_are_named():
    tables = {
        "evaluations": pd.DataFrame(
            [
                evaluation(1, "all", 0.99),
                evaluation(1, "pair1", 0.98),  # the weakest function counts
                evaluation(2, "all", 0.12),
                evaluation(3, "all", 0.97),
            ]
        ),
        "mask_layers": pd.DataFrame(
            [{"experiment": "double_add_lstm", "target_index": 0, "target_function": "all"}]
        ),
        "fit_curves": pd.DataFrame(
            [curve(1, 900, 0.30), curve(1, 1000, 0.299), curve(2, 900, 0.5), curve(2, 1000, 0.4)]
        ),
    }
    row = training_check(tables).iloc[0]
    assert row["base accuracy per seed, weakest function (%)"] == (
        "98.0 (pair1), 12.0 (all), 97.0 (all)"
    )
    assert row["seeds at >= 95%"] == "2 of 3"
    assert row["mask fits converged"] == "1 of 2"
    assert row["status"] == "base model below 95% on seed 2; 1 mask fit still shrinking"


def test_trained_and_converged_says_ok_and_no_evaluations_say_nothing():
    tables = {
        "evaluations": pd.DataFrame([evaluation(1, "all", 1.0), evaluation(2, "all", 0.96)]),
        "mask_layers": pd.DataFrame(),
        "fit_curves": pd.DataFrame([curve(1, 900, 0.3), curve(1, 1000, 0.3)]),
    }
    assert training_check(tables).iloc[0]["status"] == "ok"
    assert training_check({"evaluations": pd.DataFrame()}).empty
