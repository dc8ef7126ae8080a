"""The E10 half-mask drop, from hand-made `evaluations` rows."""

from __future__ import annotations

import pandas as pd

from analysis.half_mask import half_mask_drops, half_mask_table


def evaluation(seed: int, variant: str, accuracy: float, target: str | None = "all") -> dict:
    return {
        "seed": seed,
        "mask_target": target,
        "mask_variant": variant,
        "evaluated_function": "add",
        "accuracy": accuracy,
    }


def test_drop_is_control_accuracy_minus_half_mask_accuracy_in_points():
    rows = pd.DataFrame(
        [
            evaluation(1, "none", 1.0, None),
            evaluation(1, "mask", 0.9),
            evaluation(1, "half_early", 0.5),
            evaluation(1, "half_late", 0.8),
            evaluation(1, "mask", 0.1, "mul"),  # another mask: not the control
            evaluation(2, "mask", 0.8),
            evaluation(2, "half_early", 0.6),
            evaluation(2, "half_late", 0.8),
        ]
    )
    drops = half_mask_drops(rows)
    early = drops[drops["half"] == "half_early"].set_index("seed")["drop_points"]
    assert early.round(6).to_dict() == {1: 40.0, 2: 20.0}
    table = half_mask_table(drops).set_index("half mask")
    assert table.loc["early", "drop (pp)"] == "30.0 ± 14.1"
    assert table.loc["late", "drop (pp)"] == "5.0 ± 7.1"
    assert table.loc["early", "control mask %"] == "85.0 ± 7.1"
    assert table.loc["early", "seeds"] == 2


def test_no_half_mask_rows_give_no_drops():
    assert half_mask_drops(pd.DataFrame([evaluation(1, "mask", 0.9)])).empty
