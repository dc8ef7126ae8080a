"""Mean, spread and count over seeds: how every number in the report is summarised."""

from __future__ import annotations

import pandas as pd


def over_seeds(frame: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """One row per key group: mean, sample std (n-1; NaN for one seed) and seed count."""
    grouped = frame.groupby(keys, sort=False, dropna=False)[value]
    result = grouped.agg(mean="mean", std="std", seeds="count").reset_index()
    return result


def format_mean_std(mean: float, std: float, scale: float = 1.0, digits: int = 1) -> str:
    if pd.isna(std):
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"
