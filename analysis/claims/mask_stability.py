"""E6, mask stability: the verdict on C13 (docs/method.md, section 6).

Judged once per experiment whose declared role is `mask_stability`, pooling its settings
(its class pairs); masks fitted with different data orders are labelled `<target>-order<k>`.
"""

from __future__ import annotations

import re

import pandas as pd

from analysis.chance import chance_iou
from analysis.claims.scope import Sweep, label
from analysis.verdicts import ClaimVerdict, Comparison, Quantity, judge, not_run, scope

ROLE = "mask_stability"
ALL_SETTINGS = "mean over all settings"
ORDER_LABEL = re.compile(r"^(?P<target>.+)-order(?P<order>\d+)$")


def verdicts(sweep: Sweep) -> list[ClaimVerdict]:
    """C13 for each `mask_stability` experiment with order-labelled mask overlaps."""
    overlaps = sweep.frames["mask_overlaps"]
    ordered = overlaps[
        overlaps["function_a"].str.match(ORDER_LABEL)
        & overlaps["function_b"].str.match(ORDER_LABEL)
        & overlaps["experiment"].isin(sweep.having(ROLE))
    ]
    return [
        label(claim_c13(scope(overlaps, experiment)), (experiment, ALL_SETTINGS))
        for experiment in ordered["experiment"].unique()
    ]


def claim_c13(overlaps: pd.DataFrame) -> ClaimVerdict:
    """C13 on one experiment's `mask_overlaps` (all settings: E6's class pairs): per seed, the
    mean over settings of the IoU over all masked tensors of masks `<t>-order<i>` and
    `<t>-order<j>`, against the IoU of independent random masks of the same densities."""
    stable = overlaps[
        [
            _same_target_other_order(a, b)
            for a, b in zip(overlaps["function_a"], overlaps["function_b"], strict=True)
        ]
    ]
    if stable.empty:
        return not_run(
            "C13", "no overlaps of masks fitted with different data orders (<target>-order<k>)"
        )
    totals = stable.groupby(["setting", "seed", "function_a", "function_b"])[
        ["kept_a", "kept_b", "both", "total"]
    ].sum()
    iou = totals["both"] / (totals["kept_a"] + totals["kept_b"] - totals["both"])
    chance = pd.Series(
        chance_iou(totals["kept_a"] / totals["total"], totals["kept_b"] / totals["total"]),
        index=totals.index,
    )
    iou, chance = iou.groupby(level="seed").mean(), chance.groupby(level="seed").mean()
    quantities = [
        Quantity("mean IoU", iou, "ratio"),
        Quantity("random masks' IoU", chance, "ratio"),
    ]
    return judge(
        "C13", quantities, [Comparison("IoU minus random masks' IoU", iou - chance, "signed")]
    )


def _same_target_other_order(a: str, b: str) -> bool:
    first, second = ORDER_LABEL.match(a), ORDER_LABEL.match(b)
    return bool(
        first
        and second
        and first["target"] == second["target"]
        and first["order"] != second["order"]
    )
