"""Rows of shared jobs counted under every experiment and setting they serve.

A composed sweep plans some jobs from several experiments with the same config (E8's
beta = 1e-4 point is the main add/mul experiment); such a job runs once and writes its
rows under the first experiment that planned it. The `job_experiments` table (written at
submit) lists everything each job serves; here every row of such a job is repeated under
each of its experiments and settings, so each experiment sees the same rows it would see
had its file run alone. The `runs` table stays one row per job.
"""

from __future__ import annotations

import pandas as pd

SERVES = "job_experiments"


def attribute(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables with each row of a listed job once per (experiment, setting) it serves.

    Rows of jobs that the latest plan does not list (an earlier submission under the same
    sweep name, or an earlier code version, whose job ids differ) are left out, so old and
    new results never mix; `stale_jobs` counts them from the `runs` table, which keeps one
    row per job (stale ones included). Rows without a job id (written before the column existed) are kept as they are.
    """
    serves = tables.get(SERVES)
    if serves is None or serves.empty:
        return tables
    served = serves[["job_id", "experiment", "setting"]].drop_duplicates()
    shared = served.groupby("job_id").size()
    shared = set(shared[shared > 1].index)
    planned = set(served["job_id"])
    out = dict(tables)
    for name, frame in tables.items():
        if name == SERVES or "job_id" not in frame.columns or frame.empty:
            continue
        if name == "runs":
            continue  # one row per job; `job_experiments` says what each job serves
        known = frame["job_id"].isna() | (frame["job_id"] == "")
        frame = out[name] = frame[known | frame["job_id"].isin(planned)]
        many = frame["job_id"].isin(shared)
        if not many.any():
            continue
        expanded = (
            frame[many]
            .drop(columns=["experiment", "setting"])
            .merge(served[served["job_id"].isin(shared)], on="job_id", how="inner")
        )
        out[name] = pd.concat([frame[~many], expanded[frame.columns]], ignore_index=True)
    return out


def experiment_descriptions(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per experiment (in plan order, index `experiment`): its declared role,
    differs_from_paper and pipeline_check, from `job_experiments`."""
    serves = tables.get(SERVES, pd.DataFrame())
    columns = ["role", "differs_from_paper", "pipeline_check"]
    if serves is None or serves.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="experiment"))
    frame = serves.reindex(columns=["experiment", *columns]).drop_duplicates("experiment")
    frame["pipeline_check"] = frame["pipeline_check"].fillna(False).astype(bool)
    return frame.set_index("experiment")


def roles(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Each experiment's declared paper role (experiments without one are absent)."""
    return experiment_descriptions(tables)["role"].dropna().to_dict()


def stale_jobs(tables: dict[str, pd.DataFrame]) -> set[str]:
    """Jobs with a `runs` row that the latest plan does not list (left out of the analysis)."""
    serves, runs = tables.get(SERVES), tables.get("runs")
    if serves is None or serves.empty or runs is None or runs.empty:
        return set()
    return set(runs["job_id"]) - set(serves["job_id"])
