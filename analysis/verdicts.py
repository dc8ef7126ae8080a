"""The verdict machinery behind every claim (docs/method.md, section 6), and the claims' statements.

A claim is one or more directional comparisons. Per seed, a margin is positive where the
claim's direction holds; "near A rather than B" is the distance to B minus the distance to
A (|x - B| - |x - A|). The 95% Student-t interval of the margin's mean over seeds
(`analysis/intervals.py`) decides, a one-sided test at the 2.5% level either way: holds
when it lies above 0, does not hold when it lies below 0, unclear when it contains 0. A
claim of several comparisons holds when all hold and does not hold when any does not.
One seed gives a point estimate only, so its verdict is unclear and the reason says what
the point says. Fewer finished seeds than planned give "incomplete (n of N seeds)", never
a verdict (`judge`'s planned_seeds; from the plan's tables, `analysis/completeness.py`).
Missing rows give "not run" with the rows named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, model_validator

from analysis.intervals import SHARE, MeanInterval, interval_label, mean_interval
from analysis.sharing import layer_sharing

CHANCE_TWO_DIGITS = 0.01  # a 2-digit answer (add/mul, each pair of double addition)
CHANCE_SEQUENCE = 0.0  # a whole SCAN action sequence

STATEMENTS = {
    "C1": "Each op's mask keeps that op near the base model's accuracy rather than chance, "
    "and leaves the other op near chance rather than the base model's accuracy.",
    "C2": "Under not-add, add accuracy falls from the base model's more than mul accuracy "
    "does; under not-mul, mul falls more than add.",
    "C3": "The add/mul mask IoU averaged over the hidden layers is below the IoU of the "
    "input layer and below that of the output layer.",
    "C4": "The mul mask keeps more weights in total than the add mask.",
    "C5": "Under not-Pair k, pair k's accuracy falls more than the other pair's (plain and "
    "first_full_mask inverse tests); the pair masks' hidden-layer IoU is below that of "
    "the copyweight control.",
    "C6": "With copied pair weights (copyweight), the pair masks' hidden-layer IoU exceeds "
    "that of the plain FNN.",
    "C7": "Each split's test accuracy under the split mask is below that under the IID mask; "
    "the drop is largest on add-jump.",
    "C8": "The jump mask removes a larger share of I_JUMP's output-layer weights than of any "
    "other output token's.",
    "C9": "The IID net's accuracy under a split mask is near that of the baseline trained on "
    "the split rather than that under the IID mask.",
    "C10": "Hard-test accuracy under the easy-only mask is below that under the control mask.",
    "C11": "Removing a class's weights gives that class a positive relative drop, and the "
    "largest other/target % is below 10, for every class.",
    "C12": "In the row of removed cat the largest increase is at dog, and vice versa; "
    "likewise automobile and truck.",
    "C13": "The mean IoU of two masks fitted with different data orders is above that of two "
    "independent random masks of the same densities.",
    "C14": "The control mask's accuracy stays near the unmasked accuracy rather than chance "
    "for every beta up to 1e-4, while its density falls as beta grows.",
    "C15": "The control mask's keep probabilities are bimodal: more mass in [0, 0.1] and "
    "[0.9, 1] together than in (0.1, 0.9).",
    "C16": "Transfer sharing is higher with fresh logits at 0 than at 2, and at -1 than at 0, "
    "in every layer after the first.",
    "C17": "The base model's accuracy is near 100% rather than chance.",
}

# What a reader sees beside a verdict row (at most 60 characters each).
SHORT_STATEMENTS = {
    "C1": "Each op's mask keeps its op and drops the other",
    "C2": "Removing an op's mask hurts that op more than the other",
    "C3": "Add/mul masks overlap at input/output, less in between",
    "C4": "The mul mask is larger than the add mask",
    "C5": "Double addition: each pair has its own weights",
    "C6": "Copied pair weights are shared (IoU above plain)",
    "C7": "SCAN split masks fail their split, most on add-jump",
    "C8": "The jump mask removes I_JUMP's output row most",
    "C9": "Split mask brings the IID net near the split baseline",
    "C10": "The easy-only mask fails hard math problems",
    "C11": "Removing a class's weights hurts that class only",
    "C12": "Removed cat goes to dog and vice versa; car/truck too",
    "C13": "Masks fitted on other data orders agree beyond chance",
    "C14": "Accuracy stays up to beta 1e-4 while density falls",
    "C15": "Control-mask keep probabilities are bimodal",
    "C16": "Transfer sharing grows as fresh logits fall",
    "C17": "Base models are near 100% accurate",
}

Verdict = Literal["holds", "does not hold", "unclear", "incomplete", "not run"]


class ClaimVerdict(BaseModel):
    """One claim's verdict for one experiment and setting, with the numbers behind it."""

    claim: str
    statement: str
    short: str = ""  # SHORT_STATEMENTS[claim] unless given: what a terminal row has room for
    verdict: Verdict
    numbers: str  # means ± std, 95% t-intervals and seed count, human readable
    reason: str
    seeds: int
    experiment: str = ""
    setting: str = ""

    @model_validator(mode="after")
    def _short_statement(self) -> ClaimVerdict:
        self.short = self.short or SHORT_STATEMENTS.get(self.claim, "")
        return self


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


