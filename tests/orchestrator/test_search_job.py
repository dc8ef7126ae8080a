"""A mask-fit search through the real product: the sweep file's `search:`, the train job, a
real Ray Tune run of real fits, MLflow child runs, the Parquet table, `search-result`."""

from __future__ import annotations

import json
import signal

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pytest
import yaml
from mlflow.tracking import MlflowClient
from support.sweep_processes import start_submit, wait_for, write_sweep
from support.sweeps import tiny_sweep_data

from orchestrator.cli import main
from orchestrator.cli.analyze import load_tables
from orchestrator.execution.submit import submit
from orchestrator.planning.plan import plan_sweep
from orchestrator.settings import Settings
from orchestrator.sweep.spec import SweepSpec, load_sweep

TRIALS = 6
RESULT_COLUMNS = ["trial_id", "values_json", "steps", "stopped_early", "kept_fraction"]


def search_sweep(name: str, trials: int = TRIALS, concurrent: int = 1) -> dict:
    """The tiny add/mul sweep, one seed, searching beta and the mask learning rate over
    ranges wide enough that some trials fall far behind (ASHA stops those)."""
    data = tiny_sweep_data(name, seeds=(1,))
    experiment = data["experiments"][0]
    experiment.pop("role")
    experiment["name"] = "addmul_search"
    experiment["training"]["steps"] = 200
    experiment["mask_fit"].update(steps=40, log_every=10)
    experiment["resources"] = {"fit": {"cpus": 0.5}}
    experiment["search"] = {
        "space": {
            "mask_fit.regularization_weight": {"loguniform": [1e-5, 1e-1]},
            "mask_fit.learning_rate": {"loguniform": [1e-3, 0.3]},
        },
        "target_function": "add",
        "objective": {"within": 0.05},
        "trials": trials,
        "scheduler": {"name": "asha", "grace_steps": 10, "reduction_factor": 2},
        "max_concurrent_trials": concurrent,
        "seed": 7,
    }
    return data


def run_search(workspace):
    settings = Settings(workspace=workspace, include_dashboard=False).resolved()
    plan = plan_sweep(SweepSpec.model_validate(search_sweep("search")))
    summary = submit(plan, settings, "ray")
    assert summary.ok, summary.failed
    return settings, plan


@pytest.fixture(scope="module")
def searched(tmp_path_factory, ray_cluster):
    """One search of the tiny sweep: (settings, plan)."""
    return [run_search(tmp_path_factory.mktemp("first"))]


def test_a_search_plans_a_train_and_a_search_job_and_no_fits():
    plan = plan_sweep(SweepSpec.model_validate(search_sweep("plan")))
    assert [job.kind for job in plan.jobs] == ["train", "search"]
    search = plan.jobs[1]
    assert search.depends_on == (plan.jobs[0].id,)
    assert search.config.target_function == "add"


def test_every_trial_is_a_parquet_row_and_an_mlflow_child_run(searched):
    settings, plan = searched[0]
    tables = load_tables(settings, "search")
    trials = tables["search_trials"]
    assert sorted(trials["trial_id"]) == [f"trial_{i:04d}" for i in range(TRIALS)]
    assert trials["best"].sum() == 1
    finished = trials[~trials["stopped_early"]]
    assert trials["masked_accuracy"].notna().all()
    folder = settings.workspace / "artifacts" / "search" / "results" / "search_trials"
    assert len(pd.read_parquet(folder)) == ds.dataset(folder).count_rows() == TRIALS
    query = f"select count(*) from read_parquet('{folder}/*')"
    assert duckdb.connect().execute(query).fetchone() == (TRIALS,)
    assert finished["feasible"].notna().all()
    assert trials[trials["stopped_early"]]["feasible"].isna().all()
    assert set(json.loads(trials["values_json"].iloc[0])) == {
        "mask_fit.regularization_weight",
        "mask_fit.learning_rate",
    }
    client = MlflowClient(settings.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name("search")
    search_run = client.search_runs(
        [experiment.experiment_id], filter_string="tags.kind = 'search'"
    )[0]
    children = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{search_run.info.run_id}'",
    )
    assert sorted(r.data.tags["trial"] for r in children) == sorted(trials["trial_id"])
    for run in children:
        assert {"regularization_weight", "learning_rate"} <= {
            key.rsplit(".", 1)[-1] for key in run.data.params
        }
        history = client.get_metric_history(run.info.run_id, "kept_fraction")
        assert [m.step for m in history][:2] == [10, 20]
    best = trials[trials["best"]].iloc[0]
    assert search_run.data.tags["best_trial"] == best["trial_id"]


