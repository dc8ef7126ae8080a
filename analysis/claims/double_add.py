"""E2, double addition: verdicts on C5 and C6 (docs/method.md, section 6), and C15 and C17 on
the plain experiment's rows.

Judged per setting of each experiment whose declared role is `double_add` (C5, C15, C17)
or `double_add_copyweight` (C6); a copyweight experiment is compared with the plain one of
the same task and model (`scope.partner`). The pair masks are named pair1 and pair2.
"""

from __future__ import annotations

import pandas as pd

from analysis.claims.scope import Sweep, label, partner, settings
from analysis.claims.spanning import claim_c15, claim_c17
from analysis.verdicts import (
    ClaimVerdict,
    Comparison,
    Quantity,
    accuracy,
    iou_by_position,
    judge,
    missing,
    not_run,
    pair_overlaps,
    scope,
    with_notes,
)

PLAIN_ROLE, COPYWEIGHT_ROLE = "double_add", "double_add_copyweight"
PAIRS = ("pair1", "pair2")
INVERSE_TESTS = {"inverted": "plain", "first_full_inverted": "first_full_mask"}


def verdicts(sweep: Sweep) -> list[ClaimVerdict]:
    """C5, C15 and C17 per plain setting, C6 per copyweight setting, in table order."""
    evaluations, overlaps = sweep.frames["evaluations"], sweep.frames["mask_overlaps"]
    copy_experiments = sweep.having(COPYWEIGHT_ROLE)
    keys = settings(evaluations, sweep.having(PLAIN_ROLE) + copy_experiments)
    copies = [key for key in keys if key[0] in copy_experiments]
    plains = [key for key in keys if key not in copies]
    found = []
    for key in keys:
        if key in copies:
            plain = partner(key, plains, sweep)
            verdict = (
                claim_c6(scope(overlaps, *key), scope(overlaps, *plain))
                if plain
                else not_run("C6", "no plain FNN experiment with the same task and model")
            )
            found.append(label(verdict, key))
            continue
        copy = partner(key, copies, sweep)
        judged = [
            claim_c5(
                scope(evaluations, *key),
                scope(overlaps, *key),
                scope(overlaps, *copy) if copy else None,
            ),
            claim_c15(scope(sweep.frames["masses"], *key)),
            claim_c17(scope(evaluations, *key)),
        ]
        found += [label(verdict, key) for verdict in judged]
    return found


def claim_c5(
    evaluations: pd.DataFrame,
    overlaps: pd.DataFrame,
    copyweight_overlaps: pd.DataFrame | None = None,
) -> ClaimVerdict:
    """C5 on one double-addition experiment and setting: each inverse test (plain, and
    first_full_mask when evaluated), the pair masks' hidden-layer IoU (printed), and that
    IoU against the copyweight control's (`copyweight_overlaps`, seeds paired) when given."""
    base = {f: accuracy(evaluations, "none", None, f) for f in PAIRS}
    needed = [Quantity(f"base on {f}", base[f], "percent") for f in PAIRS]
    quantities, comparisons, notes = list(needed), [], []
    for variant, test in INVERSE_TESTS.items():
        inverted = {(k, f): accuracy(evaluations, variant, k, f) for k in PAIRS for f in PAIRS}
        shown = [Quantity(f"{test} not-{k} on {f}", v, "percent") for (k, f), v in inverted.items()]
        if variant == "inverted":
            needed += shown
        elif missing(shown):
            notes.append(f"{test} inverse test not evaluated")
            continue
        quantities += shown
        drop = {(k, f): base[f] - inverted[k, f] for k in PAIRS for f in PAIRS}
        comparisons += [
            Comparison(
                f"{test} not-{k}: {k} drop minus {o} drop", drop[k, k] - drop[k, o], "points"
            )
            for k, o in (PAIRS, PAIRS[::-1])
        ]
    if absent := missing(needed):
        return not_run("C5", f"missing evaluations: {absent}")
    hidden = _hidden_iou(overlaps)
    quantities.append(Quantity("pair masks' hidden-layer IoU", hidden, "ratio"))
    if copyweight_overlaps is None:
        notes.append("no copyweight control with the same task and model: IoU not compared")
    else:
        copied = _hidden_iou(copyweight_overlaps)
        quantities.append(Quantity("copyweight hidden-layer IoU", copied, "ratio"))
        comparisons.append(Comparison("copyweight IoU minus this IoU", copied - hidden, "signed"))
    return with_notes(judge("C5", quantities, comparisons), notes)


def claim_c6(copyweight_overlaps: pd.DataFrame, plain_overlaps: pd.DataFrame) -> ClaimVerdict:
    """C6: hidden-layer IoU of the pair masks, copyweight minus the plain FNN's (the same
    base models, so seeds pair up)."""
    iou = {
        "copyweight hidden-layer IoU": _hidden_iou(copyweight_overlaps),
        "plain hidden-layer IoU": _hidden_iou(plain_overlaps),
    }
    quantities = [Quantity(name, values, "ratio") for name, values in iou.items()]
    if absent := missing(quantities):
        return not_run("C6", f"no pair1/pair2 hidden-layer overlaps: {absent}")
    margin = iou["copyweight hidden-layer IoU"] - iou["plain hidden-layer IoU"]
    return judge("C6", quantities, [Comparison("copyweight minus plain", margin, "signed")])


def _hidden_iou(overlaps: pd.DataFrame) -> pd.Series:
    pair = pair_overlaps(overlaps, *PAIRS)
    return iou_by_position(pair)["hidden"] if not pair.empty else pd.Series(dtype=float)
