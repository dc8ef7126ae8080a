"""Verdicts on the paper's claims (PAPER.md section 6) for add/mul: C1-C4, C14, C15, C17.

A claim is one or more directional comparisons. Per seed, a margin is positive where the
claim's direction holds; "near A rather than B" is the distance to B minus the distance to
A. The bootstrap interval of the margin's mean over seeds decides: holds when it lies above
0, does not hold when it lies below 0, unclear when it contains 0. A claim of several
comparisons holds when all hold and does not hold when any does not. One seed gives a
point estimate only, so its verdict is unclear and the reason says what the point says.
Missing rows give "not run" with the rows named. Chance is 1% (a 2-digit answer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from analysis.bootstrap import MeanInterval, bootstrap_mean
from analysis.schema import TABLES
from analysis.sharing import layer_sharing

CHANCE_TWO_DIGITS = 0.01
OPS = ("add", "mul")
BETA_KEY = "mask_fit.regularization_weight"
LARGEST_CHECKED_BETA = 1e-4
BETA_SENSITIVITY_COLUMNS = ["group", "beta", "seed", "control_accuracy", "base_accuracy", "density"]
# The control mask's keep probabilities sigmoid(l), as shares of its masked weights in
# [0, 0.1], [0.9, 1] and (0.1, 0.9); one row per seed. Not written by the orchestrator yet.
KEEP_PROBABILITY_MASS_TABLE = "keep_probability_mass"
KEEP_PROBABILITY_MASS_COLUMNS = [
    "experiment",
    "setting",
    "seed",
    "mass_low",
    "mass_high",
    "mass_middle",
]

STATEMENTS = {
    "C1": "Each op's mask keeps that op near the base model's accuracy rather than chance, "
    "and leaves the other op near chance rather than the base model's accuracy.",
    "C2": "Under not-add, add accuracy falls from the base model's more than mul accuracy "
    "does; under not-mul, mul falls more than add.",
    "C3": "The add/mul mask IoU averaged over the hidden layers is below the IoU of the "
    "input layer and below that of the output layer.",
    "C4": "The mul mask keeps more weights in total than the add mask.",
    "C14": "The control mask's accuracy stays near the unmasked accuracy rather than chance "
    "for every beta up to 1e-4, while its density falls as beta grows.",
    "C15": "The control mask's keep probabilities are bimodal: more mass in [0, 0.1] and "
    "[0.9, 1] together than in (0.1, 0.9).",
    "C17": "The base model's accuracy is near 100% rather than chance.",
}
ADDMUL_CLAIMS = ("C1", "C2", "C3", "C4", "C15", "C17")

Verdict = Literal["holds", "does not hold", "unclear", "not run"]


class ClaimVerdict(BaseModel):
    """One claim's verdict for one experiment and setting, with the numbers behind it."""

    claim: str
    statement: str
    verdict: Verdict
    numbers: str  # means, 95% intervals and seed count, human readable
    reason: str
    seeds: int
    experiment: str = ""
    setting: str = ""


@dataclass(frozen=True)
class Quantity:
    """A per-seed number (a pd.Series indexed by seed) printed beside the verdict."""

    name: str
    values: pd.Series
    unit: str  # a key of UNITS


@dataclass(frozen=True)
class Comparison:
    """One direction the claim asserts: per-seed margin, positive where it holds."""

    name: str
    margin: pd.Series
    unit: str


# unit -> (scale, format spec, suffix)
UNITS = {
    "percent": (100.0, ".1f", "%"),
    "points": (100.0, "+.1f", " pts"),
    "ratio": (1.0, ".3f", ""),
    "signed": (1.0, "+.3f", ""),
    "weights": (1.0, ",.0f", " weights"),
    "signed weights": (1.0, "+,.0f", " weights"),
}


