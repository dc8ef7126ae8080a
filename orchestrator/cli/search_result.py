"""`orchestrator search-result`: a finished search's chosen values, ready for a sweep file.

Printed as a `mask_fit:` block to paste into an experiment; `--write FILE` writes a sweep
file of one experiment per search (the searched experiment with the chosen values and no
`search:` section) that a follow-up sweep includes (`include: FILE`), so its grid runs
with them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analysis.sections.search import scheduler_advice
from orchestrator.errors import UserError


def chosen(trials: pd.DataFrame, experiment: str | None = None) -> pd.DataFrame:
    """The best trial of each search job (one row each), in experiment and seed order."""
    if trials.empty:
        raise UserError(
            "no search results in this sweep: add a `search:` section to an experiment and "
            "submit it (docs/own-model.md)"
        )
    if experiment is not None:
        known = sorted(trials["experiment"].unique())
        trials = trials[trials["experiment"] == experiment]
        if trials.empty:
            raise UserError(
                f"--experiment {experiment!r}: no search in it; searched: {', '.join(known)}"
            )
    best = trials[trials["best"]].drop_duplicates("search_job_id")
    return best.sort_values(["experiment", "seed", "setting"]).reset_index(drop=True)


def mask_fit_values(row: Any) -> dict[str, Any]:
    """`{"mask_fit.learning_rate": 0.01}` -> `{"learning_rate": 0.01}`."""
    values = json.loads(row["values_json"])
    return {key.partition(".")[2]: value for key, value in sorted(values.items())}


def summary(row: Any, trials: pd.DataFrame) -> str:
    own = trials[trials["search_job_id"] == row["search_job_id"]]
    verdict = "within" if row["feasible"] else "NOT within (no trial was; the most accurate)"
    advice = scheduler_advice(own)
    return (
        f"# {row['sweep']} / {row['experiment']} (seed {row['seed']}): {row['trial_id']} of "
        f"{len(own)} trials ({int(own['stopped_early'].sum())} stopped early)\n"
        f"# keeps {100 * row['kept_fraction']:.2f}% of the masked weights; masked accuracy on "
        f"{row['target_function']} {row['masked_accuracy']:.4f}, base {row['base_accuracy']:.4f}: "
        f"{verdict} the tolerance {row['within']:g}" + (f"\n# {advice}" if advice else "")
    )


def render(trials: pd.DataFrame, experiment: str | None = None) -> str:
    """One commented `mask_fit:` block per search."""
    blocks = []
    for _, row in chosen(trials, experiment).iterrows():
        block = yaml.safe_dump({"mask_fit": mask_fit_values(row)}, sort_keys=True)
        blocks.append(f"{summary(row, trials)}\n{block}")
    return "\n".join(blocks)


def includable(
    trials: pd.DataFrame,
    runs: pd.DataFrame,
    experiment: str | None = None,
    seeds: list[int] | None = None,
) -> dict:
    """A sweep file of one experiment per search, with the chosen values and no search;
    with `seeds`, each experiment is a grid over those base-model seeds."""
    configs = {
        row.job_id: json.loads(row.config_json)
        for row in runs.itertuples()
        if row.kind in ("train", "search")
    }
    experiments: list[dict[str, Any]] = []
    for _, row in chosen(trials, experiment).iterrows():
        search = configs[row["search_job_id"]]
        training = configs[row["train_job_id"]]
        mask_fit = {**search["mask_fit"], **mask_fit_values(row)}
        mask_fit = {k: v for k, v in mask_fit.items() if v is not None}
        if search.get("before_masking"):
            mask_fit["before_masking"] = search["before_masking"]
        name = f"{row['experiment']}_best" + (
            f"_seed{row['seed']}" if _seeds(trials, row) > 1 else ""
        )
        taken = {e["name"] for e in experiments}
        if name in taken:  # several grid points of one experiment: number them
            name = next(
                f"{name}_{n}" for n in range(2, len(taken) + 2) if f"{name}_{n}" not in taken
            )
        experiments.append(
            {
                "name": name,
                "task": training["task"],
                "model": training["model"],
                "training": training["training"],
                "mask_fit": mask_fit,
                **({"grid": {"seed": seeds}} if seeds else {"seed": int(training["seed"])}),
            }
        )
    return {"name": f"{trials['sweep'].iloc[0]}_best", "experiments": experiments}


def _seeds(trials: pd.DataFrame, row: Any) -> int:
    return trials[trials["experiment"] == row["experiment"]]["search_job_id"].nunique()


def write_includable(path: Path, data: dict, source: str) -> None:
    header = (
        f"# The chosen values of the searches of sweep {source!r}, written by\n"
        f"# `orchestrator search-result {source} --write {path.name}`.\n"
        f"# Use them from a sweep file with `include: {path.name}`.\n"
    )
    path.write_text(header + yaml.safe_dump(data, sort_keys=False))
