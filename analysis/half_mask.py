"""The E10 half-mask test: how much accuracy falls when the control mask is applied only to
the early (or only to the late) half of the masked tensors, the rest left unmasked.

drop = accuracy(control mask) - accuracy(half mask), in percentage points, per seed and
evaluated function, from the `evaluations` rows `half_early` / `half_late` (whose
`mask_target` is the control) and the control's own `mask` row.
"""

from __future__ import annotations

import pandas as pd

from analysis.summary import format_mean_std

HALVES = ("half_early", "half_late")


def half_mask_drops(evaluations: pd.DataFrame) -> pd.DataFrame:
    """Per half, evaluated function and seed: control and half accuracy and the drop (pp)."""
    halves = evaluations[evaluations["mask_variant"].isin(HALVES)]
    if halves.empty:
        return pd.DataFrame()
    keys = ["seed", "mask_target", "evaluated_function"]
    control = evaluations[evaluations["mask_variant"] == "mask"][[*keys, "accuracy"]]
    frame = halves[[*keys, "mask_variant", "accuracy"]].merge(
        control, on=keys, suffixes=("_half", "_control")
    )
    frame["drop_points"] = 100 * (frame["accuracy_control"] - frame["accuracy_half"])
    return frame.rename(columns={"mask_variant": "half"})


def half_mask_table(drops: pd.DataFrame) -> pd.DataFrame:
    """The report's view: control and half-mask accuracy (%) and the drop (pp), mean ± std."""
    rows = []
    for (half, function), group in drops.groupby(["half", "evaluated_function"], sort=False):
        rows.append(
            {
                "half mask": half.replace("half_", ""),
                "evaluated on": function,
                "control mask %": _mean_std(100 * group["accuracy_control"]),
                "half mask %": _mean_std(100 * group["accuracy_half"]),
                "drop (pp)": _mean_std(group["drop_points"]),
                "seeds": group["seed"].nunique(),
            }
        )
    return pd.DataFrame(rows)


def _mean_std(values: pd.Series) -> str:
    return format_mean_std(values.mean(), values.std())
