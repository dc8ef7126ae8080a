"""Removal controls and convergence flags on hand-made tables with known answers."""

from __future__ import annotations

import pandas as pd

from analysis.controls import convergence, specificity


def evaluation_rows(
    seed: int,
    not_add_on_add: float,
    random_on_add: float,
    not_add_on_mul: float,
    random_on_mul: float,
):
    rows = [
        ("none", None, "add", 0.99),
        ("none", None, "mul", 0.98),
        ("inverted", "add", "add", not_add_on_add),
        ("inverted", "add", "mul", not_add_on_mul),
        ("random_removal", "add", "add", random_on_add),
        ("random_removal", "add", "mul", random_on_mul),
    ]
    return [
        {"seed": seed, "mask_variant": v, "mask_target": t, "evaluated_function": f, "accuracy": a}
        for v, t, f, a in rows
    ]


def seeds(*accuracies: tuple[float, float, float, float]) -> pd.DataFrame:
    """Seeds 1, 2, ...: (not-add on add, random-add on add, not-add on mul, random-add on mul)."""
    return pd.DataFrame(
        [row for seed, values in enumerate(accuracies, 1) for row in evaluation_rows(seed, *values)]
    )


def test_module_is_specific_when_not_f_hurts_f_more_than_random_removal():
    frame = seeds((0.05, 0.90, 0.95, 0.90), (0.10, 0.85, 0.93, 0.91), (0.07, 0.88, 0.96, 0.90))
    result = specificity(frame, ["add"] + ["mul"])
    row = result[(result["mask"] == "add") & (result["other"] == "mul")].iloc[0]
    assert row["verdict"] == "specific"
    assert row["not-f on f %"] == round(100 * (0.05 + 0.10 + 0.07) / 3, 1)
    # mean of 85, 75, 81 points, std 5.03, t(2) half width 4.303 * 5.03 / sqrt(3) = 12.5
    assert row["extra damage to f (pts)"] == "+80.3 ± 5.0 [+67.8, +92.8]"


def test_module_is_not_specific_when_random_removal_hurts_as_much():
    frame = seeds((0.05, 0.02, 0.01, 0.01), (0.04, 0.01, 0.01, 0.02), (0.06, 0.03, 0.01, 0.01))
    row = specificity(frame, ["add", "mul"]).iloc[0]
    assert row["verdict"] == "not specific"


def test_both_removals_at_chance_cannot_tell_rather_than_not_specific():
    # not-add and random-add both leave add at about 1% (chance for a 2-digit answer).
    frame = seeds(
        (0.010, 0.008, 0.90, 0.95), (0.012, 0.009, 0.91, 0.96), (0.011, 0.007, 0.92, 0.97)
    )
    row = specificity(frame, ["add", "mul"]).iloc[0]
    assert row["verdict"] == "cannot tell (both at chance)"


def test_random_draws_are_averaged_within_a_seed():
    rows = evaluation_rows(1, 0.0, 0.5, 1.0, 1.0)
    rows.append(
        {
            "seed": 1,
            "mask_variant": "random_removal",
            "mask_target": "add",
            "evaluated_function": "add",
            "accuracy": 0.7,
        }
    )
    row = specificity(pd.DataFrame(rows), ["add", "mul"]).iloc[0]
    assert row["random-f on f %"] == 60.0 and row["verdict"] == "unclear"  # one seed


def curve(seed: int, kept: list[float]) -> list[dict]:
    return [
        {
            "experiment": "e",
            "setting": "",
            "seed": seed,
            "mask_job_id": f"m{seed}",
            "target_function": "add",
            "step": 10 * (i + 1),
            "task_loss": 1.0 / (i + 1),
            "kept_fraction": k,
        }
        for i, k in enumerate(kept)
    ]


def test_fit_still_shrinking_over_its_last_tenth_is_flagged():
    frame = pd.DataFrame(
        curve(1, [0.9, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.499])
        + curve(2, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1])
    )
    result = convergence(frame).set_index("seed")
    assert result.loc[1, "converged"] == "yes"
    assert result.loc[2, "converged"] == "no: still shrinking"
    assert result.loc[2, "kept change, last 10% (pts)"] == -5.0