def test_asha_stops_at_least_one_trial_early(searched):
    settings, _ = searched[0]
    trials = load_tables(settings, "search")["search_trials"]
    stopped = trials[trials["stopped_early"]]
    assert len(stopped) >= 1 and (stopped["steps"] < 40).all()
    assert not trials[trials["best"]]["stopped_early"].any()


@pytest.mark.slow
def test_the_same_seeds_give_the_same_search(searched, tmp_path):
    again = run_search(tmp_path / "again")
    frames = [
        load_tables(settings, "search")["search_trials"]
        .sort_values("trial_id")[[*RESULT_COLUMNS, "masked_accuracy", "best"]]
        .reset_index(drop=True)
        for settings, _ in (*searched, again)
    ]
    assert frames[0].equals(frames[1])


def test_search_result_prints_the_best_values_and_writes_an_includable_file(
    searched, tmp_path, monkeypatch, capsys
):
    settings, _ = searched[0]
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(settings.workspace))
    written = tmp_path / "best.yaml"
    capsys.readouterr()
    assert main(["search-result", "search", "--write", str(written)]) == 0
    printed = capsys.readouterr().out
    trials = load_tables(settings, "search")["search_trials"]
    best = trials[trials["best"]].iloc[0]
    values = json.loads(best["values_json"])
    block = yaml.safe_load(printed)
    assert block["mask_fit"] == {
        "learning_rate": values["mask_fit.learning_rate"],
        "regularization_weight": values["mask_fit.regularization_weight"],
    }
    assert best["trial_id"] in printed
    follow_up = tmp_path / "follow_up.yaml"
    follow_up.write_text(yaml.safe_dump({"name": "follow", "include": "best.yaml"}))
    experiment = load_sweep(follow_up).experiments[0]
    assert experiment.search is None
    assert experiment.mask_fit.regularization_weight == values["mask_fit.regularization_weight"]
    assert experiment.mask_fit.learning_rate == values["mask_fit.learning_rate"]


def test_the_report_draws_masked_accuracy_against_kept_fraction(searched):
    from orchestrator.cli.analyze import analyze

    settings, _ = searched[0]
    report, _ = analyze(settings, "search")
    text = report.read_text()
    assert "## Mask-fit searches" in text
    figures = sorted((report.parent / "figures").glob("search_*.png"))
    assert len(figures) == 1 and figures[0].stat().st_size > 5_000
    assert f"figures/{figures[0].name}" in text
    trials = load_tables(settings, "search")["search_trials"]
    best = trials[trials["best"]].iloc[0]
    assert f"Chosen: {best['trial_id']}" in text