def judge(
    claim: str,
    quantities: list[Quantity],
    comparisons: list[Comparison],
    planned_seeds: int | None = None,
) -> ClaimVerdict:
    """The verdict from the comparisons' t intervals; quantities are only printed.

    `planned_seeds`: how many seeds the plan runs; fewer finished gives "incomplete".
    """
    intervals = [mean_interval(comparison.margin) for comparison in comparisons]
    seeds = min((interval.n for interval in intervals), default=0)
    if seeds == 0:
        return not_run(claim, "no seed has every compared number")
    found = directions(np.array([i.low for i in intervals]), np.array([i.high for i in intervals]))
    failed = [c.name for c, d in zip(comparisons, found, strict=True) if d == "does not hold"]
    open_ = [c.name for c, d in zip(comparisons, found, strict=True) if d == "unclear"]
    verdict: Verdict = "does not hold" if failed else "unclear" if open_ else "holds"
    if seeds == 1:
        reason = f"1 seed: spread unknown; the point estimate says {verdict}"
        verdict = "unclear"
    elif failed:
        reason = "95% t-interval below 0 for: " + "; ".join(failed)
    elif open_:
        reason = "95% t-interval contains 0 for: " + "; ".join(open_)
    else:
        reason = "95% t-interval above 0 for every comparison"
    if planned_seeds is not None and seeds < planned_seeds:
        verdict, reason = "incomplete", f"incomplete ({seeds} of {planned_seeds} seeds)"
    shown = [
        (q.name, mean_interval(q.values, bounds=SHARE if q.unit == "percent" else None), q.unit)
        for q in quantities
    ]
    shown += [(c.name, i, c.unit) for c, i in zip(comparisons, intervals, strict=True)]
    numbers = "; ".join(f"{name}: {_format(interval, unit)}" for name, interval, unit in shown)
    spread = "1 seed, spread unknown" if seeds == 1 else f"mean ± std [{interval_label(seeds)}]"
    return ClaimVerdict(
        claim=claim,
        statement=STATEMENTS[claim],
        verdict=verdict,
        numbers=f"{numbers} ({spread})",
        reason=reason,
        seeds=seeds,
    )


def directions(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per interval: holds above 0, does not hold below 0, else unclear (vectorised, so a
    test can judge thousands of simulated sweeps the way `judge` does)."""
    return np.where(low > 0, "holds", np.where(high < 0, "does not hold", "unclear"))


def not_run(claim: str, reason: str) -> ClaimVerdict:
    return ClaimVerdict(
        claim=claim,
        statement=STATEMENTS[claim],
        verdict="not run",
        numbers="",
        reason=reason,
        seeds=0,
    )


def with_notes(verdict: ClaimVerdict, notes: list[str]) -> ClaimVerdict:
    """The verdict with what it could not compare added to its reason."""
    if not notes or verdict.verdict == "not run":
        return verdict
    return verdict.model_copy(update={"reason": "; ".join([verdict.reason, *notes])})


def missing(quantities: list[Quantity]) -> str:
    """Names of the quantities without any seed's value, comma separated ("" if none)."""
    return ", ".join(q.name for q in quantities if q.values.dropna().empty)


def nearer(value: pd.Series, a: pd.Series | float, b: pd.Series | float) -> pd.Series:
    """Per seed: distance to b minus distance to a, positive where value is nearer a."""
    return (value - b).abs() - (value - a).abs()


def rows(
    evaluations: pd.DataFrame, variant: str, target: str | None, function: str
) -> pd.DataFrame:
    found = evaluations[
        (evaluations["mask_variant"] == variant) & (evaluations["evaluated_function"] == function)
    ]
    return found if target is None else found[found["mask_target"] == target]


def accuracy(
    evaluations: pd.DataFrame, variant: str, target: str | None, function: str
) -> pd.Series:
    """Per-seed accuracy of the base model (variant none, target None) or a mask variant."""
    return rows(evaluations, variant, target, function).groupby("seed")["accuracy"].mean()


def iou_by_position(overlaps: pd.DataFrame) -> dict[str, pd.Series]:
    """Per-seed IoU of one pair of masks: input layer (first layer_index), output layer
    (last) and the mean over the hidden layers in between (empty with under 3 layers)."""
    stats = layer_sharing(overlaps)
    depth = stats.groupby("seed")["layer_index"]
    first = stats["layer_index"] == depth.transform("min")
    last = stats["layer_index"] == depth.transform("max")
    return {
        "input": stats[first].groupby("seed")["iou"].mean(),
        "output": stats[last].groupby("seed")["iou"].mean(),
        "hidden": stats[~first & ~last].groupby("seed")["iou"].mean(),
    }


def pair_overlaps(overlaps: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """The overlap rows of masks a and b, in either order."""
    names = overlaps["function_a"].isin([a, b]) & overlaps["function_b"].isin([a, b])
    return overlaps[names & (overlaps["function_a"] != overlaps["function_b"])]


def table(tables: dict[str, pd.DataFrame], name: str, columns: list[str]) -> pd.DataFrame:
    """The named table, or an empty one with its columns, so absent tables filter cleanly."""
    frame = tables.get(name)
    return pd.DataFrame(columns=columns) if frame is None or frame.empty else frame


def scope(frame: pd.DataFrame, experiment: str, setting: str | None = None) -> pd.DataFrame:
    """One experiment's rows, and one setting's when given."""
    found = frame[frame["experiment"] == experiment]
    return found if setting is None else found[found["setting"] == setting]


def _format(interval: MeanInterval, unit: str) -> str:
    """ "97.4 ± 0.2% [96.9, 97.9]": mean ± std, then the t interval (the mean alone for 1 seed)."""
    scale, spec, suffix = UNITS[unit]
    mean = f"{interval.mean * scale:{spec}}"
    if not interval.spread_known:
        return f"{mean}{suffix}"
    std = f"{interval.std * scale:{spec.lstrip('+')}}"
    return f"{mean} ± {std}{suffix} [{interval.low * scale:{spec}}, {interval.high * scale:{spec}}]"
