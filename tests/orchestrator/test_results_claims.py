"""`orchestrator results SWEEP --claims` on tiny Parquet tables: a 100-column table with
short statements and a per-claim headline; full statements and numbers on request."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from analysis.verdicts import SHORT_STATEMENTS, STATEMENTS
from orchestrator.cli import main
from orchestrator.settings import load_settings
from orchestrator.stores.results import write_rows
from orchestrator.stores.store import open_store

SWEEP = "claims"
SEEDS = (1, 2, 3)
# Long enough that the experiment column has to give way to fit 100 columns.
EXPERIMENT = "addmul_feedforward_network_with_a_rather_long_experiment_name_for_the_test"
OPS = ("add", "mul")
CONDITIONS = [("none", None, f) for f in OPS] + [
    (variant, mask, f) for variant in ("mask", "inverted") for mask in OPS for f in OPS
]


def accuracy(variant: str, mask: str | None, function: str) -> float:
    """A modular network: each mask solves its op only; its inverse breaks that op only."""
    if variant == "none":
        return 0.99
    return 0.97 if (mask == function) == (variant == "mask") else 0.03


def as_rows(table: str, records: list[dict]) -> list[BaseModel]:
    from analysis.schema import TABLES

    model = TABLES[table]
    return [model.model_validate(record) for record in records]


def write_sweep(finished: tuple[int, ...] = SEEDS) -> None:
    """An `addmul` experiment planned with SEEDS; the evaluate jobs of `finished` are done."""
    store = open_store(load_settings().artifact_root)
    common = {"sweep": SWEEP, "experiment": EXPERIMENT, "setting": "{}"}
    plan = [
        {**common, "job_id": f"evaluate{seed}", "kind": "evaluate", "seed": seed, "role": "addmul"}
        for seed in SEEDS
    ]
    write_rows(store, SWEEP, "job_experiments", "plan", as_rows("job_experiments", plan))
    for seed in finished:
        run = {**plan[seed - 1], "status": "done", "config_json": "{}"}
        write_rows(store, SWEEP, "runs", f"evaluate{seed}", as_rows("runs", [run]))
        evaluations = [
            {
                **common,
                "seed": seed,
                "train_job_id": f"train{seed}",
                "mask_job_id": None if target is None else f"fit-{target}-{seed}",
                "mask_target": target,
                "mask_variant": variant,
                "evaluated_function": function,
                "accuracy": accuracy(variant, target, function) + 0.002 * seed,
                "loss": 0.0,
                "samples": 100,
            }
            for variant, target, function in CONDITIONS
        ]
        write_rows(
            store, SWEEP, "evaluations", f"evaluate{seed}", as_rows("evaluations", evaluations)
        )


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(tmp_path / "ws"))


@pytest.fixture
def sweep(workspace):
    write_sweep()


def test_claims_fit_100_columns_with_short_statements_and_a_headline(sweep, capsys):
    assert main(["results", SWEEP, "--claims"]) == 0
    lines = capsys.readouterr().out.rstrip("\n").split("\n")
    assert max(len(line) for line in lines) <= 100
    assert lines[0].split() == ["claim", "statement", "experiment", "verdict", "seeds"]
    c1 = next(line for line in lines if line.startswith("C1 "))
    assert SHORT_STATEMENTS["C1"][:20] in c1 and "holds" in c1 and c1.endswith("3")
    assert "…" in c1  # the long experiment name gave way
    # C1, C2, C17 hold; C3, C4 and C15 (no overlaps, mask sizes or keep probabilities) not run.
    assert lines[-1] == "3 of 6 claims hold, 0 do not hold, 3 cannot be judged yet (3 not run)"


def test_claims_of_an_unfinished_experiment_are_incomplete(workspace, capsys):
    write_sweep(finished=(1, 2))
    assert main(["results", SWEEP, "--claims"]) == 0
    lines = capsys.readouterr().out.rstrip("\n").split("\n")
    c1 = next(line for line in lines if line.startswith("C1 "))
    assert "incomplete" in c1 and c1.endswith("2")
    assert lines[-1].endswith("6 cannot be judged yet (6 incomplete)")


def test_wide_claims_show_full_statements_and_numbers(sweep, capsys):
    assert main(["results", SWEEP, "--claims", "--wide", "--where", "claim=C1"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    flat = " ".join(out.split())
    assert STATEMENTS["C1"] in flat
    assert "(mean ± std [95% t-interval over 3 seeds])" in flat
    assert flat.endswith("1 of 1 claims hold, 0 do not hold")


def test_claims_as_json_carry_every_column(sweep, capsys):
    assert main(["results", SWEEP, "--claims", "--format", "json"]) == 0
    rows = {row["claim"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["C1"]["short"] == SHORT_STATEMENTS["C1"]
    assert rows["C1"]["statement"] == STATEMENTS["C1"]
    assert rows["C1"]["verdict"] == "holds" and rows["C1"]["seeds"] == 3
    assert "95% t-interval over 3 seeds" in rows["C1"]["numbers"]
