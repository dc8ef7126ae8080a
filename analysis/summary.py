"""Mean, spread, 95% t-interval and count over seeds: how every number in the report is
summarised (the interval is `analysis/intervals.py`'s, valid at the few seeds a sweep has)."""

from __future__ import annotations

import pandas as pd

from analysis.intervals import interval_label, mean_interval


def over_seeds(
    frame: pd.DataFrame,
    keys: list[str],
    value: str,
    bounds: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """One row per key group: mean, sample std (n-1; NaN for one seed), the 95% t-interval
    of the mean over seeds (low, high; the mean itself for one seed), cut to `bounds` (the
    values' range, e.g. intervals.SHARE for an accuracy), and the count."""
    grouped = frame.groupby(keys, sort=False, dropna=False)[value]
    result = grouped.agg(mean="mean", std="std", seeds="count").reset_index()
    intervals = [mean_interval(values.to_numpy(), bounds=bounds) for _, values in grouped]
    result["low"] = [interval.low for interval in intervals]
    result["high"] = [interval.high for interval in intervals]
    return result


def format_mean_std(
    mean: float,
    std: float,
    scale: float = 1.0,
    digits: int = 1,
    low: float | None = None,
    high: float | None = None,
) -> str:
    """ "mean ± std [low, high]"; the interval only where one was computed from 2+ seeds."""
    if pd.isna(std):
        return f"{mean * scale:.{digits}f}"
    text = f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"
    if low is not None and high is not None and not pd.isna(low):
        text += f" [{low * scale:.{digits}f}, {high * scale:.{digits}f}]"
    return text


def spread_caption(seeds: pd.Series | list[int]) -> str:
    """What a table's "mean ± std [low, high]" cells are, e.g. "mean ± std [95% t-interval
    over 3 seeds]", from the rows' seed counts; a row of one seed shows its value alone."""
    counts = sorted({int(count) for count in seeds})
    if counts == [1]:
        return "1 seed: the value alone, no spread"
    several = [count for count in counts if count > 1]
    text = f"mean ± std [{interval_label(several)}]"
    return text + ("; rows of 1 seed: the value alone" if 1 in counts else "")
