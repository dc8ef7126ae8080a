"""A composed sweep loses nothing: a job that several included files plan runs once and
serves each of them, in the plan, in `status`, and in the analysis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.sweeps import REPO, tiny_sweep_data

from analysis.claims import check_claims
from analysis.report import write_report
from orchestrator.cli import main
from orchestrator.cli.analyze import load_tables
from orchestrator.cli.status import sweep_status
from orchestrator.execution.submit import submit
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import load_sweep

SWEEPS = REPO / "configs" / "sweeps"
BETA_KEY = "mask_fit.regularization_weight"


def served(plan) -> dict[str, dict[str, set[str]]]:
    """experiment -> job id -> the settings the job serves in that experiment."""
    found: dict[str, dict[str, set[str]]] = {}
    for job in plan.jobs:
        for attribution in job.attributions():
            found.setdefault(attribution.experiment, {}).setdefault(job.id, set()).add(
                attribution.setting
            )
    return found


def test_full_paper_gives_every_experiment_every_job_of_its_own_file():
    full = served(plan_sweep(load_sweep(SWEEPS / "full_paper.yaml")))
    included = yaml.safe_load((SWEEPS / "full_paper.yaml").read_text())["include"]
    for name in included:
        alone = served(plan_sweep(load_sweep(SWEEPS / name)))
        for experiment, jobs in alone.items():
            for job_id, settings in jobs.items():
                assert settings <= full[experiment].get(job_id, set()), (name, experiment, job_id)


def test_full_paper_beta_sweep_keeps_the_papers_chosen_beta():
    plan = plan_sweep(load_sweep(SWEEPS / "full_paper.yaml"))
    betas = {
        json.loads(a.setting).get(BETA_KEY)
        for job in plan.jobs
        for a in job.attributions()
        if a.experiment == "beta_sensitivity" and job.kind == "evaluate"
    }
    assert len(betas) == 25 and 1e-4 in betas
    shared = [
        job
        for job in plan.jobs
        if job.kind == "evaluate"
        and {a.experiment for a in job.attributions()} >= {"addmul_ff", "beta_sensitivity"}
    ]
    assert shared, "the beta = 1e-4 point is the main add/mul experiment's job"
    assert plan.counts()["sharing_vs_size"]["fit"] == 120


def composed_files(folder: Path) -> dict[str, Path]:
    """main.yaml (add/mul, beta 1e-4), betas.yaml (beta 1e-4 and 1e-3, the same network)
    and both.yaml including the two: the beta = 1e-4 jobs coincide."""
    main_data = tiny_sweep_data("main")
    main_data["experiments"][0]["mask_fit"]["regularization_weight"] = 1e-4
    betas = tiny_sweep_data("betas")
    experiment = betas["experiments"][0]
    experiment.update(name="beta_sweep", role="beta_sweep")
    experiment["grid"] = {BETA_KEY: [1e-4, 1e-3], "seed": [1, 2]}
    files = {"main": main_data, "betas": betas}
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.yaml"
        paths[name].write_text(yaml.safe_dump(data))
    paths["both"] = folder / "both.yaml"
    paths["both"].write_text(
        yaml.safe_dump({"name": "both", "include": ["main.yaml", "betas.yaml"]})
    )
    return paths


def test_plan_json_and_table_show_every_experiment_a_job_serves(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    paths = composed_files(tmp_path)
    assert main(["plan", str(paths["both"]), "--format", "json"]) == 0
    jobs = json.loads(capsys.readouterr().out)["jobs"]
    shared = [job for job in jobs if len(job["serves"]) > 1]
    # seed 1 and 2: the train job serves 3 points, the beta = 1e-4 fits and evaluation 2
    assert {job["kind"] for job in shared} == {"train", "fit", "evaluate"}
    evaluate = next(job for job in shared if job["kind"] == "evaluate")
    assert [s["experiment"] for s in evaluate["serves"]] == ["addmul_ff", "beta_sweep"]
    assert json.loads(evaluate["serves"][1]["setting"]) == {BETA_KEY: 1e-4}
    assert main(["plan", str(paths["both"])]) == 0
    table = capsys.readouterr().out
    assert "beta_sweep" in table and "addmul_ff" in table
    assert "addmul_ff: 2 train, 6 fit, 2 evaluate" in table
    assert "beta_sweep: 2 train, 12 fit, 4 evaluate" in table  # the shared ones included


@pytest.mark.slow
def test_composed_sweep_analysis_equals_each_file_run_alone(tmp_path, ray_cluster):
    from orchestrator.settings import Settings

    paths = composed_files(tmp_path)
    verdicts, sections = {}, {}
    for name in ("both", "main", "betas"):
        settings = Settings(workspace=tmp_path / f"ws-{name}", include_dashboard=False).resolved()
        plan = plan_sweep(load_sweep(paths[name]))
        assert submit(plan, settings, "ray").ok
        tables = load_tables(settings, plan.sweep)
        found = check_claims(tables)
        verdicts[name] = {
            (v.claim, v.experiment, v.setting): (v.verdict, v.numbers, v.seeds) for v in found
        }
        write_report(tables, tmp_path / f"report-{name}", plan.sweep, found)
        text = (tmp_path / f"report-{name}" / "report.md").read_text()
        sections[name] = {line for line in text.splitlines() if line.startswith("## ")}
        if name == "both":
            jobs = sweep_status(settings, plan.sweep)["jobs"]
            assert {s["experiment"] for job in jobs for s in job["serves"]} == {
                "addmul_ff",
                "beta_sweep",
            }
            assert all(job["state"] == "done" for job in jobs)
    assert verdicts["both"] == {**verdicts["main"], **verdicts["betas"]}
    claims = {claim for claim, _, _ in verdicts["both"]}
    assert {"C1", "C14"} <= claims
    assert sections["both"] >= sections["main"] | sections["betas"]