def test_a_sweep_without_a_search_says_so_in_one_line(settings, monkeypatch, capsys):
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(settings.workspace))
    plan = plan_sweep(SweepSpec.model_validate(tiny_sweep_data("nosearch", seeds=(1,))))
    assert submit(plan, settings, "local").ok
    capsys.readouterr()
    assert main(["search-result", "nosearch"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: no search results") and "\n" not in error


@pytest.mark.slow
def test_a_driver_killed_mid_search_resumes_without_rerunning_finished_trials(tmp_path):
    data = search_sweep("killed", trials=6)
    data["experiments"][0]["mask_fit"]["steps"] = 200  # each trial takes a few seconds
    data["experiments"][0]["search"]["scheduler"] = {"name": "none"}
    sweep_file = write_sweep(tmp_path, data)
    workspace = tmp_path / "ws"
    trials_folder = workspace / "artifacts" / "killed" / "jobs"
    env = {"TUNE_GLOBAL_CHECKPOINT_S": "0"}  # Tune saves its state after every event

    def finished_trials():
        return sorted(trials_folder.glob("*/trials/*/mask.safetensors"))

    process = start_submit(sweep_file, workspace, **env)
    wait_for(lambda: len(finished_trials()) >= 3, timeout_s=300, what="three finished trials")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    before = {path: path.stat().st_mtime_ns for path in finished_trials()[:-1]}  # the last
    # may have been killed between saving its mask and reporting it
    process = start_submit(sweep_file, workspace, **env)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    assert {path: path.stat().st_mtime_ns for path in before} == before  # none ran again
    settings = Settings(workspace=workspace).resolved()
    trials = load_tables(settings, "killed")["search_trials"]
    assert sorted(trials["trial_id"]) == [f"trial_{i:04d}" for i in range(6)]
    assert not trials["stopped_early"].any()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"space": {"mask_fit.no_such_field": {"uniform": [0, 1]}}},
            "'mask_fit.no_such_field' is not a searchable field",
        ),
        ({"space": {}}, "search.space is empty"),
        ({"objective": {"keep": "f1_score"}}, "objective.keep: unknown metric 'f1_score'"),
        ({"objective": {"minimize": "loss"}}, "objective.minimize: unknown metric 'loss'"),
        (
            {"space": {"mask_fit.learning_rate": {"loguniform": [0.0, 0.1]}}},
            "loguniform needs 0 < low < high",
        ),
        ({"target_function": "div"}, "search.target_function: unknown target function 'div'"),
        ({"trials": 0}, "trials"),
    ],
)
def test_a_bad_search_spec_exits_2_with_one_line(tmp_path, capsys, change, message):
    data = search_sweep("bad")
    data["experiments"][0]["search"].update(change)
    sweep_file = write_sweep(tmp_path, data)
    capsys.readouterr()
    assert main(["plan", str(sweep_file)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "Traceback" not in error, error
    assert error.startswith("error: ") and str(sweep_file) in error, error
    assert message in error, error


@pytest.mark.slow
def test_cancel_stops_a_running_search_and_a_resubmission_finishes_it(tmp_path, ray_cluster):
    import threading
    import time

    from orchestrator.stores.control import set_cancelled
    from orchestrator.stores.store import open_store

    data = search_sweep("cancelsearch", trials=4)
    data["experiments"][0]["mask_fit"].update(steps=1500, log_every=50)  # ~10 s a trial
    data["experiments"][0]["search"]["scheduler"] = {"name": "none"}
    settings = Settings(workspace=tmp_path / "ws", include_dashboard=False).resolved()
    store = open_store(settings.artifact_root)
    plan = plan_sweep(SweepSpec.model_validate(data))
    result = {}
    thread = threading.Thread(target=lambda: result.update(summary=submit(plan, settings, "ray")))
    thread.start()
    search = plan.jobs[1]
    tune_state = settings.workspace / "artifacts" / "cancelsearch" / "jobs" / search.id / "tune"
    deadline = time.monotonic() + 180
    while not list(tune_state.glob("tune/trial_0000/result.json")):  # a trial is fitting
        assert time.monotonic() < deadline, "no trial ever reported"
        time.sleep(0.5)
    set_cancelled(store, "cancelsearch", True)
    thread.join(timeout=90)
    assert not thread.is_alive(), "the search did not stop within 90 s of the cancel"
    summary = result["summary"]
    assert summary.done == 1 and summary.cancelled == 1  # train done, search stopped
    assert list(load_tables(settings, "cancelsearch")["runs"]["kind"]) == ["train"]

    again = submit(plan, settings, "ray")  # clears the cancel; Tune reruns the stopped trials
    assert again.ok and again.skipped == 1 and again.done == 1
    trials = load_tables(settings, "cancelsearch")["search_trials"]
    assert sorted(trials["trial_id"]) == [f"trial_{i:04d}" for i in range(4)]
    assert (trials["steps"] == 1500).all() and trials["error"].isna().all()