def claim_c1(evaluations: pd.DataFrame, chance: float = CHANCE_TWO_DIGITS) -> ClaimVerdict:
    """C1 on one experiment and setting's `evaluations` rows."""
    base = {f: _accuracy(evaluations, "none", None, f) for f in OPS}
    masked = {(m, f): _accuracy(evaluations, "mask", m, f) for m in OPS for f in OPS}
    quantities = [Quantity(f"base on {f}", base[f], "percent") for f in OPS] + [
        Quantity(f"{m} mask on {f}", masked[m, f], "percent") for m in OPS for f in OPS
    ]
    if missing := _missing(quantities):
        return _not_run("C1", f"missing evaluations: {missing}")
    comparisons = [
        Comparison(f"{m} mask on {f}, nearer {near} than {far} by", margin, "points")
        for m, g in (OPS, OPS[::-1])
        for f, near, far, margin in (
            (m, "base", "chance", _nearer(masked[m, m], base[m], chance)),
            (g, "chance", "base", _nearer(masked[m, g], chance, base[g])),
        )
    ]
    return _judge("C1", quantities, comparisons)


def claim_c2(evaluations: pd.DataFrame) -> ClaimVerdict:
    """C2 on one experiment and setting's `evaluations` rows (inverted-mask accuracies)."""
    base = {f: _accuracy(evaluations, "none", None, f) for f in OPS}
    inverted = {(m, f): _accuracy(evaluations, "inverted", m, f) for m in OPS for f in OPS}
    needed = [Quantity(f"base on {f}", base[f], "percent") for f in OPS] + [
        Quantity(f"not-{m} on {f}", inverted[m, f], "percent") for m in OPS for f in OPS
    ]
    if missing := _missing(needed):
        return _not_run("C2", f"missing evaluations: {missing}")
    drop = {(m, f): base[f] - inverted[m, f] for m in OPS for f in OPS}
    quantities = needed[: len(OPS)] + [
        Quantity(f"{f} drop under not-{m}", drop[m, f], "points") for m in OPS for f in OPS
    ]
    comparisons = [
        Comparison(f"not-{f}: {f} drop minus {g} drop", drop[f, f] - drop[f, g], "points")
        for f, g in (OPS, OPS[::-1])
    ]
    return _judge("C2", quantities, comparisons)


def claim_c3(overlaps: pd.DataFrame) -> ClaimVerdict:
    """C3 on one experiment and setting's `mask_overlaps` rows; input/output = first/last layer_index."""
    pair = overlaps[overlaps["function_a"].isin(OPS) & overlaps["function_b"].isin(OPS)]
    pair = pair[pair["function_a"] != pair["function_b"]]
    if pair.empty:
        return _not_run("C3", "no add/mul mask overlaps")
    stats = layer_sharing(pair)
    depth = stats.groupby("seed")["layer_index"]
    first = stats["layer_index"] == depth.transform("min")
    last = stats["layer_index"] == depth.transform("max")
    iou = {
        "input layer IoU": stats[first].groupby("seed")["iou"].mean(),
        "output layer IoU": stats[last].groupby("seed")["iou"].mean(),
        "hidden layers mean IoU": stats[~first & ~last].groupby("seed")["iou"].mean(),
    }
    quantities = [Quantity(name, values, "ratio") for name, values in iou.items()]
    if iou["hidden layers mean IoU"].empty:
        return _not_run("C3", "fewer than 3 masked layers: no hidden layer")
    hidden = iou["hidden layers mean IoU"]
    comparisons = [
        Comparison(f"{end} minus hidden mean", iou[f"{end} layer IoU"] - hidden, "signed")
        for end in ("input", "output")
    ]
    return _judge("C3", quantities, comparisons)


def claim_c4(mask_layers: pd.DataFrame) -> ClaimVerdict:
    """C4 on one experiment and setting's `mask_layers` rows: kept weights summed over layers."""
    size = {
        f: mask_layers[mask_layers["target_function"] == f].groupby("seed")["kept"].sum()
        for f in OPS
    }
    quantities = [Quantity(f"{f} mask", size[f], "weights") for f in OPS]
    if missing := _missing(quantities):
        return _not_run("C4", f"missing mask sizes: {missing}")
    quantities.append(Quantity("mul/add size ratio", size["mul"] / size["add"], "ratio"))
    comparison = Comparison("mul minus add", size["mul"] - size["add"], "signed weights")
    return _judge("C4", quantities, [comparison])


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
        return _not_run("C14", f"needs at least 2 beta values, found {len(betas)}")
    checked = [beta for beta in betas if beta <= largest_checked_beta * (1 + 1e-9)]
    if not checked:
        return _not_run("C14", f"no beta up to {largest_checked_beta:g}")
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
                _nearer(control[b], base[b], chance),
                "points",
            )
            for b in checked
        ),
        Comparison("density falls with beta (minus rank correlation)", -correlation, "signed"),
    ]
    return _judge("C14", quantities, comparisons)


