"""No verdict from an unfinished experiment: claims of experiments with pending or failed
jobs, or fewer finished seeds than planned, become "incomplete (n of N seeds)".

The plan (table `job_experiments`) says which jobs and seeds each experiment and setting
planned; the `runs` table says which finished. Without the plan (tables built by hand)
the verdicts pass through unchanged.
"""

from __future__ import annotations

import pandas as pd

from analysis.attribution import SERVES
from analysis.roles import claims_of
from analysis.verdicts import ClaimVerdict, not_run

SEEDED_KINDS = ("evaluate", "transfer")  # one job per seed and setting: counts the seeds


def with_completeness(
    verdicts: list[ClaimVerdict], tables: dict[str, pd.DataFrame], roles: dict[str, str]
) -> list[ClaimVerdict]:
    """The verdicts, incomplete where their experiment is; plus a row for each claim of a
    declared role that has no verdict yet (incomplete while jobs are unfinished)."""
    plan = tables.get(SERVES)
    out = [_checked(verdict, plan, tables) for verdict in verdicts]
    judged = {(v.claim, v.experiment) for v in out}
    for experiment, role in roles.items():
        for claim in claims_of(role):
            if (claim, experiment) in judged:
                continue
            status = _status(plan, tables, experiment, None)
            verdict = not_run(claim, "no results of this experiment yet")
            if status is not None and status[2]:
                verdict = _incomplete(verdict, 0, status)
            out.append(verdict.model_copy(update={"experiment": experiment}))
    return out


def _checked(
    verdict: ClaimVerdict, plan: pd.DataFrame | None, tables: dict[str, pd.DataFrame]
) -> ClaimVerdict:
    status = _status(plan, tables, verdict.experiment, verdict.setting)
    if status is None:
        return verdict
    planned_seeds, _, unfinished = status
    if unfinished or (verdict.verdict != "not run" and verdict.seeds < planned_seeds):
        return _incomplete(verdict, verdict.seeds, status)
    return verdict


def _status(
    plan: pd.DataFrame | None,
    tables: dict[str, pd.DataFrame],
    experiment: str,
    setting: str | None,
) -> tuple[int, int, str] | None:
    """(planned seeds, jobs planned, "3 of 10 jobs pending, 1 failed" or "") of one
    experiment's setting (the whole experiment when the setting is not a planned one)."""
    if plan is None or plan.empty:
        return None
    rows = plan[plan["experiment"] == experiment]
    if rows.empty:
        return None
    if setting is not None and (rows["setting"] == setting).any():
        rows = rows[rows["setting"] == setting]
    runs = tables.get("runs")
    if runs is None or "job_id" not in runs.columns:
        runs = pd.DataFrame(columns=["job_id", "status"])
    state = runs.set_index("job_id")["status"]
    jobs = rows["job_id"].drop_duplicates()
    states = jobs.map(state).fillna("pending")
    counts = states.value_counts()
    unfinished = [
        f"{counts[name]} of {len(jobs)} jobs {name}"
        for name in ("pending", "failed")
        if counts.get(name, 0)
    ]
    seeds = rows.loc[rows["kind"].isin(SEEDED_KINDS), "seed"].nunique()
    return seeds, len(jobs), ", ".join(unfinished)


def _incomplete(verdict: ClaimVerdict, seeds: int, status: tuple[int, int, str]) -> ClaimVerdict:
    planned_seeds, _, unfinished = status
    reason = f"incomplete ({seeds} of {planned_seeds} seeds"
    reason += f"; {unfinished})" if unfinished else ")"
    if verdict.verdict not in ("not run", "incomplete"):
        reason += f"; so far: {verdict.verdict}"
    return verdict.model_copy(update={"verdict": "incomplete", "reason": reason})
