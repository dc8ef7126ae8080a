"""The results page from small hand-built tables: what a reader must find on it."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from support.addmul_rows import evaluations
from support.claim_rows import SEEDS

from analysis.publish import PIPELINE_CHECK, Provenance, cost_table, write_page
from analysis.schema import TABLES, JobExperimentRow, RunRow, arrow_schema

DIFFERS = "FNN 4x256 instead of 4x2000, to fit 2 CPU cores."


def empty(name: str) -> pd.DataFrame:
    return arrow_schema(TABLES[name]).empty_table().to_pandas()


def sweep_tables() -> dict[str, pd.DataFrame]:
    """addmul_ff (3 seeds, 60 s train jobs, the seed-1 job also serving addmul_beta) and a
    CIFAR-10 pipeline check with one 30 s job."""
    tables = {name: empty(name) for name in TABLES}
    tables["evaluations"] = evaluations()  # a modular add/mul network, experiment addmul_ff
    runs = [("addmul_ff", f"train{seed}", seed, 60.0) for seed in SEEDS]
    runs.append(("cifar10_simple", "cifar", 1, 30.0))
    tables["runs"] = pd.DataFrame(
        [
            RunRow(
                sweep="s",
                job_id=job_id,
                kind="train",
                experiment=experiment,
                setting="{}",
                seed=seed,
                status="done",
                config_json="{}",
                started_at=1000.0 + 100 * index,
                finished_at=1000.0 + 100 * index + duration,
                duration_s=duration,
            ).model_dump()
            for index, (experiment, job_id, seed, duration) in enumerate(runs)
        ]
    )
    serves = [("addmul_ff", f"train{seed}", seed, "addmul", DIFFERS, False) for seed in SEEDS] + [
        ("addmul_beta", "train1", 1, "beta_sweep", None, False),
        ("cifar10_simple", "cifar", 1, "class_removal", "Ten images.", True),
    ]
    tables["job_experiments"] = pd.DataFrame(
        [
            JobExperimentRow(
                sweep="s",
                job_id=job_id,
                kind="train",
                experiment=experiment,
                setting="{}",
                seed=seed,
                role=role,
                differs_from_paper=differs,
                pipeline_check=check,
            ).model_dump()
            for experiment, job_id, seed, role, differs, check in serves
        ]
    )
    return tables


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("docs") / "results.md"
    provenance = Provenance("abc123def", "2026-12-01 18:00 UTC", "orchestrator analyze s")
    write_page(sweep_tables(), path, "s", provenance)
    return path


def test_page_opens_with_commit_date_and_the_claims_table(page):
    text = page.read_text()
    assert text.startswith("# Results: s")
    assert "commit `abc123def`" in text and "2026-12-01 18:00 UTC" in text
    assert "## The paper's claims" in text and "claims hold" in text
    assert "| C1 | Each op's mask keeps its op and drops the other | holds" in text


def test_page_has_a_section_per_experiment_with_its_differs_text(page):
    text = page.read_text()
    for heading in (
        "## addmul_ff (addmul)",
        "## addmul_beta (beta_sweep)",
        "## cifar10_simple (class_removal)",
    ):
        assert heading in text
    addmul = text.split("## addmul_ff (addmul)")[1].split("\n## ")[0]
    assert DIFFERS in addmul
    assert "Each op's mask keeps that op near the base model's accuracy" in addmul
    beta = text.split("## addmul_beta (beta_sweep)")[1].split("\n## ")[0]
    assert "Not stated" in beta


def test_pipeline_check_is_labelled_in_its_section_and_its_claim_rows(page):
    text = page.read_text()
    cifar = text.split("## cifar10_simple (class_removal)")[1].split("\n## ")[0]
    assert f"**{PIPELINE_CHECK}**" in cifar and "Ten images." in cifar
    claims = text.split("## Wall time and cost")[0]
    assert f"| cifar10_simple ({PIPELINE_CHECK}) |" in claims  # its C11/C12 verdict rows
    assert "| cifar10_simple |" not in claims
    assert "3 of 7 claims hold" in claims  # C1-C4, C14, C15, C17; the check's C11, C12 not
    addmul = text.split("## addmul_ff (addmul)")[1].split("\n## ")[0]
    assert PIPELINE_CHECK not in addmul


def test_every_referenced_figure_exists_beside_the_page(page):
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text())
    assert figures and all(f.startswith("results/figures/") for f in figures)
    assert all((page.parent / f).is_file() for f in figures)


def test_wall_time_counts_a_shared_job_under_each_experiment_and_once_in_total(page):
    frame = cost_table(sweep_tables()).set_index("experiment")
    assert frame.loc["addmul_ff", "compute (job-minutes)"] == "3.0"  # 3 x 60 s
    assert frame.loc["addmul_beta", "compute (job-minutes)"] == "1.0"  # shared train1
    assert frame.loc["all (each job once)", "jobs"] == 4
    assert frame.loc["all (each job once)", "compute (job-minutes)"] == "3.5"  # 210 s
    # first start 1000 s, last finish 1300 + 30 s
    assert frame.loc["all (each job once)", "wall span (minutes)"] == "5.5"
    assert "## Wall time and cost" in page.read_text()
