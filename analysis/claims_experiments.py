"""Verdicts on the claims of E2-E7 (PAPER.md section 6: C5-C13, C16) and on C15 and C17,
which span several experiments.

Each function takes one experiment's rows (one setting's, unless the claim pools settings)
and returns a `ClaimVerdict` (`analysis/verdicts.py`); which rows belong to which claim is
`analysis/claims_scope.py`. Experiments are known by their target functions: double
addition's pair1/pair2, SCAN's splits (simple = IID), the Mathematics Dataset's
all/easy/hard, CIFAR-10's all/without_<class>, masks labelled `<target>-order<k>` (E6).
"Far", "large", "high" add no threshold: each verdict tests the direction.
"""

from __future__ import annotations

import re

import pandas as pd

from analysis.chance import chance_iou
from analysis.class_removal import class_removal, confusion_differences, removed_share
from analysis.transfer import layer_counts, reported_tasks
from analysis.verdicts import (
    CHANCE_SEQUENCE,
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
    pair_overlaps,
)

PAIRS = ("pair1", "pair2")
INVERSE_TESTS = {"inverted": "plain", "first_full_inverted": "first_full_mask"}
SCAN_IID = "simple"
SCAN_JUMP = "addprim_jump"
SCAN_SPLITS = (SCAN_JUMP, "length", "addprim_turn_left")
JUMP_TOKEN = "I_JUMP"
MATH_CONTROL, MATH_EASY, MATH_HARD = "all", "easy", "hard"
CIFAR_CONTROL = "all"
LARGEST_OTHER_LIMIT = 0.10  # largest other/target below 10%
SIMILAR_CLASSES = (("cat", "dog"), ("dog", "cat"), ("automobile", "truck"), ("truck", "automobile"))
ORDER_LABEL = re.compile(r"^(?P<target>.+)-order(?P<order>\d+)$")
# C16: (lower, higher) fresh logits; sharing must be larger at the lower one.
FRESH_LOGIT_STEPS = ((0.0, 2.0), (-1.0, 0.0))
# The control mask's keep probabilities sigmoid(l), as shares of its masked weights in
# [0, 0.1], [0.9, 1] and (0.1, 0.9); one row per seed (table keep_probability_mass).
KEEP_PROBABILITY_MASS_TABLE = "keep_probability_mass"
KEEP_PROBABILITY_MASS_COLUMNS = [
    "experiment",
    "setting",
    "seed",
    "mass_low",
    "mass_high",
    "mass_middle",
]


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
    return _with_notes(judge("C5", quantities, comparisons), notes)


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
    output-layer weights the jump mask removes, I_JUMP's row minus the largest other row's."""
    removed = removed_share(mask_rows, control)
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
    return _with_notes(
        judge("C9", quantities, comparisons), [f"no baseline for {s}" for s in unmatched]
    )


def claim_c10(evaluations: pd.DataFrame) -> ClaimVerdict:
    """C10 on one Mathematics Dataset module: hard-test accuracy, control mask minus easy mask."""
    control = accuracy(evaluations, "mask", MATH_CONTROL, MATH_HARD)
    easy = accuracy(evaluations, "mask", MATH_EASY, MATH_HARD)
    quantities = [
        Quantity(f"{MATH_CONTROL} mask on {MATH_HARD}", control, "percent"),
        Quantity(f"{MATH_EASY} mask on {MATH_HARD}", easy, "percent"),
    ]
    if absent := missing(quantities):
        return not_run("C10", f"missing evaluations: {absent}")
    return judge(
        "C10", quantities, [Comparison("control minus easy-only", control - easy, "points")]
    )


def claim_c11(confusions: pd.DataFrame) -> ClaimVerdict:
    """C11 on one CIFAR-10 experiment and setting's `confusions` (analysis/class_removal.py):
    per removed class, the relative drop, and 10% minus the largest other/target %."""
    per_seed = class_removal(confusions, CIFAR_CONTROL)
    if per_seed.empty:
        return not_run("C11", f"no {CIFAR_CONTROL} and without_<class> mask confusions")
    comparisons = []
    for removed, rows in per_seed.groupby("class", sort=False):
        rows = rows.set_index("seed")
        comparisons.append(
            Comparison(f"{removed}: relative drop", rows["relative drop %"] / 100, "points")
        )
        other = rows["largest other/target %"].dropna() / 100
        if not other.empty:  # undefined where the class did not drop: its drop fails already
            comparisons.append(
                Comparison(
                    f"{removed}: 10% minus largest other/target",
                    LARGEST_OTHER_LIMIT - other,
                    "points",
                )
            )
    return judge("C11", [], comparisons)


def claim_c12(confusions: pd.DataFrame) -> ClaimVerdict:
    """C12 on one CIFAR-10 experiment and setting's `confusions`: in the removed class's row of
    the confusion difference, the similar class's increase minus the largest other's."""
    margins: dict[tuple[str, str], dict[int, float]] = {}
    for seed, removed, delta, _ in confusion_differences(confusions, CIFAR_CONTROL):
        row = delta.loc[removed].drop(removed, errors="ignore")
        for similar in (s for r, s in SIMILAR_CLASSES if r == removed and s in row.index):
            margins.setdefault((removed, similar), {})[seed] = (
                row[similar] - row.drop(similar).max()
            )
    if not margins:
        pairs = ", ".join(f"{r}/{s}" for r, s in SIMILAR_CLASSES)
        return not_run("C12", f"no removal mask confusions for {pairs}")
    comparisons = [
        Comparison(f"without {r}: increase at {s} minus largest other", pd.Series(m), "points")
        for (r, s), m in margins.items()
    ]
    return judge("C12", [], comparisons)


def claim_c13(overlaps: pd.DataFrame) -> ClaimVerdict:
    """C13 on one experiment's `mask_overlaps` (all settings: E6's class pairs): per seed, the
    mean over settings of the IoU over all masked tensors of masks `<t>-order<i>` and
    `<t>-order<j>`, against the IoU of independent random masks of the same densities."""
    stable = overlaps[
        [
            _same_target_other_order(a, b)
            for a, b in zip(overlaps["function_a"], overlaps["function_b"], strict=True)
        ]
    ]
    if stable.empty:
        return not_run(
            "C13", "no overlaps of masks fitted with different data orders (<target>-order<k>)"
        )
    totals = stable.groupby(["setting", "seed", "function_a", "function_b"])[
        ["kept_a", "kept_b", "both", "total"]
    ].sum()
    iou = totals["both"] / (totals["kept_a"] + totals["kept_b"] - totals["both"])
    chance = pd.Series(
        chance_iou(totals["kept_a"] / totals["total"], totals["kept_b"] / totals["total"]),
        index=totals.index,
    )
    iou, chance = iou.groupby(level="seed").mean(), chance.groupby(level="seed").mean()
    quantities = [
        Quantity("mean IoU", iou, "ratio"),
        Quantity("random masks' IoU", chance, "ratio"),
    ]
    return judge(
        "C13", quantities, [Comparison("IoU minus random masks' IoU", iou - chance, "signed")]
    )


def claim_c16(sharing: pd.DataFrame, fresh_logits: dict[str, float]) -> ClaimVerdict:
    """C16 on one experiment's `transfer_sharing`; `fresh_logits[setting]` is each setting's
    fresh logit. Per layer after the first (never shared), sharing = shared / kept summed
    over the layer's tensors, mean over the paper's reported tasks (`transfer.reported_tasks`:
    2, 4, 6, 8, 10 with task 1 = plain MNIST; all after the first if none)."""
    frame = sharing.assign(fresh_logit=sharing["setting"].map(fresh_logits))
    needed = sorted({logit for step in FRESH_LOGIT_STEPS for logit in step})
    if absent := [f"{v:g}" for v in needed if v not in set(frame["fresh_logit"])]:
        return not_run("C16", f"no transfer sharing with fresh logit {', '.join(absent)}")
    counts = (
        layer_counts(reported_tasks(frame))
        .rename(columns={"layer": "module"})
        .groupby(["fresh_logit", "module", "seed", "task"])[["shared", "kept"]]
        .sum()
    )
    per_layer = (
        (counts["shared"] / counts["kept"].where(counts["kept"] > 0))
        .groupby(level=["fresh_logit", "module", "seed"])
        .mean()
    )
    quantities = [
        Quantity(
            f"fresh logit {v:g}, mean over layers",
            per_layer.xs(v, level="fresh_logit").groupby(level="seed").mean(),
            "percent",
        )
        for v in needed
    ]
    comparisons = [
        Comparison(
            f"{module}: logit {low:g} minus {high:g}",
            per_layer.xs((low, module), level=["fresh_logit", "module"])
            - per_layer.xs((high, module), level=["fresh_logit", "module"]),
            "points",
        )
        for module in per_layer.index.get_level_values("module").unique()
        for low, high in FRESH_LOGIT_STEPS
    ]
    return judge("C16", quantities, comparisons)


def claim_c15(masses: pd.DataFrame) -> ClaimVerdict:
    """C15 on one experiment and setting's rows of KEEP_PROBABILITY_MASS_COLUMNS."""
    if masses.empty:
        return not_run(
            "C15", f"no control-mask keep-probability masses (table {KEEP_PROBABILITY_MASS_TABLE})"
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
    return judge("C15", quantities, [Comparison("both ends minus middle", margin, "points")])


def claim_c17(evaluations: pd.DataFrame, chance: float = CHANCE_TWO_DIGITS) -> ClaimVerdict:
    """C17 on one experiment and setting's `evaluations` rows: every evaluated function."""
    functions = evaluations.loc[evaluations["mask_variant"] == "none", "evaluated_function"]
    if functions.empty:
        return not_run("C17", "no evaluations of the base model")
    base = {f: accuracy(evaluations, "none", None, f) for f in functions.unique()}
    quantities = [Quantity(f"base on {f}", values, "percent") for f, values in base.items()]
    comparisons = [
        Comparison(f"{f}, nearer 100% than chance by", nearer(values, 1.0, chance), "points")
        for f, values in base.items()
    ]
    return judge("C17", quantities, comparisons)


def claim_c17_scan(evaluations: pd.DataFrame) -> ClaimVerdict:
    """C17 on a SCAN model trained on the IID split: its IID test set only; chance is 0."""
    iid = evaluations[evaluations["evaluated_function"] == SCAN_IID]
    return claim_c17(iid, chance=CHANCE_SEQUENCE)


def _hidden_iou(overlaps: pd.DataFrame) -> pd.Series:
    pair = pair_overlaps(overlaps, *PAIRS)
    return iou_by_position(pair)["hidden"] if not pair.empty else pd.Series(dtype=float)


def _same_target_other_order(a: str, b: str) -> bool:
    first, second = ORDER_LABEL.match(a), ORDER_LABEL.match(b)
    return bool(
        first
        and second
        and first["target"] == second["target"]
        and first["order"] != second["order"]
    )


def _with_notes(verdict: ClaimVerdict, notes: list[str]) -> ClaimVerdict:
    """The verdict with what it could not compare added to its reason."""
    if not notes or verdict.verdict == "not run":
        return verdict
    return verdict.model_copy(update={"reason": "; ".join([verdict.reason, *notes])})
