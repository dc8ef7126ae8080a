"""Verdicts on the paper's claims (docs/method.md, section 6) for add/mul: C1-C4 and C14, and the
entry point `check_claims` for every claim of every experiment in a sweep.

How a verdict is reached (t-intervals over seeds) is `analysis/verdicts.py`; the
claims of the other experiments, and C15 and C17 which span several, are
`analysis/claims_experiments.py`, found in the tables by `analysis/claims_scope.py`.
Chance is 1% (a 2-digit answer).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from analysis.attribution import roles as experiment_roles
from analysis.claims_experiments import (
    KEEP_PROBABILITY_MASS_COLUMNS,
    KEEP_PROBABILITY_MASS_TABLE,
    claim_c15,
    claim_c17,
)
from analysis.claims_scope import experiment_verdicts
from analysis.completeness import with_completeness
from analysis.schema import TABLES
from analysis.verdicts import (
    CHANCE_TWO_DIGITS,
    STATEMENTS,
    UNITS,
    ClaimVerdict,
    Comparison,
    Quantity,
    Verdict,
    accuracy,
    iou_by_position,
    judge,
    missing,
    nearer,
    not_run,
    rows,
    scope,
    table,
)

__all__ = [
    "BETA_KEY",
    "BETA_SENSITIVITY_COLUMNS",
    "CHANCE_TWO_DIGITS",
    "KEEP_PROBABILITY_MASS_COLUMNS",
    "KEEP_PROBABILITY_MASS_TABLE",
    "STATEMENTS",
    "UNITS",
    "ClaimVerdict",
    "Comparison",
    "Quantity",
    "Verdict",
    "beta_sensitivity",
    "check_claims",
    "claim_c1",
    "claim_c2",
    "claim_c3",
    "claim_c4",
    "claim_c14",
    "claim_c15",
    "claim_c17",
]

OPS = ("add", "mul")
BETA_KEY = "mask_fit.regularization_weight"
LARGEST_CHECKED_BETA = 1e-4
BETA_SENSITIVITY_COLUMNS = ["group", "beta", "seed", "control_accuracy", "base_accuracy", "density"]


def claim_c1(evaluations: pd.DataFrame, chance: float = CHANCE_TWO_DIGITS) -> ClaimVerdict:
    """C1 on one experiment and setting's `evaluations` rows."""
    base = {f: accuracy(evaluations, "none", None, f) for f in OPS}
    masked = {(m, f): accuracy(evaluations, "mask", m, f) for m in OPS for f in OPS}
    quantities = [Quantity(f"base on {f}", base[f], "percent") for f in OPS] + [
        Quantity(f"{m} mask on {f}", masked[m, f], "percent") for m in OPS for f in OPS
    ]
    if absent := missing(quantities):
        return not_run("C1", f"missing evaluations: {absent}")
    comparisons = [
        Comparison(f"{m} mask on {f}, nearer {near} than {far} by", margin, "points")
        for m, g in (OPS, OPS[::-1])
        for f, near, far, margin in (
            (m, "base", "chance", nearer(masked[m, m], base[m], chance)),
            (g, "chance", "base", nearer(masked[m, g], chance, base[g])),
        )
    ]
    return judge("C1", quantities, comparisons)


def claim_c2(evaluations: pd.DataFrame) -> ClaimVerdict:
    """C2 on one experiment and setting's `evaluations` rows (inverted-mask accuracies)."""
    base = {f: accuracy(evaluations, "none", None, f) for f in OPS}
    inverted = {(m, f): accuracy(evaluations, "inverted", m, f) for m in OPS for f in OPS}
    needed = [Quantity(f"base on {f}", base[f], "percent") for f in OPS] + [
        Quantity(f"not-{m} on {f}", inverted[m, f], "percent") for m in OPS for f in OPS
    ]
    if absent := missing(needed):
        return not_run("C2", f"missing evaluations: {absent}")
    drop = {(m, f): base[f] - inverted[m, f] for m in OPS for f in OPS}
    quantities = needed[: len(OPS)] + [
        Quantity(f"{f} drop under not-{m}", drop[m, f], "points") for m in OPS for f in OPS
    ]
    comparisons = [
        Comparison(f"not-{f}: {f} drop minus {g} drop", drop[f, f] - drop[f, g], "points")
        for f, g in (OPS, OPS[::-1])
    ]
    return judge("C2", quantities, comparisons)


