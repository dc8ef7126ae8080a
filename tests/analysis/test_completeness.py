"""No verdict from an unfinished experiment."""

from __future__ import annotations

import pandas as pd

from analysis.completeness import with_completeness
from analysis.verdicts import ClaimVerdict


def verdict(claim: str = "C1", seeds: int = 2, verdict: str = "holds") -> ClaimVerdict:
    return ClaimVerdict(
        claim=claim,
        statement="s",
        verdict=verdict,
        numbers="n",
        reason="r",
        seeds=seeds,
        experiment="main",
        setting="{}",
    )


def plan(seeds: list[int]) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        for kind in ("train", "fit", "evaluate"):
            rows.append(
                {
                    "job_id": f"{kind}{seed}",
                    "kind": kind,
                    "experiment": "main",
                    "setting": "{}",
                    "seed": seed,
                    "role": "addmul",
                }
            )
    return pd.DataFrame(rows)


def runs(done: list[str], failed: list[str] = ()) -> pd.DataFrame:
    return pd.DataFrame(
        [{"job_id": j, "status": "done"} for j in done]
        + [{"job_id": j, "status": "failed"} for j in failed]
    )


def test_a_finished_experiment_keeps_its_verdict():
    tables = {"job_experiments": plan([1, 2]), "runs": runs(list(plan([1, 2])["job_id"]))}
    (out,) = with_completeness([verdict()], tables, {})
    assert out.verdict == "holds"


def test_pending_and_failed_jobs_make_the_claim_incomplete_and_say_how_many():
    tables = {
        "job_experiments": plan([1, 2, 3]),
        "runs": runs(["train1", "fit1", "evaluate1", "train2", "fit2", "evaluate2"], ["train3"]),
    }
    (out,) = with_completeness([verdict()], tables, {})
    assert out.verdict == "incomplete"
    assert out.reason == (
        "incomplete (2 of 3 seeds; 2 of 9 jobs pending, 1 of 9 jobs failed); so far: holds"
    )


def test_fewer_seeds_with_numbers_than_planned_is_incomplete():
    tables = {"job_experiments": plan([1, 2]), "runs": runs(list(plan([1, 2])["job_id"]))}
    (out,) = with_completeness([verdict(seeds=1)], tables, {})
    assert (out.verdict, out.reason) == ("incomplete", "incomplete (1 of 2 seeds); so far: holds")


def test_a_declared_experiment_without_rows_lists_each_claim_of_its_role():
    tables = {"job_experiments": plan([1]), "runs": runs([])}
    out = with_completeness([], tables, {"main": "addmul"})
    assert [v.claim for v in out] == ["C1", "C2", "C3", "C4", "C15", "C17"]
    assert {v.verdict for v in out} == {"incomplete"}
    assert out[0].reason == "incomplete (0 of 1 seeds; 3 of 3 jobs pending)"
    assert "no add/mul experiment" not in out[0].reason
