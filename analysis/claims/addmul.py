"""E1, add/mul: verdicts on C1-C4 (docs/method.md, section 6), and C15 and C17 on its rows.

Judged per setting of each experiment whose declared role is `addmul`. Chance is 1% (a
2-digit answer).
"""

from __future__ import annotations

import pandas as pd

from analysis.claims.scope import Sweep, label
from analysis.claims.spanning import claim_c15, claim_c17
from analysis.verdicts import (
    CHANCE_TWO_DIGITS,
    ClaimVerdict,
    Comparison,
    Quantity,
    accuracy,
    iou_by_position,
    judge,
    missing,
    nearer,
    not_run,
    scope,
)

ROLE = "addmul"
OPS = ("add", "mul")
SCOPED_TABLES = ("evaluations", "mask_overlaps", "mask_layers", "masses")


def verdicts(sweep: Sweep) -> list[ClaimVerdict]:
    """C1-C4, C15 and C17 for each setting of each `addmul` experiment."""
    evaluations = sweep.frames["evaluations"]
    found: list[ClaimVerdict] = []
    for experiment in sweep.having(ROLE):
        for setting in evaluations.loc[evaluations["experiment"] == experiment, "setting"].unique():
            rows = {name: scope(sweep.frames[name], experiment, setting) for name in SCOPED_TABLES}
            judged = [
                claim_c1(rows["evaluations"]),
                claim_c2(rows["evaluations"]),
                claim_c3(rows["mask_overlaps"]),
                claim_c4(rows["mask_layers"]),
                claim_c15(rows["masses"]),
                claim_c17(rows["evaluations"]),
            ]
            found += [label(verdict, (experiment, setting)) for verdict in judged]
    return found


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
