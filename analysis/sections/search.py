"""The report's search section: per mask-fit search (`search:`), the chosen values, the
trade-off of masked accuracy against kept fraction over the trials, and the trial table.
"""

from __future__ import annotations

import json

import pandas as pd

from analysis.document import Heading, Paragraph
from analysis.figures import search_tradeoff
from analysis.sections.writer import ReportWriter, setting_label, slug


def search_section(writer: ReportWriter, trials: pd.DataFrame) -> None:
    if trials.empty:
        return
    writer.add(Heading("Mask-fit searches", 2))
    for (experiment, setting, seed), group in trials.groupby(
        ["experiment", "setting", "seed"], sort=False
    ):
        name = slug("search", experiment, setting_label(setting), f"seed{seed}")
        writer.add(Heading(f"{experiment} ({setting_label(setting)}, seed {seed})", 3))
        writer.add(Paragraph(chosen_sentence(group)))
        path = writer.folder / "figures" / f"{name}.png"
        search_tradeoff(group, f"{experiment}, seed {seed}: {len(group)} trials", path)
        writer.figure(
            path,
            "Each point is a trial: its mask's accuracy on the target function's evaluation "
            "set against the share of weights it keeps. Crosses: trials the scheduler stopped "
            "early, where their unfinished masks stood. The band is the tolerance below the "
            "base model.",
        )
        writer.table(trial_table(group), f"{name}_trials", "Trials of the search")


def stopped_within(group: pd.DataFrame) -> list[str]:
    """Trials the scheduler stopped while their masks were still within the tolerance.

    Masks shrink and lose accuracy as a fit goes on, so a trial that is sparse early often
    ends outside the tolerance, while one still dense when it was stopped may have ended
    the sparsest within it: when no finished trial is within the tolerance, these are the
    settings the scheduler may have cut short.
    """
    threshold = group["base_accuracy"] - group["within"]
    stopped = group[group["stopped_early"] & (group["masked_accuracy"] >= threshold)]
    return sorted(stopped["trial_id"])


def scheduler_advice(group: pd.DataFrame) -> str:
    """A sentence when the search found nothing within the tolerance but the scheduler
    stopped trials that were within it; empty otherwise."""
    best = group[group["best"]].iloc[0]
    cut = stopped_within(group)
    if best["feasible"] or not cut:
        return ""
    several = len(cut) > 1
    return (
        f"{len(cut)} trial{'s' * several} stopped early {'were' if several else 'was'} "
        "within the tolerance when stopped "
        f"({', '.join(cut)}): the scheduler may have cut short the setting you want; "
        "search again with `scheduler: {name: none}` or a larger `grace_steps`."
    )


def chosen_sentence(group: pd.DataFrame) -> str:
    best = group[group["best"]].iloc[0]
    values = ", ".join(
        f"{k} = {v:.3g}" if isinstance(v, float) else f"{k} = {v}"
        for k, v in json.loads(best["values_json"]).items()
    )
    stopped = int(group["stopped_early"].sum())
    failed = int(group["error"].notna().sum())
    advice = scheduler_advice(group)
    base, within = best["base_accuracy"], best["within"]
    if best["feasible"]:
        verdict = f"the sparsest mask within {within:g} of the base model's accuracy"
    else:
        verdict = (
            f"no trial stayed within {within:g} of the base model's accuracy; this is the "
            "most accurate one, not a usable setting"
        )
    return (
        f"Chosen: {best['trial_id']} ({values}): {verdict}. It keeps "
        f"{100 * best['kept_fraction']:.2f}% of the masked weights at masked accuracy "
        f"{100 * best['masked_accuracy']:.2f}% on {best['target_function']} (base "
        f"{100 * base:.2f}%). {len(group)} trials, {stopped} stopped early"
        + (f", {failed} failed (see the table's error column)" if failed else "")
        + ". "
        + (advice + " " if advice else "")
        + "`orchestrator search-result` prints these values for a sweep file."
    )


def trial_table(group: pd.DataFrame) -> pd.DataFrame:
    values = pd.DataFrame([json.loads(v) for v in group["values_json"]], index=group.index)
    values.columns = [c.partition(".")[2] for c in values.columns]
    errors = ["error"] if group["error"].notna().any() else []
    shown = group[
        [
            "trial_id",
            "steps",
            "stopped_early",
            "kept_fraction",
            "masked_accuracy",
            "batch_accuracy",
            "feasible",
            "best",
            *errors,
        ]
    ]
    return pd.concat(
        [shown[["trial_id"]], values, shown.drop(columns="trial_id")], axis=1
    ).sort_values("trial_id")
