"""A tiny add/mul sweep through real Ray, a real MLflow SQLite store and Parquet."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.dataset as ds
import pytest
import yaml
from mlflow.tracking import MlflowClient
from support.sweeps import tiny_sweep_data

from analysis.schema import TABLES
from orchestrator.cli import main
from orchestrator.cli.analyze import analyze, load_tables
from orchestrator.execution.submit import submit
from orchestrator.planning.plan import plan_sweep
from orchestrator.stores.outputs import TABLES_WRITTEN, expected_outputs
from orchestrator.stores.results import read_table
from orchestrator.stores.store import open_store
from orchestrator.sweep.spec import SweepSpec


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory, ray_cluster):
    from orchestrator.settings import Settings

    settings = Settings(
        workspace=tmp_path_factory.mktemp("e2e") / "ws", include_dashboard=False
    ).resolved()
    data = tiny_sweep_data("e2e")
    data["experiments"][0]["evaluation"]["variants"] = ["half_mask"]  # E10
    plan = plan_sweep(SweepSpec.model_validate(data))
    summary = submit(plan, settings, "ray")
    return settings, plan, summary


def test_every_job_ran_once_on_ray(finished_sweep):
    settings, plan, summary = finished_sweep
    assert summary.ok and summary.done == len(plan.jobs) == 10
    runs = load_tables(settings, "e2e")["runs"]
    assert sorted(runs["job_id"]) == sorted(j.id for j in plan.jobs)
    assert set(runs["status"]) == {"done"}


def test_mlflow_has_a_parent_and_one_child_run_per_job(finished_sweep):
    settings, plan, summary = finished_sweep
    client = MlflowClient(settings.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name("e2e")
    runs = client.search_runs([experiment.experiment_id])
    children = [r for r in runs if r.data.tags.get("job_id")]
    assert len(children) == len(plan.jobs)
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {summary.parent_run_id}
    assert all(r.info.status == "FINISHED" for r in children)
    fit = next(r for r in children if r.data.tags["kind"] == "fit")
    assert fit.data.params["mask_fit.mask_samples_per_step"] == "4"
    assert fit.data.tags["seed"] in {"1", "2"}
    history = client.get_metric_history(fit.info.run_id, "kept_fraction")
    assert [m.step for m in history] == [4, 8, 12]
    artifacts = [a.path for a in client.list_artifacts(fit.info.run_id)]
    assert artifacts == ["mask.safetensors"]
    train = next(r for r in children if r.data.tags["kind"] == "train")
    assert [a.path for a in client.list_artifacts(train.info.run_id)] == ["model.safetensors"]


def test_tables_hold_every_evaluation_mask_layer_and_overlap(finished_sweep):
    settings, _, _ = finished_sweep
    tables = load_tables(settings, "e2e")
    evaluations = tables["evaluations"]
    # per seed: base x 3 functions + 3 masks x {mask, inverted} x 3 functions
    # per seed: base x 3 functions + 3 masks x 3 functions x (mask, inverted, io-kept inverse,
    # 3 draws x (random, random io-kept)) + 2 half masks of the control x 3 functions
    assert len(evaluations) == 2 * (3 + 3 * 3 * (3 + 3 * 2) + 2 * 3)
    assert len(tables["fit_curves"]) == 2 * 3 * 3  # seeds x masks x logging points
    assert evaluations["accuracy"].between(0, 1).all()
    layers = tables["mask_layers"]
    assert len(layers) == 2 * 3 * 3  # seeds x masks x weight matrices (biases not masked)
    assert set(layers["layer"]) == {"0.weight", "2.weight", "4.weight"}
    assert (
        layers["total"]
        == layers["layer"].map({"0.weight": 16 * 42, "2.weight": 256, "4.weight": 320})
    ).all()
    overlaps = tables["mask_overlaps"]
    assert len(overlaps) == 2 * 3 * 3  # seeds x pairs x layers
    assert (overlaps["both"] <= overlaps[["kept_a", "kept_b"]].min(axis=1)).all()
    sharing = tables["mask_sharing"]  # add and mul (not the control) x layers, per seed
    assert len(sharing) == 2 * 2 * 3 and set(sharing["target_function"]) == {"add", "mul"}
    pairs = overlaps[(overlaps["function_a"] == "add") & (overlaps["function_b"] == "mul")]
    add = sharing[sharing["target_function"] == "add"]
    # with one other mask, the union is that mask: shared = the pair's "both"
    merged = add.merge(pairs, on=["seed", "layer"])
    assert (merged["shared"] == merged["both"]).all() and (merged["kept"] == merged["kept_a"]).all()
    confusion = tables["op_confusion"]
    # per seed: (base + 3 masks x (mask, inverted)) x 2 true ops x (sum, product, neither)
    assert len(confusion) == 2 * (1 + 3 * 2) * 2 * 3
    assert set(confusion["answer_matches"]) == {"sum", "product", "neither"}
    base = confusion[(confusion["mask_variant"] == "none") & (confusion["true_op"] == "add")]
    base_accuracy = evaluations[
        (evaluations["mask_variant"] == "none") & (evaluations["evaluated_function"] == "add")
    ].set_index("seed")["accuracy"]
    # on add samples, answering the sum is being right
    sums = base[base["answer_matches"] == "sum"].set_index("seed")["fraction"]
    assert sums.sort_index().to_numpy() == pytest.approx(base_accuracy.sort_index().to_numpy())


def test_report_shows_sharing_and_accuracy_averaged_over_seeds(finished_sweep):
    settings, _, _ = finished_sweep
    report, verdicts = analyze(settings, "e2e")
    assert {v.claim for v in verdicts} >= {"C1", "C2", "C3", "C4"}
    text = report.read_text()
    assert "Weight sharing between the add and mul masks" in text
    assert "Seeds: 2." in text and "not-add" in text
    images = [
        line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")
    ]
    assert len(images) >= 3  # sharing, accuracy, keep-probability histogram
    assert all((report.parent / image).is_file() for image in images)
    html = (report.parent / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(images)
    assert "random-add" in text and "IoU chance" in text and "The paper's claims" in text
    assert "Shared proportion per layer" in text
    assert "Op confusion: is the answer the sum, the product or neither?" in text
    assert "Half-mask test: control mask on half of the layers" in text and "drop (pp)" in text
    tables = load_tables(settings, "e2e")
    overlaps = tables["mask_overlaps"]
    first = overlaps[
        (overlaps["function_a"] == "add")
        & (overlaps["function_b"] == "mul")
        & (overlaps["layer"] == "0.weight")
    ]
    iou = (first["both"] / (first["kept_a"] + first["kept_b"] - first["both"])).mean()
    csv = (report.parent / "tables").glob("*sharing_add_mul.csv")
    import pandas as pd

    sharing = pd.read_csv(next(csv))
    assert sharing.loc[sharing["layer"] == "0.weight", "iou_mean"].item() == pytest.approx(iou)


def test_pandas_pyarrow_and_duckdb_read_every_table_folder_directly(finished_sweep):
    settings, _, _ = finished_sweep
    duckdb = pytest.importorskip("duckdb")  # in the `test` extra
    store = open_store(settings.artifact_root)
    folders = list((settings.workspace / "artifacts" / "e2e" / "results").iterdir())
    # transfer and search jobs write the other two (test_transfer_job, test_search_job)
    assert {folder.name for folder in folders} == set(TABLES) - {
        "transfer_sharing",
        "search_trials",
    }
    for folder in folders:
        rows = read_table(store, "e2e", folder.name).num_rows
        assert len(pd.read_parquet(folder)) == rows, folder.name
        assert ds.dataset(folder).count_rows() == rows, folder.name
        query = f"select count(*) from read_parquet('{folder}/*')"
        assert duckdb.connect().execute(query).fetchone() == (rows,), folder.name


def test_jobs_wrote_exactly_the_outputs_that_make_them_done(finished_sweep):
    settings, plan, _ = finished_sweep
    root = settings.workspace / "artifacts"
    job_tables = {table for tables in TABLES_WRITTEN.values() for table in tables} | {"runs"}
    written = {
        path.relative_to(root).as_posix()
        for pattern in [f"e2e/results/{table}/*" for table in job_tables]
        + ["e2e/jobs/*/*.safetensors"]
        for path in root.glob(pattern)
    }
    expected = {key for job in plan.jobs for key in expected_outputs("e2e", job.id, job.kind)}
    assert written == expected | {f"e2e/results/runs/{job.id}.parquet" for job in plan.jobs}


def test_resubmitting_skips_finished_jobs(finished_sweep):
    settings, plan, _ = finished_sweep
    again = submit(plan, settings, "local")
    assert again.skipped == len(plan.jobs) and again.done == 0


def test_cli_submit_and_analyze_with_local_executor(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(tmp_path / "ws"))
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_sweep_data("cli", seeds=(3,))))
    assert main(["submit", str(path), "--executor", "local"]) == 0
    assert "5 done, 0 failed" in capsys.readouterr().out.replace("\n", " ")
    assert main(["analyze", "cli"]) == 0
    assert (tmp_path / "ws" / "reports" / "cli" / "report.md").is_file()
    capsys.readouterr()
    where = ["--where", "kind=fit", "--columns", "kind,status", "--format", "json"]
    assert main(["results", "cli", *where]) == 0
    assert json.loads(capsys.readouterr().out) == [{"kind": "fit", "status": "done"}] * 3
    assert (
        main(
            [
                "results",
                "cli",
                "--table",
                "evaluations",
                "--where",
                "accuracy>1.5",
                "--format",
                "csv",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip().count("\n") == 0  # header only: no accuracy above 1
    assert main(["results", "cli", "--claims", "--format", "json"]) == 0
    claims = {row["claim"]: row["verdict"] for row in json.loads(capsys.readouterr().out)}
    assert {"C1", "C2", "C3", "C4", "C15", "C17"} <= set(claims)
    assert claims["C1"] == "unclear"  # one seed: spread unknown
    assert main(["results", "cli", "--where", "nosuch=1"]) == 2
    assert "no column 'nosuch'" in capsys.readouterr().err
    runs = json.loads(
        json.dumps(
            sorted(
                p.name
                for p in (tmp_path / "ws" / "artifacts" / "cli" / "results" / "runs").glob(
                    "*.parquet"
                )
            )
        )
    )
    assert len(runs) == 5
