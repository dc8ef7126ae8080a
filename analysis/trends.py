"""Headline numbers across the settings of one experiment: beta (E8) and size (E9) sweeps.

Per setting, averaged over seeds: the control mask's accuracy and density, and the total
shared % of the first pair of non-control masks. When the settings differ in the
regularization weight, a figure shows accuracy and density against beta.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.claims.beta_sweep import BETA_KEY, beta_sensitivity  # noqa: E402
from analysis.summary import format_mean_std  # noqa: E402


def setting_trends(tables: dict[str, pd.DataFrame], experiment: str) -> pd.DataFrame:
    evaluations = tables["evaluations"][tables["evaluations"]["experiment"] == experiment]
    layers = tables["mask_layers"][tables["mask_layers"]["experiment"] == experiment]
    overlaps = tables["mask_overlaps"][tables["mask_overlaps"]["experiment"] == experiment]
    if evaluations["setting"].nunique() < 2 or layers.empty:
        return pd.DataFrame()
    control = layers.loc[layers["target_index"] == 0, "target_function"]
    others = (
        layers[layers["target_index"] > 0].sort_values("target_index")["target_function"].unique()
    )
    rows = []
    for setting, group in evaluations.groupby("setting", sort=False):
        row: dict[str, object] = {
            "setting": ", ".join(f"{k}={v}" for k, v in json.loads(setting).items())
        }
        if not control.empty:
            name = control.iloc[0]
            accuracy = group[
                (group["mask_variant"] == "mask")
                & (group["mask_target"] == name)
                & (group["evaluated_function"] == name)
            ]
            per_seed = accuracy.groupby("seed")["accuracy"].mean()
            row["control mask accuracy %"] = format_mean_std(per_seed.mean(), per_seed.std(), 100)
            kept = (
                layers[(layers["setting"] == setting) & (layers["target_index"] == 0)]
                .groupby("seed")[["kept", "total"]]
                .sum()
            )
            density = kept["kept"] / kept["total"]
            row["control density %"] = format_mean_std(density.mean(), density.std(), 100)
        if len(others) >= 2:
            pair = overlaps[
                (overlaps["setting"] == setting)
                & (overlaps["function_a"] == others[0])
                & (overlaps["function_b"] == others[1])
            ]
            sums = pair.groupby("seed")[["both", "kept_a"]].sum()
            shared = 100 * sums["both"] / sums["kept_a"].where(sums["kept_a"] > 0)
            row[f"total shared % ({others[0]} in {others[1]})"] = format_mean_std(
                shared.mean(), shared.std()
            )
        row["seeds"] = group["seed"].nunique()
        rows.append(row)
    return pd.DataFrame(rows)


def beta_figure(tables: dict[str, pd.DataFrame], experiment: str, path: Path) -> Path | None:
    evaluations = tables["evaluations"][tables["evaluations"]["experiment"] == experiment]
    layers = tables["mask_layers"][tables["mask_layers"]["experiment"] == experiment]
    frame = beta_sensitivity(evaluations, layers)
    if frame.empty or frame["beta"].nunique() < 2:
        return None
    means = (
        frame.groupby(["group", "beta"])[["control_accuracy", "density"]]
        .agg(["mean", "std"])
        .reset_index()
    )
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.5, 3.2))
    panels = (
        (left, "control_accuracy", "control-mask accuracy (%)"),
        (right, "density", "control-mask density (%)"),
    )
    for group, part in means.groupby("group"):
        label = ", ".join(f"{k}={v}" for k, v in json.loads(group).items()) or experiment
        for axis, column, _ in panels:
            axis.errorbar(
                part["beta"],
                100 * part[(column, "mean")],
                yerr=100 * part[(column, "std")].fillna(0),
                marker="o",
                label=label,
                capsize=2,
            )
    for axis, _, ylabel in panels:
        axis.set_xscale("log")
        axis.set_xlabel(f"beta ({BETA_KEY})")
        axis.set_ylabel(ylabel)
    left.legend(fontsize=7, frameon=False)
    fig.suptitle(f"{experiment}: regularization strength", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
