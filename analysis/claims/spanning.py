"""Verdicts on the claims that span several experiments: C15 (E1, E2) and C17 (E1, E2, E3).

docs/method.md, section 6. Each function takes one experiment and setting's rows; the
experiment modules (`addmul`, `double_add`, `scan`) call them on their own rows.
"""

from __future__ import annotations

import pandas as pd

from analysis.verdicts import (
    CHANCE_TWO_DIGITS,
    ClaimVerdict,
    Comparison,
    Quantity,
    accuracy,
    judge,
    nearer,
    not_run,
)

# The control mask's keep probabilities sigmoid(l), as shares of its masked weights in
# [0, 0.1], [0.9, 1] and (0.1, 0.9); one row per seed (table keep_probability_mass).
KEEP_PROBABILITY_MASS_TABLE = "keep_probability_mass"
KEEP_PROBABILITY_MASS_COLUMNS = [
    "experiment",
    "setting",
    "seed",
    "mass_low",
    "mass_high",
    "mass_middle",
]


def claim_c15(masses: pd.DataFrame) -> ClaimVerdict:
    """C15 on one experiment and setting's rows of KEEP_PROBABILITY_MASS_COLUMNS."""
    if masses.empty:
        return not_run(
            "C15", f"no control-mask keep-probability masses (table {KEEP_PROBABILITY_MASS_TABLE})"
        )
    share = {
        column: masses.groupby("seed")[column].mean()
        for column in ("mass_low", "mass_high", "mass_middle")
    }
    quantities = [
        Quantity("in [0, 0.1]", share["mass_low"], "percent"),
        Quantity("in [0.9, 1]", share["mass_high"], "percent"),
        Quantity("in (0.1, 0.9)", share["mass_middle"], "percent"),
    ]
    margin = share["mass_low"] + share["mass_high"] - share["mass_middle"]
    return judge("C15", quantities, [Comparison("both ends minus middle", margin, "points")])


def claim_c17(evaluations: pd.DataFrame, chance: float = CHANCE_TWO_DIGITS) -> ClaimVerdict:
    """C17 on one experiment and setting's `evaluations` rows: every evaluated function."""
    functions = evaluations.loc[evaluations["mask_variant"] == "none", "evaluated_function"]
    if functions.empty:
        return not_run("C17", "no evaluations of the base model")
    base = {f: accuracy(evaluations, "none", None, f) for f in functions.unique()}
    quantities = [Quantity(f"base on {f}", values, "percent") for f, values in base.items()]
    comparisons = [
        Comparison(f"{f}, nearer 100% than chance by", nearer(values, 1.0, chance), "points")
        for f, values in base.items()
    ]
    return judge("C17", quantities, comparisons)
