"""Did the base models learn and the masks converge? One row per experiment and setting.

A shrunk run (fewer steps, smaller nets) can leave a base model on a loss plateau or a
mask still shrinking; verdicts on such runs say little about the paper. This table puts
both facts beside each experiment's numbers: the base model's accuracy on its weakest
target function, per seed, against NEAR_FULL (the paper's base models are near 100% on
every function), and how many mask fits had stopped shrinking (`analysis/controls.py`,
`convergence`).
"""

from __future__ import annotations

import pandas as pd

from analysis.controls import convergence

NEAR_FULL = 0.95  # "near 100%": the accuracy a base model must reach to count as trained


def training_check(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per experiment and setting: base accuracy per seed, seeds trained, fits converged."""
    evaluations = tables.get("evaluations", pd.DataFrame())
    if evaluations.empty:
        return pd.DataFrame()
    base = evaluations[evaluations["mask_variant"] == "none"]
    curves = tables.get("fit_curves", pd.DataFrame())
    converged = convergence(curves) if not curves.empty else pd.DataFrame()
    rows = []
    for (experiment, setting), part in base.groupby(["experiment", "setting"], sort=True):
        per_function = part.groupby(["seed", "evaluated_function"])["accuracy"].mean()
        accuracy = per_function.groupby(level="seed").min()
        weakest = per_function.groupby(level="seed").idxmin().map(lambda key: key[1])
        fits = (
            converged[(converged["experiment"] == experiment) & (converged["setting"] == setting)]
            if not converged.empty
            else converged
        )
        rows.append(_row(experiment, setting, accuracy, weakest, fits))
    return pd.DataFrame(rows)


def _row(
    experiment: str, setting: str, accuracy: pd.Series, weakest: pd.Series, fits: pd.DataFrame
) -> dict[str, object]:
    low = [int(seed) for seed, value in accuracy.items() if value < NEAR_FULL]
    still = int((fits["converged"] != "yes").sum()) if not fits.empty else 0
    problems = []
    if low:
        problems.append(
            f"base model below {NEAR_FULL:.0%} on seed{'s' if len(low) > 1 else ''} "
            + ", ".join(map(str, low))
        )
    if still:
        problems.append(f"{still} mask fit{'s' if still > 1 else ''} still shrinking")
    return {
        "experiment": experiment,
        "setting": setting,
        "base accuracy per seed, weakest function (%)": ", ".join(
            f"{100 * value:.1f} ({weakest[seed]})" for seed, value in accuracy.items()
        ),
        f"seeds at >= {NEAR_FULL:.0%}": f"{len(accuracy) - len(low)} of {len(accuracy)}",
        "mask fits converged": f"{len(fits) - still} of {len(fits)}" if not fits.empty else "-",
        "status": "; ".join(problems) or "ok",
    }
