"""Controls the paper lacks: is a module more than damage, and had the mask converged?

Specificity: removing f's module ("not-f") should hurt f clearly more than removing as
many random weights per layer ("random-f"), and spare the other function g at least as
well. Both differences are per seed (random draws averaged first), with 95% t-intervals
over seeds (`analysis/intervals.py`). When not-f and random-f both leave f at chance
(the upper end of each one's t-interval of f's accuracy at most AT_CHANCE_TOLERANCE above
chance), neither can hurt f more than the other: the row says "cannot tell (both at
chance)" rather than "not specific".

Convergence: a fit whose kept fraction still falls over its last 10% of steps had not
converged; short fits leave masks dense and overlaps high, so the report flags them.
"""

from __future__ import annotations

import pandas as pd

from analysis.intervals import MeanInterval, mean_interval
from analysis.verdicts import CHANCE_TWO_DIGITS

AT_CHANCE_TOLERANCE = 0.02  # f's accuracy "at chance": interval's top within 2 points of it
STILL_SHRINKING = 0.01  # kept fraction falling by more than 1 point over the last 10% of steps
PAIRS = (
    ("inverted", "random_removal", "all layers"),
    ("inverted_io_kept", "random_removal_io_kept", "I/O layers kept"),
)


def _per_seed(
    evaluations: pd.DataFrame, variant: str, target: str | None, function: str
) -> pd.Series:
    rows = evaluations[
        (evaluations["mask_variant"] == variant) & (evaluations["evaluated_function"] == function)
    ]
    if target is not None:
        rows = rows[rows["mask_target"] == target]
    return rows.groupby("seed")["accuracy"].mean()


def interval_text(interval: MeanInterval, scale: float = 100.0, digits: int = 1) -> str:
    """ "+80.3 ± 5.1 [+67.6, +93.0]": mean ± std [95% t-interval] over seeds."""
    if interval.n == 0:
        return "-"
    if not interval.spread_known:
        return f"{interval.mean * scale:+.{digits}f} (1 seed)"
    return (
        f"{interval.mean * scale:+.{digits}f} ± {interval.std * scale:.{digits}f} "
        f"[{interval.low * scale:+.{digits}f}, {interval.high * scale:+.{digits}f}]"
    )


def specificity(
    evaluations: pd.DataFrame, targets: list[str], chance: float = CHANCE_TWO_DIGITS
) -> pd.DataFrame:
    """One row per mask target f, other function g and control pair (all layers / I/O
    kept); `chance` is f's accuracy when guessing (a 2-digit answer by default)."""
    rows = []
    for target in targets:
        base_f = _per_seed(evaluations, "none", None, target)
        for other in [t for t in targets if t != target]:
            for removed, random, scope in PAIRS:
                not_f_on_f = _per_seed(evaluations, removed, target, target)
                random_on_f = _per_seed(evaluations, random, target, target)
                if not_f_on_f.empty or random_on_f.empty:
                    continue
                not_f_on_g = _per_seed(evaluations, removed, target, other)
                random_on_g = _per_seed(evaluations, random, target, other)
                extra_damage = mean_interval((random_on_f - not_f_on_f).dropna().to_numpy())
                spared = mean_interval((not_f_on_g - random_on_g).dropna().to_numpy())
                at_chance = all(
                    _at_chance(mean_interval(on_f.to_numpy()), chance)
                    for on_f in (not_f_on_f, random_on_f)
                )
                rows.append(
                    {
                        "mask": target,
                        "other": other,
                        "layers": scope,
                        "base on f %": round(100 * base_f.mean(), 1),
                        "not-f on f %": round(100 * not_f_on_f.mean(), 1),
                        "random-f on f %": round(100 * random_on_f.mean(), 1),
                        "not-f on g %": round(100 * not_f_on_g.mean(), 1),
                        "random-f on g %": round(100 * random_on_g.mean(), 1),
                        "extra damage to f (pts)": interval_text(extra_damage),
                        "g spared vs random (pts)": interval_text(spared),
                        "verdict": _specific(extra_damage, spared, at_chance),
                        "seeds": extra_damage.n,
                    }
                )
    return pd.DataFrame(rows)


def _at_chance(accuracy: MeanInterval, chance: float) -> bool:
    return accuracy.spread_known and accuracy.high <= chance + AT_CHANCE_TOLERANCE


def _specific(extra_damage: MeanInterval, spared: MeanInterval, both_at_chance: bool) -> str:
    if extra_damage.n == 0:
        return "not run"
    if not extra_damage.spread_known:
        return "unclear"
    if both_at_chance:
        return "cannot tell (both at chance)"
    if extra_damage.low > 0 and spared.high >= 0:
        return "specific"
    if extra_damage.high < 0 or spared.high < 0:
        return "not specific"
    return "unclear"


def convergence(curves: pd.DataFrame) -> pd.DataFrame:
    """Per mask fit: final task loss and kept fraction, their change over the last 10%."""
    rows = []
    for (experiment, setting, _), fit in curves.groupby(
        ["experiment", "setting", "mask_job_id"], sort=False
    ):
        fit = fit.sort_values("step")
        last = fit.iloc[-1]
        window = fit[fit["step"] >= 0.9 * last["step"]]
        start = window.iloc[0] if len(window) > 1 else fit.iloc[max(0, len(fit) - 2)]
        kept_change = last["kept_fraction"] - start["kept_fraction"]
        rows.append(
            {
                "experiment": experiment,
                "setting": setting,
                "seed": int(last["seed"]),
                "mask": last["target_function"],
                "steps": int(last["step"]),
                "final task loss": round(float(last["task_loss"]), 4),
                "task loss change, last 10%": round(
                    float(last["task_loss"] - start["task_loss"]), 4
                ),
                "kept %": round(100 * float(last["kept_fraction"]), 2),
                "kept change, last 10% (pts)": round(100 * float(kept_change), 2),
                "converged": "yes" if kept_change >= -STILL_SHRINKING else "no: still shrinking",
            }
        )
    return pd.DataFrame(rows)
