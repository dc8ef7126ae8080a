"""`orchestrator results`: --where conditions typed by column, renderings, the claims table."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from orchestrator.cli.query import claims_details, claims_table, filter_rows, render
from orchestrator.errors import UserError

FRAME = pd.DataFrame(
    {
        "mask_variant": ["full", "inverted", "inverted"],
        "accuracy": [0.9, 0.25, 0.5],
        "seed": [1, 1, 2],
        "best": [True, False, True],
    }
)


@pytest.mark.parametrize(
    "conditions, seeds_and_accuracies",
    [
        (["mask_variant=inverted"], [(1, 0.25), (2, 0.5)]),
        (["mask_variant != inverted"], [(1, 0.9)]),
        (["accuracy>=0.5"], [(1, 0.9), (2, 0.5)]),
        (["accuracy<0.5"], [(1, 0.25)]),
        (["mask_variant=inverted", "seed=2"], [(2, 0.5)]),
        (["seed=2.0"], [(2, 0.5)]),  # numeric columns compare as numbers
        (["best=true"], [(1, 0.9), (2, 0.5)]),  # true/false columns take true, false, 1, 0
        (["best=False"], [(1, 0.25)]),
    ],
)
def test_conditions_keep_the_matching_rows(conditions, seeds_and_accuracies):
    rows = filter_rows(FRAME, conditions)
    assert list(zip(rows["seed"], rows["accuracy"], strict=True)) == seeds_and_accuracies


@pytest.mark.parametrize(
    "condition, words",
    [
        ("accuracy", "write column=value"),
        ("layer=0", "no column 'layer'; columns: mask_variant, accuracy, seed, best"),
        ("best=maybe", "column 'best' is true/false, 'maybe' is not"),
        ("accuracy>high", "column 'accuracy' is numeric, 'high' is not"),
    ],
)
def test_a_bad_condition_is_one_user_error_saying_what_to_write(condition, words):
    with pytest.raises(UserError, match=words):
        filter_rows(FRAME, [condition])


def test_rows_render_as_csv_json_or_a_table():
    assert render(FRAME, "csv").splitlines()[0] == "mask_variant,accuracy,seed,best"
    assert json.loads(render(FRAME, "json"))[1] == {
        "mask_variant": "inverted",
        "accuracy": 0.25,
        "seed": 1,
        "best": False,
    }
    assert render(FRAME, "table").split()[:3] == ["mask_variant", "accuracy", "seed"]


CLAIMS = pd.DataFrame(
    {
        "claim": ["C1", "C2"],
        "short": ["masks of add and mul share few weights " * 3, "the control keeps accuracy"],
        "statement": ["long statement one", "long statement two"],
        "experiment": ["addmul_ff", "addmul_ff"],
        "setting": ["", ""],
        "verdict": ["holds", "fails"],
        "seeds": [3, 10],
        "numbers": ["IoU 0.1", ""],
        "reason": ["", "accuracy fell"],
    }
)


def test_the_claims_table_fits_its_width_and_drops_a_setting_column_nobody_needs():
    lines = claims_table(CLAIMS, width=60).splitlines()
    assert all(len(line) <= 60 for line in lines)
    assert lines[0].split() == ["claim", "statement", "experiment", "verdict", "seeds"]
    assert "…" in lines[1] and lines[2].endswith("10")


def test_claim_details_print_each_claim_with_its_non_empty_fields():
    blocks = claims_details(CLAIMS, width=40).split("\n\n")
    assert blocks[0].splitlines()[0] == "C1  addmul_ff: holds, 3 seeds"
    assert "  numbers: IoU 0.1" in blocks[0] and "reason" not in blocks[0]
    assert "  reason: accuracy fell" in blocks[1] and "numbers" not in blocks[1]