def claim_c15(masses: pd.DataFrame) -> ClaimVerdict:
    """C15 on one experiment and setting's rows of KEEP_PROBABILITY_MASS_COLUMNS."""
    if masses.empty:
        return _not_run(
            "C15",
            f"no control-mask keep-probability masses (table {KEEP_PROBABILITY_MASS_TABLE})",
        )
    share = {
        column: masses.groupby("seed")[column].mean()
        for column in ("mass_low", "mass_high", "mass_middle")
    }
    quantities = [
        Quantity("in [0, 0.1]", share["mass_low"], "percent"),
        Quantity("in [0.9, 1]", share["mass_high"], "percent"),
        Quantity("in (0.1, 0.9)", share["mass_middle"], "percent"),
    ]
    margin = share["mass_low"] + share["mass_high"] - share["mass_middle"]
    return _judge("C15", quantities, [Comparison("both ends minus middle", margin, "points")])


def claim_c17(evaluations: pd.DataFrame, chance: float = CHANCE_TWO_DIGITS) -> ClaimVerdict:
    """C17 on one experiment and setting's `evaluations` rows: every evaluated function."""
    functions = evaluations.loc[evaluations["mask_variant"] == "none", "evaluated_function"]
    if functions.empty:
        return _not_run("C17", "no evaluations of the base model")
    base = {f: _accuracy(evaluations, "none", None, f) for f in functions.unique()}
    quantities = [Quantity(f"base on {f}", values, "percent") for f, values in base.items()]
    comparisons = [
        Comparison(f"{f}, nearer 100% than chance by", _nearer(values, 1.0, chance), "points")
        for f, values in base.items()
    ]
    return _judge("C17", quantities, comparisons)


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
    base = _rows(evaluations, "none", None, name).groupby(keys)["accuracy"].mean()
    masked = _rows(evaluations, "mask", name, name).groupby(keys)["accuracy"].mean()
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


def check_claims(tables: dict[str, pd.DataFrame]) -> list[ClaimVerdict]:
    """Every claim above for every add/mul experiment and setting in the sweep's tables.

    An experiment is add/mul when its evaluations name both add and mul. Claims with no
    such experiment (C14: none varying beta) come back "not run" once, with the reason.
    """
    frames = {
        name: _table(tables, name, list(TABLES[name].model_fields))
        for name in ("evaluations", "mask_overlaps", "mask_layers")
    }
    frames["masses"] = _table(tables, KEEP_PROBABILITY_MASS_TABLE, KEEP_PROBABILITY_MASS_COLUMNS)
    evaluations, mask_layers = frames["evaluations"], frames["mask_layers"]
    verdicts: list[ClaimVerdict] = []
    for experiment in _addmul_experiments(evaluations):
        for setting in evaluations.loc[evaluations["experiment"] == experiment, "setting"].unique():
            scope = {name: _scope(frame, experiment, setting) for name, frame in frames.items()}
            found = [
                claim_c1(scope["evaluations"]),
                claim_c2(scope["evaluations"]),
                claim_c3(scope["mask_overlaps"]),
                claim_c4(scope["mask_layers"]),
                claim_c15(scope["masses"]),
                claim_c17(scope["evaluations"]),
            ]
            verdicts += [
                v.model_copy(update={"experiment": experiment, "setting": setting}) for v in found
            ]
        per_beta = beta_sensitivity(
            evaluations[evaluations["experiment"] == experiment],
            mask_layers[mask_layers["experiment"] == experiment],
        )
        for group, rows in per_beta.groupby("group", sort=False):
            if rows["beta"].nunique() > 1:
                verdict = claim_c14(rows)
                verdicts.append(
                    verdict.model_copy(update={"experiment": experiment, "setting": group})
                )
    if not verdicts:
        verdicts += [
            _not_run(claim, "no add/mul experiment in the sweep") for claim in ADDMUL_CLAIMS
        ]
    if not any(verdict.claim == "C14" for verdict in verdicts):
        verdicts.append(_not_run("C14", f"no add/mul experiment varies beta ({BETA_KEY})"))
    return verdicts


