"""E5, CIFAR-10 class removal: verdicts on C11 and C12 (docs/method.md, section 6).

Judged per setting of each experiment whose declared role is `class_removal`, on its
`confusions` (`analysis/class_removal.py`); the masks are `all` (the control) and
`without_<class>`. The paper claims C11 only for models without dropout.
"""

from __future__ import annotations

import pandas as pd

from analysis.claims.scope import Sweep, label, settings, value
from analysis.class_removal import class_removal, confusion_differences
from analysis.verdicts import ClaimVerdict, Comparison, judge, not_run, scope

ROLE = "class_removal"
DROPOUT_KEY = "model.dropout"
CIFAR_CONTROL = "all"
LARGEST_OTHER_LIMIT = 0.10  # largest other/target below 10%
SIMILAR_CLASSES = (("cat", "dog"), ("dog", "cat"), ("automobile", "truck"), ("truck", "automobile"))


def verdicts(sweep: Sweep) -> list[ClaimVerdict]:
    """C11 (not run where the model has dropout) and C12 for each setting of each
    `class_removal` experiment."""
    confusions = sweep.frames["confusions"]
    found = []
    for key in settings(confusions, sweep.having(ROLE)):
        rows = scope(confusions, *key)
        c11 = (
            not_run(
                "C11", "the paper claims C11 for models without dropout; this setting has dropout"
            )
            if value(key, sweep, "model", "dropout", DROPOUT_KEY) is True
            else claim_c11(rows)
        )
        found += [label(c11, key), label(claim_c12(rows), key)]
    return found


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
