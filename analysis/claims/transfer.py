"""E7, permuted-MNIST transfer: the verdict on C16 (docs/method.md, section 6).

Judged per group of settings that differ only in the fresh logit, for each experiment whose
declared role is `transfer`, on its `transfer_sharing` (`analysis/transfer.py`).
"""

from __future__ import annotations

import json

import pandas as pd

from analysis.claims.scope import Sweep, label, value
from analysis.transfer import layer_counts, reported_tasks
from analysis.verdicts import ClaimVerdict, Comparison, Quantity, judge, not_run

ROLE = "transfer"
FRESH_LOGIT_KEY = "transfer.fresh_logit"
# C16: (lower, higher) fresh logits; sharing must be larger at the lower one.
FRESH_LOGIT_STEPS = ((0.0, 2.0), (-1.0, 0.0))


def verdicts(sweep: Sweep) -> list[ClaimVerdict]:
    """C16 for each group of fresh-logit settings of each `transfer` experiment."""
    sharing = sweep.frames["transfer_sharing"]
    sharing = sharing[sharing["experiment"].isin(sweep.having(ROLE))]
    found = []
    for experiment, rows in sharing.groupby("experiment", sort=False):
        groups: dict[str, dict[str, float]] = {}
        for setting in rows["setting"].unique():
            logit = value((experiment, setting), sweep, "transfer", "fresh_logit", FRESH_LOGIT_KEY)
            group = json.loads(setting) if setting else {}
            group.pop(FRESH_LOGIT_KEY, None)
            if logit is not None:
                groups.setdefault(json.dumps(group, sort_keys=True, separators=(",", ":")), {})[
                    setting
                ] = float(logit)
        if not groups:
            found.append(
                label(not_run("C16", f"no setting names {FRESH_LOGIT_KEY}"), (experiment, ""))
            )
        for group, logits in groups.items():
            found.append(
                label(claim_c16(rows[rows["setting"].isin(logits)], logits), (experiment, group))
            )
    return found


def claim_c16(sharing: pd.DataFrame, fresh_logits: dict[str, float]) -> ClaimVerdict:
    """C16 on one experiment's `transfer_sharing`; `fresh_logits[setting]` is each setting's
    fresh logit. Per layer after the first (never shared), sharing = shared / kept summed
    over the layer's tensors, mean over the paper's reported tasks (`transfer.reported_tasks`:
    2, 4, 6, 8, 10 with task 1 = plain MNIST; all after the first if none)."""
    frame = sharing.assign(fresh_logit=sharing["setting"].map(fresh_logits))
    needed = sorted({logit for step in FRESH_LOGIT_STEPS for logit in step})
    if absent := [f"{v:g}" for v in needed if v not in set(frame["fresh_logit"])]:
        return not_run("C16", f"no transfer sharing with fresh logit {', '.join(absent)}")
    counts = (
        layer_counts(reported_tasks(frame))
        .rename(columns={"layer": "module"})
        .groupby(["fresh_logit", "module", "seed", "task"])[["shared", "kept"]]
        .sum()
    )
    per_layer = (
        (counts["shared"] / counts["kept"].where(counts["kept"] > 0))
        .groupby(level=["fresh_logit", "module", "seed"])
        .mean()
    )
    quantities = [
        Quantity(
            f"fresh logit {v:g}, mean over layers",
            per_layer.xs(v, level="fresh_logit").groupby(level="seed").mean(),
            "percent",
        )
        for v in needed
    ]
    comparisons = [
        Comparison(
            f"{module}: logit {low:g} minus {high:g}",
            per_layer.xs((low, module), level=["fresh_logit", "module"])
            - per_layer.xs((high, module), level=["fresh_logit", "module"]),
            "points",
        )
        for module in per_layer.index.get_level_values("module").unique()
        for low, high in FRESH_LOGIT_STEPS
    ]
    return judge("C16", quantities, comparisons)
