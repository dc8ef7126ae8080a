"""Accuracy of the base model, each mask, each inverted mask and their random controls."""

from __future__ import annotations

import pandas as pd

from analysis.intervals import SHARE
from analysis.summary import format_mean_std, over_seeds

KEYS = ["experiment", "setting", "mask_variant", "mask_target", "evaluated_function"]
CONDITION_NAMES = {
    "mask": "{f}",
    "inverted": "not-{f}",
    "inverted_io_kept": "not-{f} (I/O kept)",
    "random_removal": "random-{f}",
    "random_removal_io_kept": "random-{f} (I/O kept)",
}


def condition_name(variant: str, target: str | None) -> str:
    """Paper's column names: "base", "add" (the add mask), "not-add" (its inverse), ..."""
    if variant == "none":
        return "base"
    return CONDITION_NAMES.get(variant, variant + " {f}").format(f=target)


def accuracy_over_seeds(evaluations: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and count over seeds; random draws are averaged within a seed first."""
    frame = evaluations.copy()
    frame["mask_target"] = frame["mask_target"].fillna("")
    per_seed = frame.groupby([*KEYS, "seed"], sort=False)["accuracy"].mean().reset_index()
    summary = over_seeds(per_seed, KEYS, "accuracy", SHARE)
    summary["condition"] = [
        condition_name(v, t)
        for v, t in zip(summary["mask_variant"], summary["mask_target"], strict=True)
    ]
    return summary


def accuracy_table(summary: pd.DataFrame, experiment: str, setting: str) -> pd.DataFrame:
    """Rows: condition; columns: evaluated function; cells: accuracy % mean ± std [95% t-interval]."""
    part = summary[(summary["experiment"] == experiment) & (summary["setting"] == setting)].copy()
    part["cell"] = [
        format_mean_std(m, s, 100, 1, low, high)
        for m, s, low, high in zip(
            part["mean"], part["std"], part["low"], part["high"], strict=True
        )
    ]
    order = list(dict.fromkeys(part["condition"]))
    table = part.pivot(index="condition", columns="evaluated_function", values="cell")
    return table.reindex(order).reset_index()
