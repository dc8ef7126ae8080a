"""Weight sharing between two masks of one base model, per layer (paper Fig. 2 and 3).

From `mask_overlaps` counts: the weights only A keeps, only B keeps and both keep, as
shares of the weights the two keep together (the paper's stacked bars) and of the layer;
IoU = both / union; IoMin = both / min(kept A, kept B), 1 when one is a subset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.intervals import SHARE
from analysis.summary import over_seeds

SHARING_COLUMNS = [
    "only_a",
    "only_b",
    "both",
    "iou",
    "iomin",
    "only_a_of_layer",
    "only_b_of_layer",
    "both_of_layer",
]


def layer_sharing(overlaps: pd.DataFrame) -> pd.DataFrame:
    """Per row of `mask_overlaps`: the sharing statistics of that layer for that seed."""
    frame = overlaps.copy()
    only_a = frame["kept_a"] - frame["both"]
    only_b = frame["kept_b"] - frame["both"]
    union = (only_a + only_b + frame["both"]).astype(float)
    smaller = np.minimum(frame["kept_a"], frame["kept_b"]).astype(float)
    safe_union = union.where(union > 0)
    frame["only_a"] = only_a / safe_union
    frame["only_b"] = only_b / safe_union
    frame["both"] = frame["both"] / safe_union
    frame["iou"] = frame["both"]
    frame["iomin"] = (overlaps["both"] / smaller.where(smaller > 0)).fillna(1.0)
    frame["only_a_of_layer"] = only_a / frame["total"]
    frame["only_b_of_layer"] = only_b / frame["total"]
    frame["both_of_layer"] = overlaps["both"] / frame["total"]
    return frame


def sharing_over_seeds(overlaps: pd.DataFrame, function_a: str, function_b: str) -> pd.DataFrame:
    """Mean, std, 95% t-interval and seed count of every sharing statistic per layer."""
    pair = overlaps[(overlaps["function_a"] == function_a) & (overlaps["function_b"] == function_b)]
    if pair.empty:
        pair = overlaps[
            (overlaps["function_a"] == function_b) & (overlaps["function_b"] == function_a)
        ]
        pair = pair.rename(columns={"kept_a": "kept_b", "kept_b": "kept_a"})
    stats = layer_sharing(pair)
    keys = ["experiment", "setting", "layer_index", "layer"]
    merged = None
    for column in SHARING_COLUMNS:
        summary = over_seeds(stats, keys, column, SHARE).rename(
            columns={
                "mean": f"{column}_mean",
                "std": f"{column}_std",
                "low": f"{column}_low",
                "high": f"{column}_high",
            }
        )
        merged = summary if merged is None else merged.merge(summary.drop(columns="seeds"), on=keys)
    return merged.sort_values(keys).reset_index(drop=True) if merged is not None else pd.DataFrame()


def total_shared_percent(overlaps: pd.DataFrame, function_a: str, function_b: str) -> pd.DataFrame:
    """Paper's total shared %: sum over layers of both / sum of A's kept weights, per seed."""
    pair = overlaps[(overlaps["function_a"] == function_a) & (overlaps["function_b"] == function_b)]
    per_seed = (
        pair.groupby(["experiment", "setting", "seed"], sort=False)[["both", "kept_a"]]
        .sum()
        .reset_index()
    )
    per_seed["shared_percent"] = (
        100 * per_seed["both"] / per_seed["kept_a"].where(per_seed["kept_a"] > 0)
    )
    return per_seed