def _judge(claim: str, quantities: list[Quantity], comparisons: list[Comparison]) -> ClaimVerdict:
    intervals = [bootstrap_mean(comparison.margin) for comparison in comparisons]
    seeds = min(interval.n for interval in intervals)
    if seeds == 0:
        return _not_run(claim, "no seed has every compared number")
    directions = [_direction(interval) for interval in intervals]
    failed = [c.name for c, d in zip(comparisons, directions, strict=True) if d == "does not hold"]
    open_ = [c.name for c, d in zip(comparisons, directions, strict=True) if d == "unclear"]
    verdict: Verdict = "does not hold" if failed else "unclear" if open_ else "holds"
    if seeds == 1:
        reason = f"1 seed: spread unknown; the point estimate says {verdict}"
        verdict = "unclear"
    elif failed:
        reason = "95% interval below 0 for: " + "; ".join(failed)
    elif open_:
        reason = "95% interval contains 0 for: " + "; ".join(open_)
    else:
        reason = "95% interval above 0 for every comparison"
    shown = [(q.name, bootstrap_mean(q.values), q.unit) for q in quantities]
    shown += [(c.name, i, c.unit) for c, i in zip(comparisons, intervals, strict=True)]
    numbers = "; ".join(f"{name}: {_format(interval, unit)}" for name, interval, unit in shown)
    spread = "1 seed, spread unknown" if seeds == 1 else f"mean [95% interval] over {seeds} seeds"
    return ClaimVerdict(
        claim=claim,
        statement=STATEMENTS[claim],
        verdict=verdict,
        numbers=f"{numbers} ({spread})",
        reason=reason,
        seeds=seeds,
    )


def _direction(interval: MeanInterval) -> Verdict:
    if interval.low > 0:
        return "holds"
    if interval.high < 0:
        return "does not hold"
    return "unclear"


def _format(interval: MeanInterval, unit: str) -> str:
    scale, spec, suffix = UNITS[unit]
    mean = f"{interval.mean * scale:{spec}}{suffix}"
    if not interval.spread_known:
        return mean
    return f"{mean} [{interval.low * scale:{spec}}, {interval.high * scale:{spec}}]"


def _not_run(claim: str, reason: str) -> ClaimVerdict:
    return ClaimVerdict(
        claim=claim,
        statement=STATEMENTS[claim],
        verdict="not run",
        numbers="",
        reason=reason,
        seeds=0,
    )


def _missing(quantities: list[Quantity]) -> str:
    return ", ".join(q.name for q in quantities if q.values.dropna().empty)


def _nearer(value: pd.Series, a: pd.Series | float, b: pd.Series | float) -> pd.Series:
    """Per seed: distance to b minus distance to a, positive where value is nearer a."""
    return (value - b).abs() - (value - a).abs()


def _rows(
    evaluations: pd.DataFrame, variant: str, target: str | None, function: str
) -> pd.DataFrame:
    rows = evaluations[
        (evaluations["mask_variant"] == variant) & (evaluations["evaluated_function"] == function)
    ]
    return rows if target is None else rows[rows["mask_target"] == target]


def _accuracy(
    evaluations: pd.DataFrame, variant: str, target: str | None, function: str
) -> pd.Series:
    """Per-seed accuracy of the base model (variant none), a mask or an inverted mask."""
    return _rows(evaluations, variant, target, function).groupby("seed")["accuracy"].mean()


def _rank_correlation(x: pd.Series, y: pd.Series) -> float:
    ranks = np.vstack([x.rank().to_numpy(), y.rank().to_numpy()])
    if len(x) < 2 or np.any(ranks.std(axis=1) == 0):
        return float("nan")
    return float(np.corrcoef(ranks)[0, 1])


def _table(tables: dict[str, pd.DataFrame], name: str, columns: list[str]) -> pd.DataFrame:
    """The named table, or an empty one with its columns, so absent tables filter cleanly."""
    frame = tables.get(name)
    return pd.DataFrame(columns=columns) if frame is None or frame.empty else frame


def _scope(frame: pd.DataFrame, experiment: str, setting: str) -> pd.DataFrame:
    return frame[(frame["experiment"] == experiment) & (frame["setting"] == setting)]


def _addmul_experiments(evaluations: pd.DataFrame) -> list[str]:
    return [
        experiment
        for experiment, rows in evaluations.groupby("experiment", sort=False)
        if set(OPS) <= set(rows["evaluated_function"]) | set(rows["mask_target"].dropna())
    ]
