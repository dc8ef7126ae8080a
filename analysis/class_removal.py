"""CIFAR-10 class removal (paper E5) and SCAN removed-per-token (E3 Fig. 4b).

Class removal, from `confusions` (row-normalised, rows = true class): with C the control
mask's confusion and dC = C(mask without c) - C, per class c and seed
- relative drop = -dC_cc / C_cc x 100 (large and positive: removing c's weights hurts c);
- largest other/target % = min(min_{k != c} dC_kk / C_kk, 0) / (dC_cc / C_cc) x 100
  (below 10: other classes barely suffer);
- where c's samples go: the class k != c whose confusion entry grows most.
Removed per token, from `mask_rows`: per output row t, the share of the control mask's
kept weights that mask X removes: (control kept_t - (X and control)_t) / control kept_t.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from analysis.summary import format_mean_std, over_seeds

REMOVAL_PREFIX = "without_"


def _matrix(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.pivot_table(
        index="true_class", columns="predicted_class", values="fraction", fill_value=0.0
    )


def confusion_differences(
    confusions: pd.DataFrame, control: str = "all"
) -> Iterator[tuple[int, str, pd.DataFrame, pd.DataFrame]]:
    """Per seed and removal mask: (seed, removed class, dC, C), C the control's confusion
    and dC = C(mask without the class) - C, both true class x predicted class."""
    masked = confusions[confusions["mask_variant"] == "mask"]
    for seed, per_seed in masked.groupby("seed"):
        base = per_seed[per_seed["mask_target"] == control]
        if base.empty:
            continue
        reference = _matrix(base)
        for target in sorted(
            t for t in per_seed["mask_target"].unique() if str(t).startswith(REMOVAL_PREFIX)
        ):
            removed = target.removeprefix(REMOVAL_PREFIX)
            delta = (
                _matrix(per_seed[per_seed["mask_target"] == target])
                .reindex_like(reference)
                .fillna(0.0)
                - reference
            )
            if removed in delta.index:
                yield seed, removed, delta, reference


def class_removal(confusions: pd.DataFrame, control: str = "all") -> pd.DataFrame:
    """One row per removed class and seed: relative drop, largest other/target %, top sink."""
    rows = []
    for seed, removed, delta, reference in confusion_differences(confusions, control):
        diagonal = pd.Series(
            {
                k: delta.loc[k, k] / reference.loc[k, k]
                for k in reference.index
                if reference.loc[k, k] > 0
            }
        )
        own = diagonal.get(removed, float("nan"))
        others = diagonal.drop(removed, errors="ignore")
        largest_other = min(others.min(), 0.0) / own * 100 if own < 0 else float("nan")
        sink_row = delta.loc[removed].drop(removed, errors="ignore")
        rows.append(
            {
                "seed": seed,
                "class": removed,
                "relative drop %": -own * 100,
                "largest other/target %": largest_other,
                "samples go to": sink_row.idxmax() if not sink_row.empty else "",
            }
        )
    return pd.DataFrame(rows)


def class_removal_summary(per_seed: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for removed, group in per_seed.groupby("class", sort=False):
        rows.append(
            {
                "removed class": removed,
                "relative drop %": format_mean_std(
                    group["relative drop %"].mean(), group["relative drop %"].std()
                ),
                "largest other/target %": format_mean_std(
                    group["largest other/target %"].mean(), group["largest other/target %"].std()
                ),
                "samples mostly go to": group["samples go to"].mode().iloc[0]
                if not group.empty
                else "",
                "seeds": len(group),
            }
        )
    return pd.DataFrame(rows)


def removed_share(mask_rows: pd.DataFrame, control: str) -> pd.DataFrame:
    """`mask_rows` of every mask but the control, per seed and output row, with "removed %":
    the share of the control's kept weights in that row that the mask removes (rows the
    control keeps nothing of are left out)."""
    control_rows = mask_rows[mask_rows["mask_target"] == control][["seed", "row", "kept"]].rename(
        columns={"kept": "control_kept"}
    )
    others = mask_rows[mask_rows["mask_target"] != control].merge(control_rows, on=["seed", "row"])
    others = others[others["control_kept"] > 0].copy()
    others["removed %"] = (
        100 * (others["control_kept"] - others["kept_and_control"]) / others["control_kept"]
    )
    return others


def removed_per_token(mask_rows: pd.DataFrame, control: str) -> pd.DataFrame:
    """Per mask (other than the control) and output token: % of the control's kept weights removed."""
    summary = over_seeds(
        removed_share(mask_rows, control), ["mask_target", "row", "token"], "removed %", (0, 100)
    )
    return summary.sort_values(["mask_target", "row"]).rename(columns={"mask_target": "mask"})
