"""The E1 op-confusion table: per condition and true op, is the answer the sum, the
product or neither?

From `op_confusion`: per seed the share of a true op's evaluation samples whose answer
matches each; averaged over seeds. "sum" and "product" are counted on their own (a sample
where the two coincide mod 100 can count in both), so a row can exceed 100% by a little.
"""

from __future__ import annotations

import pandas as pd

from analysis.accuracy import condition_name
from analysis.summary import format_mean_std, over_seeds

MATCHES = ("sum", "product", "neither")
OP_SYMBOLS = {"add": "+", "mul": "*"}


def op_confusion_over_seeds(rows: pd.DataFrame) -> pd.DataFrame:
    """Per condition (base, f, not-f), true op and match: mean, std and seed count of the
    share of samples, in the order the rows come (base first, then each mask)."""
    frame = rows.assign(mask_target=rows["mask_target"].fillna(""))
    summary = over_seeds(
        frame, ["mask_variant", "mask_target", "true_op", "answer_matches"], "fraction"
    )
    summary["condition"] = [
        condition_name(v, t)
        for v, t in zip(summary["mask_variant"], summary["mask_target"], strict=True)
    ]
    return summary


def op_confusion_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Rows: condition x true op; columns: answer = sum / product / neither, in % (mean ± std)."""
    cells = summary.assign(
        cell=[
            format_mean_std(m, s, 100, 1)
            for m, s in zip(summary["mean"], summary["std"], strict=True)
        ],
        true_op=[OP_SYMBOLS.get(op, op) for op in summary["true_op"]],
    )
    order = list(dict.fromkeys(zip(cells["condition"], cells["true_op"], strict=True)))
    table = cells.pivot(index=["condition", "true_op"], columns="answer_matches", values="cell")
    table = table.reindex(order).reindex(columns=[m for m in MATCHES if m in table.columns])
    seeds = cells.groupby(["condition", "true_op"], sort=False)["seeds"].max()
    table["seeds"] = seeds.reindex(order).to_numpy()
    table = table.rename(columns={m: f"answer = {m} %" for m in MATCHES})
    return table.reset_index().rename(columns={"true_op": "true op"})
