"""Planted against recovered structure: does the mask method find modules known to exist?

The planted networks (workloads/models/planted.py) name their parameters by role, so the
structure is read from the `mask_overlaps` layer names of the A/B mask pair:
- disjoint (towers `tower_a`, `tower_b`): the masks share less than 10% of the hidden
  weights they keep (IoU over the tower tensors, union-weighted);
- shared trunk (`trunk`): the masks share more than half of the trunk weights they keep;
- nested (`trunk` read by B's head, `deep_a` only by A): in the trunk, B's mask is nearly a
  subset of A's (IoMin >= 0.9) while IoU stays well below that (<= IoMin - 0.1).
Each verdict uses the 95% t-interval over seeds: "recovered" when the interval meets
the bound, "not recovered" when it lies on the wrong side, "unclear" otherwise.
"""

from __future__ import annotations

import pandas as pd

from analysis.intervals import MeanInterval, mean_interval

DISJOINT_MAX_SHARED = 0.1
SHARED_MIN_SHARED = 0.5
NESTED_MIN_IOMIN = 0.9
NESTED_MIN_GAP = 0.1


def planted_structure(layers: list[str]) -> str | None:
    if any(layer.startswith("tower_a.") for layer in layers):
        return "disjoint"
    if any(layer.startswith("deep_a.") for layer in layers):
        return "nested"
    if any(layer.startswith("trunk.") for layer in layers):
        return "shared_trunk"
    return None


def _per_seed(rows: pd.DataFrame) -> pd.DataFrame:
    sums = rows.groupby("seed")[["kept_a", "kept_b", "both"]].sum()
    union = (sums["kept_a"] + sums["kept_b"] - sums["both"]).clip(lower=1)
    smaller = sums[["kept_a", "kept_b"]].min(axis=1).clip(lower=1)
    return pd.DataFrame({"iou": sums["both"] / union, "iomin": sums["both"] / smaller})


def _text(interval: MeanInterval) -> str:
    if not interval.spread_known:
        return f"{interval.mean:.3f} (1 seed)"
    return f"{interval.mean:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


def _verdict(interval: MeanInterval, bound: float, above: bool) -> str:
    if interval.n == 0:
        return "not run"
    low, high = (
        (interval.low, interval.high) if interval.spread_known else (interval.mean, interval.mean)
    )
    if (low > bound) if above else (high < bound):
        return "recovered" if interval.spread_known else "unclear"
    if (high < bound) if above else (low > bound):
        return "not recovered"
    return "unclear"


def planted_verdicts(overlaps: pd.DataFrame) -> pd.DataFrame:
    """One row per planted experiment and setting: the statistic, its bound and the verdict."""
    rows = []
    pairs = overlaps[(overlaps["function_a"] == "A") & (overlaps["function_b"] == "B")]
    for (experiment, setting), group in pairs.groupby(["experiment", "setting"], sort=False):
        structure = planted_structure(list(group["layer"].unique()))
        if structure is None:
            continue
        if structure == "disjoint":
            scope = group[group["layer"].str.startswith(("tower_a.", "tower_b."))]
            stats = _per_seed(scope)
            interval = mean_interval(stats["iou"].to_numpy())
            verdict = _verdict(interval, DISJOINT_MAX_SHARED, above=False)
            statistic, bound = "IoU of kept hidden weights", f"< {DISJOINT_MAX_SHARED}"
            value = _text(interval)
        elif structure == "shared_trunk":
            stats = _per_seed(group[group["layer"].str.startswith("trunk.")])
            interval = mean_interval(stats["iou"].to_numpy())
            verdict = _verdict(interval, SHARED_MIN_SHARED, above=True)
            statistic, bound = "IoU of kept trunk weights", f"> {SHARED_MIN_SHARED}"
            value = _text(interval)
        else:
            stats = _per_seed(group[group["layer"].str.startswith("trunk.")])
            iomin = mean_interval(stats["iomin"].to_numpy())
            gap = mean_interval((stats["iomin"] - stats["iou"]).to_numpy())
            first, second = (
                _verdict(iomin, NESTED_MIN_IOMIN, True),
                _verdict(gap, NESTED_MIN_GAP, True),
            )
            verdict = (
                first
                if first == second
                else ("not recovered" if "not recovered" in (first, second) else "unclear")
            )
            statistic = "trunk IoMin; IoMin - IoU"
            bound = f"IoMin > {NESTED_MIN_IOMIN}; gap > {NESTED_MIN_GAP}"
            value = f"{_text(iomin)}; {_text(gap)}"
            interval = iomin
        rows.append(
            {
                "experiment": experiment,
                "setting": setting,
                "planted": structure,
                "statistic": statistic,
                "value (mean [95% t-interval])": value,
                "bound": bound,
                "seeds": interval.n,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def planted_layers(overlaps: pd.DataFrame) -> pd.DataFrame:
    """Per planted experiment and layer: role, IoU and IoMin (mean over seeds)."""
    pairs = overlaps[(overlaps["function_a"] == "A") & (overlaps["function_b"] == "B")].copy()
    if pairs.empty:
        return pairs
    union = (pairs["kept_a"] + pairs["kept_b"] - pairs["both"]).clip(lower=1)
    smaller = pairs[["kept_a", "kept_b"]].min(axis=1).clip(lower=1)
    pairs["iou"] = pairs["both"] / union
    pairs["iomin"] = pairs["both"] / smaller
    pairs["role"] = pairs["layer"].str.split(".").str[0]
    summary = pairs.groupby(["experiment", "layer_index", "layer", "role"], sort=True)[
        ["iou", "iomin", "kept_a", "kept_b"]
    ].mean()
    return summary.round(3).reset_index()
