"""E4, the Mathematics Dataset: the verdict on C10 (docs/method.md, section 6).

Judged per setting of each experiment whose declared role is `mathematics`; its masks are
`all` (the control) and `easy`, tested on `hard`.
"""

from __future__ import annotations

import pandas as pd

from analysis.claims.scope import Sweep, label, settings
from analysis.verdicts import (
    ClaimVerdict,
    Comparison,
    Quantity,
    accuracy,
    judge,
    missing,
    not_run,
    scope,
)

ROLE = "mathematics"
MATH_CONTROL, MATH_EASY, MATH_HARD = "all", "easy", "hard"


def verdicts(sweep: Sweep) -> list[ClaimVerdict]:
    """C10 for each setting of each `mathematics` experiment."""
    evaluations = sweep.frames["evaluations"]
    keys = settings(evaluations, sweep.having(ROLE))
    return [label(claim_c10(scope(evaluations, *key)), key) for key in keys]


def claim_c10(evaluations: pd.DataFrame) -> ClaimVerdict:
    """C10 on one Mathematics Dataset module: hard-test accuracy, control mask minus easy mask."""
    control = accuracy(evaluations, "mask", MATH_CONTROL, MATH_HARD)
    easy = accuracy(evaluations, "mask", MATH_EASY, MATH_HARD)
    quantities = [
        Quantity(f"{MATH_CONTROL} mask on {MATH_HARD}", control, "percent"),
        Quantity(f"{MATH_EASY} mask on {MATH_HARD}", easy, "percent"),
    ]
    if absent := missing(quantities):
        return not_run("C10", f"missing evaluations: {absent}")
    return judge(
        "C10", quantities, [Comparison("control minus easy-only", control - easy, "points")]
    )