def claim_c3(overlaps: pd.DataFrame) -> ClaimVerdict:
    """C3 on one experiment and setting's `mask_overlaps` rows; input/output = first/last layer_index."""
    pair = overlaps[overlaps["function_a"].isin(OPS) & overlaps["function_b"].isin(OPS)]
    pair = pair[pair["function_a"] != pair["function_b"]]
    if pair.empty:
        return not_run("C3", "no add/mul mask overlaps")
    position = iou_by_position(pair)
    iou = {
        "input layer IoU": position["input"],
        "output layer IoU": position["output"],
        "hidden layers mean IoU": position["hidden"],
    }
    quantities = [Quantity(name, values, "ratio") for name, values in iou.items()]
    if iou["hidden layers mean IoU"].empty:
        return not_run("C3", "fewer than 3 masked layers: no hidden layer")
    hidden = iou["hidden layers mean IoU"]
    comparisons = [
        Comparison(f"{end} minus hidden mean", iou[f"{end} layer IoU"] - hidden, "signed")
        for end in ("input", "output")
    ]
    return judge("C3", quantities, comparisons)


def claim_c4(mask_layers: pd.DataFrame) -> ClaimVerdict:
    """C4 on one experiment and setting's `mask_layers` rows: kept weights summed over layers."""
    size = {
        f: mask_layers[mask_layers["target_function"] == f].groupby("seed")["kept"].sum()
        for f in OPS
    }
    quantities = [Quantity(f"{f} mask", size[f], "weights") for f in OPS]
    if absent := missing(quantities):
        return not_run("C4", f"missing mask sizes: {absent}")
    quantities.append(Quantity("mul/add size ratio", size["mul"] / size["add"], "ratio"))
    comparison = Comparison("mul minus add", size["mul"] - size["add"], "signed weights")
    return judge("C4", quantities, [comparison])


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


def check_claims(
    tables: dict[str, pd.DataFrame], roles: dict[str, str] | None = None
) -> list[ClaimVerdict]:
    """Every claim for every experiment and setting of the roles it is scoped to.

    `roles` (experiment -> role, `analysis/roles.py`) default to the roles the sweep file
    declared (table `job_experiments`). C1-C4, C15 and C17 are judged on each `addmul`
    experiment, C14 on each `beta_sweep`; the others in `claims_scope`. A claim whose
    experiment has unfinished jobs or seeds is "incomplete" (`completeness`); a declared
    experiment without rows gives "not run" (or "incomplete") for each claim of its role.
    Claims that no declared experiment is scoped to are not listed.
    """
    roles = experiment_roles(tables) if roles is None else roles
    frames = {
        name: table(tables, name, list(TABLES[name].model_fields))
        for name in ("evaluations", "mask_overlaps", "mask_layers")
    }
    frames["masses"] = table(tables, KEEP_PROBABILITY_MASS_TABLE, KEEP_PROBABILITY_MASS_COLUMNS)
    evaluations, mask_layers = frames["evaluations"], frames["mask_layers"]
    verdicts: list[ClaimVerdict] = []
    for experiment in [e for e, role in roles.items() if role == "addmul"]:
        for setting in evaluations.loc[evaluations["experiment"] == experiment, "setting"].unique():
            scoped = {name: scope(frame, experiment, setting) for name, frame in frames.items()}
            found = [
                claim_c1(scoped["evaluations"]),
                claim_c2(scoped["evaluations"]),
                claim_c3(scoped["mask_overlaps"]),
                claim_c4(scoped["mask_layers"]),
                claim_c15(scoped["masses"]),
                claim_c17(scoped["evaluations"]),
            ]
            verdicts += [
                v.model_copy(update={"experiment": experiment, "setting": setting}) for v in found
            ]
    for experiment in [e for e, role in roles.items() if role == "beta_sweep"]:
        per_beta = beta_sensitivity(
            evaluations[evaluations["experiment"] == experiment],
            mask_layers[mask_layers["experiment"] == experiment],
        )
        for group, group_rows in per_beta.groupby("group", sort=False):
            verdict = claim_c14(group_rows)
            verdicts.append(verdict.model_copy(update={"experiment": experiment, "setting": group}))
    verdicts += experiment_verdicts(tables, roles)
    return with_completeness(verdicts, tables, roles)


def _rank_correlation(x: pd.Series, y: pd.Series) -> float:
    ranks = np.vstack([x.rank().to_numpy(), y.rank().to_numpy()])
    if len(x) < 2 or np.any(ranks.std(axis=1) == 0):
        return float("nan")
    return float(np.corrcoef(ranks)[0, 1])
