"""`check_claims` (analysis/claims/check.py) on a sweep's tables: only experiments with a
declared role are judged, a declared experiment without rows is not run, Parquet tables as
the orchestrator writes them, and several experiments' claims in one sweep."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
from support import addmul_rows
from support.addmul_rows import ADDMUL_ROLE, EXPERIMENT, addmul_tables
from support.claim_rows import by_claim, confusions, evaluations, stability, transfer

from analysis.claims import check_claims
from analysis.claims.spanning import KEEP_PROBABILITY_MASS_TABLE
from analysis.schema import TABLES, to_arrow


def test_check_claims_judges_only_experiments_with_a_declared_role():
    """Add/mul rows alone make no claim: the role comes from the sweep file, not the data."""
    assert check_claims(addmul_tables(), roles={}) == []
    assert check_claims(addmul_tables(), roles={EXPERIMENT: "size_sweep"}) == []


def test_check_claims_not_run_for_a_declared_experiment_without_rows():
    frame = addmul_rows.evaluations()
    tables = {"evaluations": frame[frame["experiment"] != EXPERIMENT]}
    verdicts = check_claims(tables, ADDMUL_ROLE)
    assert {v.verdict for v in verdicts} == {"not run"}
    assert {v.claim for v in verdicts} == {"C1", "C2", "C3", "C4", "C15", "C17"}
    assert {v.experiment for v in verdicts} == {EXPERIMENT}


def test_check_claims_reads_parquet_tables(tmp_path):
    """Tables as the orchestrator writes them: rows -> Arrow -> Parquet -> pandas."""
    tables = {}
    for name, frame in addmul_tables().items():
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        rows = [TABLES[name].model_validate(record) for record in records]
        pq.write_table(to_arrow(name, rows), tmp_path / f"{name}.parquet")
        tables[name] = pd.read_parquet(tmp_path / f"{name}.parquet")
    tables[KEEP_PROBABILITY_MASS_TABLE] = pd.DataFrame()
    verdicts = {v.claim: v.verdict for v in check_claims(tables, ADDMUL_ROLE)}
    assert verdicts == {
        "C1": "holds",
        "C2": "holds",
        "C3": "holds",
        "C4": "holds",
        "C15": "not run",
        "C17": "holds",
    }


def test_check_claims_judges_math_cifar_stability_and_transfer():
    sharing, _ = transfer({2.0: 0.2, 0.0: 0.4, -1.0: 0.6})
    with_dropout = json.dumps({"model.dropout": True})
    tables = {
        "evaluations": evaluations(
            {("mask", "all", "hard"): 0.6, ("mask", "easy", "hard"): 0.1}, "math_sort"
        ),
        "confusions": pd.concat(
            [confusions(), confusions(setting=with_dropout)], ignore_index=True
        ),
        "mask_overlaps": stability(400),
        "transfer_sharing": sharing,
    }
    roles = {
        "math_sort": "mathematics",
        "cifar": "class_removal",
        "stability": "mask_stability",
        "transfer": "transfer",
    }
    verdicts = check_claims(tables, roles)
    assert by_claim(verdicts, "math_sort")["C10"].verdict == "holds"
    cifar = [(v.claim, v.setting, v.verdict) for v in verdicts if v.experiment == "cifar"]
    assert cifar == [
        ("C11", "{}", "holds"),
        ("C12", "{}", "holds"),
        ("C11", with_dropout, "not run"),
        ("C12", with_dropout, "holds"),
    ]
    assert by_claim(verdicts, "stability")["C13"].verdict == "holds"
    c16 = by_claim(verdicts, "transfer")["C16"]
    assert (c16.verdict, c16.setting) == ("holds", "{}")
