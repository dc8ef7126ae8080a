"""Accuracy of the base model, each mask and each inverted mask on each target function."""

from __future__ import annotations

import pandas as pd

from analysis.summary import format_mean_std, over_seeds

KEYS = ["experiment", "setting", "mask_variant", "mask_target", "evaluated_function"]


def condition_name(variant: str, target: str | None) -> str:
    """Paper's column names: "base", "add" (the add mask), "not-add" (its inverse)."""
    if variant == "none":
        return "base"
    return target if variant == "mask" else f"not-{target}"


def accuracy_over_seeds(evaluations: pd.DataFrame) -> pd.DataFrame:
    frame = evaluations.copy()
    frame["mask_target"] = frame["mask_target"].fillna("")
    summary = over_seeds(frame, KEYS, "accuracy")
    summary["condition"] = [
        condition_name(v, t)
        for v, t in zip(summary["mask_variant"], summary["mask_target"], strict=True)
    ]
    return summary


def accuracy_table(summary: pd.DataFrame, experiment: str, setting: str) -> pd.DataFrame:
    """Rows: condition (base, each mask, each inverted mask); columns: evaluated function; % mean ± std."""
    part = summary[(summary["experiment"] == experiment) & (summary["setting"] == setting)].copy()
    part["cell"] = [
        format_mean_std(m, s, scale=100) for m, s in zip(part["mean"], part["std"], strict=True)
    ]
    order = list(dict.fromkeys(part["condition"]))
    table = part.pivot(index="condition", columns="evaluated_function", values="cell")
    return table.reindex(order)
