"""Class removal and removed-per-token statistics on hand-made confusions and rows."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.class_removal import class_removal, removed_per_token


def confusion(target: str, matrix: dict[str, dict[str, float]], seed: int = 1) -> list[dict]:
    return [
        {
            "seed": seed,
            "mask_target": target,
            "mask_variant": "mask",
            "true_class": t,
            "predicted_class": p,
            "fraction": f,
        }
        for t, row in matrix.items()
        for p, f in row.items()
    ]


def test_relative_drop_and_largest_other_follow_the_paper_definitions():
    control = {"cat": {"cat": 0.8, "dog": 0.2}, "dog": {"cat": 0.1, "dog": 0.9}}
    without_cat = {"cat": {"cat": 0.2, "dog": 0.8}, "dog": {"cat": 0.1, "dog": 0.87}}
    frame = pd.DataFrame(confusion("all", control) + confusion("without_cat", without_cat))
    row = class_removal(frame).iloc[0]
    assert row["class"] == "cat"
    assert row["relative drop %"] == pytest.approx(75.0)  # -(0.2 - 0.8) / 0.8
    own, other = -0.6 / 0.8, -0.03 / 0.9
    assert row["largest other/target %"] == pytest.approx(other / own * 100)
    assert row["samples go to"] == "dog"


def test_removed_per_token_is_the_share_of_the_control_rows_weights_removed():
    rows = pd.DataFrame(
        [
            {
                "seed": 1,
                "mask_target": "simple",
                "row": 4,
                "token": "I_JUMP",
                "kept": 10,
                "kept_and_control": 10,
            },
            {
                "seed": 1,
                "mask_target": "simple",
                "row": 5,
                "token": "I_WALK",
                "kept": 8,
                "kept_and_control": 8,
            },
            {
                "seed": 1,
                "mask_target": "addprim_jump",
                "row": 4,
                "token": "I_JUMP",
                "kept": 3,
                "kept_and_control": 2,
            },
            {
                "seed": 1,
                "mask_target": "addprim_jump",
                "row": 5,
                "token": "I_WALK",
                "kept": 8,
                "kept_and_control": 7,
            },
        ]
    )
    result = removed_per_token(rows, "simple").set_index("token")["mean"]
    assert result["I_JUMP"] == pytest.approx(80.0) and result["I_WALK"] == pytest.approx(12.5)
