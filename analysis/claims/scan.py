"""E3, SCAN: verdicts on C7, C8 and C9 (docs/method.md, section 6), and C17 on the IID split.

Judged per setting of each experiment whose declared role is `scan`; C9 compares it with
the `scan_baseline` experiments trained on each split with the same task and model
(`scope.partners`). Masks and test sets are named by split (simple = IID).
"""

from __future__ import annotations

import pandas as pd

from analysis.claims.scope import Sweep, label, partners, settings, value
from analysis.claims.spanning import claim_c17
from analysis.class_removal import removed_share
from analysis.verdicts import (
    CHANCE_SEQUENCE,
    ClaimVerdict,
    Comparison,
    Quantity,
    accuracy,
    judge,
    missing,
    nearer,
    not_run,
    scope,
    with_notes,
)

ROLE, BASELINE_ROLE = "scan", "scan_baseline"
TRAINED_ON_KEY = "training.target_function"
SCAN_IID = "simple"
SCAN_JUMP = "addprim_jump"
SCAN_SPLITS = (SCAN_JUMP, "length", "addprim_turn_left")
JUMP_TOKEN = "I_JUMP"
# C8's rows (the paper's Fig. 4b): the six actions and EOS; PAD and SOS are never targets
C8_TOKENS = ("I_WALK", "I_LOOK", "I_RUN", JUMP_TOKEN, "I_TURN_LEFT", "I_TURN_RIGHT", "<eos>")


def verdicts(sweep: Sweep) -> list[ClaimVerdict]:
    """C7, C8, C9 and C17 for each setting of each `scan` experiment."""
    evaluations = sweep.frames["evaluations"]
    baselines = settings(evaluations, sweep.having(BASELINE_ROLE))
    found = []
    for key in settings(evaluations, sweep.having(ROLE)):
        trained = {
            value(b, sweep, "training", "target_function", TRAINED_ON_KEY): scope(evaluations, *b)
            for b in partners(key, baselines, sweep)
        }
        judged = [
            claim_c7(scope(evaluations, *key)),
            claim_c8(scope(sweep.frames["mask_rows"], *key)),
            claim_c9(scope(evaluations, *key), trained),
            claim_c17_scan(scope(evaluations, *key)),
        ]
        found += [label(verdict, key) for verdict in judged]
    return found


def claim_c7(evaluations: pd.DataFrame) -> ClaimVerdict:
    """C7 on one SCAN experiment and setting: per split, the split test accuracy under the IID
    mask minus under the split mask; and the add-jump drop minus each other split's."""
    splits = [s for s in SCAN_SPLITS if not accuracy(evaluations, "mask", s, s).empty]
    if SCAN_JUMP not in splits:
        return not_run("C7", f"no {SCAN_JUMP} mask evaluated on its own test set")
    iid = {s: accuracy(evaluations, "mask", SCAN_IID, s) for s in splits}
    own = {s: accuracy(evaluations, "mask", s, s) for s in splits}
    quantities = [Quantity(f"{SCAN_IID} mask on {s}", iid[s], "percent") for s in splits]
    quantities += [Quantity(f"{s} mask on {s}", own[s], "percent") for s in splits]
    if absent := missing(quantities):
        return not_run("C7", f"missing evaluations: {absent}")
    drop = {s: iid[s] - own[s] for s in splits}
    comparisons = [Comparison(f"{s}: IID mask minus split mask", drop[s], "points") for s in splits]
    comparisons += [
        Comparison(f"drop on {SCAN_JUMP} minus drop on {s}", drop[SCAN_JUMP] - drop[s], "points")
        for s in splits
        if s != SCAN_JUMP
    ]
    return judge("C7", quantities, comparisons)


def claim_c8(mask_rows: pd.DataFrame, control: str = SCAN_IID) -> ClaimVerdict:
    """C8 on one SCAN experiment and setting's `mask_rows`: the share of the control's kept
    output-layer weights the jump mask removes, I_JUMP's row minus the largest other row's
    among the six actions and EOS (`C8_TOKENS`)."""
    removed = removed_share(mask_rows[mask_rows["token"].isin(C8_TOKENS)], control)
    removed = removed[removed["mask_target"] == SCAN_JUMP]
    share = removed.set_index(["seed", "token"])["removed %"] / 100
    if JUMP_TOKEN not in set(removed["token"]) or removed["token"].nunique() < 2:
        return not_run(
            "C8", f"no {SCAN_JUMP} and {control} mask rows with {JUMP_TOKEN} and another token"
        )
    jump = share.xs(JUMP_TOKEN, level="token")
    others = share.drop(JUMP_TOKEN, level="token")
    largest = others.groupby(level="seed").max()
    top = others.groupby(level="token").mean().idxmax()
    quantities = [
        Quantity(f"{JUMP_TOKEN} removed", jump, "percent"),
        Quantity(f"largest other removed (mostly {top})", largest, "percent"),
    ]
    comparison = Comparison(f"{JUMP_TOKEN} minus largest other", jump - largest, "points")
    return judge("C8", quantities, [comparison])


def claim_c9(evaluations: pd.DataFrame, baselines: dict[str, pd.DataFrame]) -> ClaimVerdict:
    """C9 on one SCAN experiment and setting; `baselines[split]` is the evaluations of the
    baseline trained on that split with the same task and model (seeds paired by number)."""
    splits = [s for s in SCAN_SPLITS if not accuracy(evaluations, "mask", s, s).empty]
    matched = [s for s in splits if s in baselines]
    if not matched:
        return not_run("C9", "no baseline trained on a split with the same task and model")
    quantities, comparisons = [], []
    for s in matched:
        value = accuracy(evaluations, "mask", s, s)
        iid = accuracy(evaluations, "mask", SCAN_IID, s)
        baseline = accuracy(baselines[s], "none", None, s)
        quantities += [
            Quantity(f"{s} mask on {s}", value, "percent"),
            Quantity(f"baseline on {s}", baseline, "percent"),
            Quantity(f"{SCAN_IID} mask on {s}", iid, "percent"),
        ]
        comparisons.append(
            Comparison(
                f"{s}: nearer baseline than IID mask by", nearer(value, baseline, iid), "points"
            )
        )
    if absent := missing(quantities):
        return not_run("C9", f"missing evaluations: {absent}")
    unmatched = [s for s in splits if s not in matched]
    return with_notes(
        judge("C9", quantities, comparisons), [f"no baseline for {s}" for s in unmatched]
    )


def claim_c17_scan(evaluations: pd.DataFrame) -> ClaimVerdict:
    """C17 on a SCAN model trained on the IID split: its IID test set only; chance is 0."""
    iid = evaluations[evaluations["evaluated_function"] == SCAN_IID]
    return claim_c17(iid, chance=CHANCE_SEQUENCE)
