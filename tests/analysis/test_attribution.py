"""Rows of a job shared by several experiments count under each of them."""

from __future__ import annotations

import pandas as pd

from analysis.attribution import attribute, roles, stale_jobs


def serves(*rows: tuple[str, str, str, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "sweep": "s",
                "job_id": j,
                "kind": "evaluate",
                "experiment": e,
                "setting": st,
                "seed": 1,
                "role": r,
            }
            for j, e, st, r in rows
        ]
    )


def test_shared_job_rows_appear_under_every_experiment_and_setting():
    evaluations = pd.DataFrame(
        {
            "job_id": ["shared", "shared", "own"],
            "experiment": ["main", "main", "betas"],
            "setting": ["{}", "{}", '{"beta":0.001}'],
            "accuracy": [0.9, 0.8, 0.5],
        }
    )
    plan = serves(
        ("shared", "main", "{}", "addmul"),
        ("shared", "betas", '{"beta":0.0001}', "beta_sweep"),
        ("own", "betas", '{"beta":0.001}', "beta_sweep"),
    )
    out = attribute({"evaluations": evaluations, "job_experiments": plan})["evaluations"]
    assert len(out) == 5
    betas = out[out["experiment"] == "betas"]
    assert sorted(betas["setting"]) == ['{"beta":0.0001}', '{"beta":0.0001}', '{"beta":0.001}']
    assert sorted(out[out["experiment"] == "main"]["accuracy"]) == [0.8, 0.9]


def test_rows_written_before_the_job_id_column_are_kept_as_written():
    evaluations = pd.DataFrame({"job_id": [None], "experiment": ["main"], "setting": ["{}"]})
    plan = serves(("other", "main", "{}", "addmul"), ("other", "x", "{}", None))
    out = attribute({"evaluations": evaluations, "job_experiments": plan})["evaluations"]
    assert out.to_dict("records") == evaluations.to_dict("records")


def test_roles_come_from_the_plan_and_experiments_without_one_have_none():
    plan = serves(("a", "main", "{}", "addmul"), ("b", "custom", "{}", None))
    assert roles({"job_experiments": plan}) == {"main": "addmul"}
    assert roles({}) == {}


def test_rows_of_jobs_the_latest_plan_does_not_list_are_left_out_and_counted():
    evaluations = pd.DataFrame(
        {"job_id": ["new", "old", ""], "experiment": ["main"] * 3, "setting": ["{}"] * 3}
    )
    runs = pd.DataFrame({"job_id": ["new", "old"], "status": ["done", "done"]})
    tables = {
        "evaluations": evaluations,
        "runs": runs,
        "job_experiments": serves(("new", "main", "{}", "addmul")),
    }
    out = attribute(tables)
    assert list(out["evaluations"]["job_id"]) == ["new", ""]
    assert stale_jobs(out) == {"old"}
