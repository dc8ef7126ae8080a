"""E8, add/mul FNN over beta: the verdict on C14 (docs/method.md, section 6) and its input.

Judged per group of settings that differ only in beta, for each experiment whose declared
role is `beta_sweep`.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from analysis.claims.scope import Sweep, label
from analysis.verdicts import (
    CHANCE_TWO_DIGITS,
    ClaimVerdict,
    Comparison,
    Quantity,
    judge,
    nearer,
    not_run,
    rows,
)

ROLE = "beta_sweep"
BETA_KEY = "mask_fit.regularization_weight"
LARGEST_CHECKED_BETA = 1e-4
BETA_SENSITIVITY_COLUMNS = ["group", "beta", "seed", "control_accuracy", "base_accuracy", "density"]


def verdicts(sweep: Sweep) -> list[ClaimVerdict]:
    """C14 for each group of settings of each `beta_sweep` experiment."""
    evaluations, mask_layers = sweep.frames["evaluations"], sweep.frames["mask_layers"]
    found: list[ClaimVerdict] = []
    for experiment in sweep.having(ROLE):
        per_beta = beta_sensitivity(
            evaluations[evaluations["experiment"] == experiment],
            mask_layers[mask_layers["experiment"] == experiment],
        )
        for group, group_rows in per_beta.groupby("group", sort=False):
            found.append(label(claim_c14(group_rows), (experiment, group)))
    return found


def claim_c14(
    per_beta: pd.DataFrame,
    chance: float = CHANCE_TWO_DIGITS,
    largest_checked_beta: float = LARGEST_CHECKED_BETA,
) -> ClaimVerdict:
    """C14 on per-seed rows: beta, seed, control_accuracy, base_accuracy, density.

    Density is the control mask's kept share of all masked weights. Its fall with beta is
    each seed's rank correlation over its betas (a seed shares its base model across betas).
    """
    betas = sorted(per_beta["beta"].unique())
    if len(betas) < 2:
        return not_run("C14", f"needs at least 2 beta values, found {len(betas)}")
    checked = [beta for beta in betas if beta <= largest_checked_beta * (1 + 1e-9)]
    if not checked:
        return not_run("C14", f"no beta up to {largest_checked_beta:g}")
    by_beta = {beta: per_beta[per_beta["beta"] == beta].groupby("seed") for beta in betas}
    control = {beta: rows["control_accuracy"].mean() for beta, rows in by_beta.items()}
    base = {beta: rows["base_accuracy"].mean() for beta, rows in by_beta.items()}
    density = {beta: rows["density"].mean() for beta, rows in by_beta.items()}
    correlation = pd.Series(
        {
            seed: _rank_correlation(rows["beta"], rows["density"])
            for seed, rows in per_beta.groupby("seed")
        },
        dtype=float,
    )
    quantities = [
        *(Quantity(f"control at beta {b:g}", control[b], "percent") for b in checked),
        Quantity(f"density at beta {betas[0]:g}", density[betas[0]], "percent"),
        Quantity(f"density at beta {betas[-1]:g}", density[betas[-1]], "percent"),
        Quantity("rank correlation of density with beta", correlation, "signed"),
    ]
    comparisons = [
        *(
            Comparison(
                f"beta {b:g}, control nearer base than chance by",
                nearer(control[b], base[b], chance),
                "points",
            )
            for b in checked
        ),
        Comparison("density falls with beta (minus rank correlation)", -correlation, "signed"),
    ]
    return judge("C14", quantities, comparisons)


def beta_sensitivity(evaluations: pd.DataFrame, mask_layers: pd.DataFrame) -> pd.DataFrame:
    """C14's input from one experiment's tables, per group of the setting's other keys.

    Columns: group (the setting without beta, canonical JSON), beta, seed,
    control_accuracy, base_accuracy, density. The control is target_index 0; empty when
    no setting names beta (BETA_KEY) or there is no control mask.
    """
    control = mask_layers.loc[mask_layers["target_index"] == 0, "target_function"]
    if control.empty:
        return pd.DataFrame(columns=BETA_SENSITIVITY_COLUMNS)
    name = control.iloc[0]
    keys = ["setting", "seed"]
    base = rows(evaluations, "none", None, name).groupby(keys)["accuracy"].mean()
    masked = rows(evaluations, "mask", name, name).groupby(keys)["accuracy"].mean()
    kept = mask_layers[mask_layers["target_index"] == 0].groupby(keys)[["kept", "total"]].sum()
    frame = pd.concat(
        {
            "base_accuracy": base,
            "control_accuracy": masked,
            "density": kept["kept"] / kept["total"],
        },
        axis=1,
    ).dropna()
    frame = frame.reset_index()
    settings = [json.loads(setting) if setting else {} for setting in frame["setting"]]
    frame["beta"] = [values.pop(BETA_KEY, np.nan) for values in settings]
    frame["group"] = [
        json.dumps(values, sort_keys=True, separators=(",", ":")) for values in settings
    ]
    frame = frame.dropna(subset=["beta"]).reset_index(drop=True)
    return frame[BETA_SENSITIVITY_COLUMNS]


def _rank_correlation(x: pd.Series, y: pd.Series) -> float:
    ranks = np.vstack([x.rank().to_numpy(), y.rank().to_numpy()])
    if len(x) < 2 or np.any(ranks.std(axis=1) == 0):
        return float("nan")
    return float(np.corrcoef(ranks)[0, 1])
