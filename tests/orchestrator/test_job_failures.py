"""A failing job is recorded, its dependents too; the sweep goes on; --retry-failed reruns them."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from support.sweep_processes import write_sweep
from support.sweeps import tiny_sweep_data

from orchestrator.cli import main
from orchestrator.cli.analyze import load_tables
from orchestrator.planning.plan import plan_sweep
from orchestrator.settings import Settings
from orchestrator.sweep.spec import load_sweep


def _diverging_sweep(name: str) -> dict:
    """Two settings: SGD at a sane learning rate, and at 1e30 (diverges to a NaN loss)."""
    data = tiny_sweep_data(name, seeds=(1,))
    experiment = data["experiments"][0]
    experiment["training"].update(optimizer="sgd", grad_clip=None)
    experiment["grid"]["training.learning_rate"] = [0.01, 1e30]
    return data


@pytest.mark.slow
def test_nan_loss_fails_its_job_and_dependents_and_retry_reruns_only_those(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(tmp_path / "ws"))
    sweep_file = write_sweep(tmp_path, _diverging_sweep("nan"))
    assert main(["submit", str(sweep_file), "--executor", "local"]) == 1
    output = capsys.readouterr().out.replace("\n", " ")
    assert "5 done, 5 failed, 0 skipped" in output
    assert "NonFiniteLoss" in output and "dependency failed" in output

    settings = Settings().resolved()
    runs = load_tables(settings, "nan")["runs"].set_index("job_id")
    assert len(runs) == 10 and runs["status"].value_counts().to_dict() == {"done": 5, "failed": 5}
    failed = runs[runs["status"] == "failed"]
    diverged = failed[failed["kind"] == "train"]
    assert len(diverged) == 1 and "loss is nan" in diverged["error"].item().lower()
    assert (
        failed[failed["kind"] != "train"]["error"].str.startswith("RuntimeError: dependency failed")
    ).all()
    client = MlflowClient(settings.mlflow_tracking_uri)
    run = client.get_run(diverged["mlflow_run_id"].item())
    assert run.info.status == "FAILED" and "NonFiniteLoss" in run.data.tags["error"]

    assert main(["submit", str(sweep_file), "--executor", "local"]) == 1
    assert "0 done, 0 failed, 10 skipped" in capsys.readouterr().out.replace("\n", " ")

    assert main(["submit", str(sweep_file), "--executor", "local", "--retry-failed"]) == 1
    assert "0 done, 5 failed, 5 skipped" in capsys.readouterr().out.replace("\n", " ")
    again = load_tables(settings, "nan")["runs"].set_index("job_id")
    assert len(again) == 10
    done = runs["status"] == "done"
    assert (again.loc[done, "started_at"] == runs.loc[done, "started_at"]).all()
    assert (again.loc[~done, "started_at"] > runs.loc[~done, "started_at"]).all()
    assert (
        len(
            {
                r.info.run_id
                for r in client.search_runs([run.info.experiment_id])
                if "job_id" in r.data.tags
            }
        )
        == 10
    )


def test_corrupt_checkpoint_and_truncated_mask_fail_their_job_naming_the_file(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("ORCHESTRATOR_WORKSPACE", str(tmp_path / "ws"))
    sweep_file = write_sweep(tmp_path, tiny_sweep_data("corrupt", seeds=(1,)))
    plan = plan_sweep(load_sweep(sweep_file))
    fit = next(job for job in plan.jobs if job.kind == "fit")
    jobs = tmp_path / "ws" / "artifacts" / "corrupt" / "jobs"
    checkpoint = jobs / fit.id / "checkpoint" / "state.safetensors"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    assert main(["submit", str(sweep_file), "--executor", "local"]) == 1
    runs = load_tables(Settings().resolved(), "corrupt")["runs"].set_index("job_id")
    error = runs.loc[fit.id, "error"]
    assert str(checkpoint) in error and "unreadable checkpoint" in error and "delete it" in error

    checkpoint.unlink()
    other_fit = next(job for job in plan.jobs if job.kind == "fit" and job.id != fit.id)
    mask = jobs / other_fit.id / "mask.safetensors"
    mask.write_bytes(mask.read_bytes()[:100])
    capsys.readouterr()
    assert main(["submit", str(sweep_file), "--executor", "local", "--retry-failed"]) == 1
    runs = load_tables(Settings().resolved(), "corrupt")["runs"].set_index("job_id")
    evaluation = next(job for job in plan.jobs if job.kind == "evaluate")
    assert runs.loc[fit.id, "status"] == "done"
    assert str(mask) in runs.loc[evaluation.id, "error"]
    assert "checksum mismatch" in runs.loc[evaluation.id, "error"]
