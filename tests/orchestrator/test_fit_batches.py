"""Fits of one base model batched into one task: same results, each fit still its own job."""

from __future__ import annotations

import pytest
import torch
from mlflow.tracking import MlflowClient
from support.sweeps import tiny_sweep_data

from orchestrator.cli.analyze import load_tables
from orchestrator.execution.submit import submit
from orchestrator.jobs import fit_batches
from orchestrator.jobs.artifacts import load_tensors
from orchestrator.jobs.fit_batches import batch_runners, group_jobs
from orchestrator.planning.plan import plan_sweep
from orchestrator.settings import Settings
from orchestrator.stores.store import open_store
from orchestrator.sweep.spec import SweepSpec


def batched_sweep(name: str, fits_per_job: int | str, seeds=(1,), betas=(1e-4, 1e-3)) -> dict:
    data = tiny_sweep_data(name, seeds=seeds)
    experiment = data["experiments"][0]
    experiment["grid"]["mask_fit.regularization_weight"] = list(betas)
    experiment["resources"] = {"fits_per_job": fits_per_job}
    return data


def plan_of(data: dict):
    return plan_sweep(SweepSpec.model_validate(data))


def test_a_failed_batch_is_the_failure_of_each_of_its_fits(monkeypatch):
    fits = [job for job in plan_of(batched_sweep("failed", 4)).jobs if job.kind == "fit"]

    def out_of_memory(jobs, store):
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(fit_batches, "fit_batch", out_of_memory)
    runners = batch_runners(fits, store=None)
    assert set(runners) == {job.id for job in fits}
    for job in fits:
        with pytest.raises(RuntimeError, match="out of memory"):
            runners[job.id](job, None, None, "run")


def test_fits_of_one_base_model_are_grouped_up_to_fits_per_job():
    # 1 seed x 2 betas x 3 targets = 6 fits of one base model, in groups of at most 4
    plan = plan_of(batched_sweep("groups", 4))
    groups = group_jobs(plan.jobs)
    fit_groups = [g for g in groups if g[0].kind == "fit"]
    assert sorted(len(g) for g in fit_groups) == [2, 4]
    assert all(len({j.config.train_job for j in g}) == 1 for g in fit_groups)
    assert all(len(g) == 1 for g in groups if g[0].kind != "fit")
    order = [job.id for group in groups for job in group]
    assert sorted(order) == sorted(job.id for job in plan.jobs)
    position = {job_id: index for index, job_id in enumerate(order)}
    for job in plan.jobs:  # every job still comes after what it depends on
        assert all(position[d] < position[job.id] for d in job.depends_on)


def test_auto_batches_gpu_fits_only_and_control_copies_run_alone():
    cpu = plan_of(batched_sweep("cpu", "auto"))
    assert all(len(g) == 1 for g in group_jobs(cpu.jobs))
    data = batched_sweep("gpu", "auto")
    data["experiments"][0]["resources"]["fit"] = {"gpus": 0.5}
    assert max(len(g) for g in group_jobs(plan_of(data).jobs)) == 6
    data["experiments"][0]["mask_fit"]["fixed_from_control"] = ["2.weight"]
    # the two control fits batch together; the fits copying a control mask run alone
    sizes = sorted(len(g) for g in group_jobs(plan_of(data).jobs) if g[0].kind == "fit")
    assert sizes == [1, 1, 1, 1, 2]


def masks(settings: Settings, plan) -> dict[tuple, dict[str, torch.Tensor]]:
    store = open_store(settings.artifact_root)
    return {
        (job.config.target_function, job.config.mask_fit.regularization_weight): (
            load_tensors(store, f"{plan.sweep}/jobs/{job.id}/mask.safetensors")
        )
        for job in plan.jobs
        if job.kind == "fit"
    }


@pytest.fixture(scope="module")
def alone_and_batched(tmp_path_factory, ray_cluster):
    workspace = tmp_path_factory.mktemp("batches")
    runs = {}
    for label, fits_per_job, executor in (("alone", 1, "local"), ("batched", 6, "ray")):
        settings = Settings(workspace=workspace / label, include_dashboard=False).resolved()
        plan = plan_of(batched_sweep("batches", fits_per_job))
        summary = submit(plan, settings, executor)
        runs[label] = (settings, plan, summary)
    return runs


def test_a_batch_on_ray_gives_the_masks_of_fits_run_alone(alone_and_batched):
    (alone_settings, alone_plan, _), (settings, plan, summary) = alone_and_batched.values()
    assert summary.ok and summary.done == len(plan.jobs)
    batched, alone = masks(settings, plan), masks(alone_settings, alone_plan)
    assert batched.keys() == alone.keys() and len(batched) == 6
    for key, tensors in alone.items():
        for name, logits in tensors.items():
            assert torch.equal(batched[key][name], logits), (key, name)


def test_every_batched_fit_has_its_own_run_row_and_mlflow_run(alone_and_batched):
    settings, plan, _ = alone_and_batched["batched"]
    runs = load_tables(settings, "batches")["runs"]
    fits = runs[runs["kind"] == "fit"]
    assert len(fits) == 6 and set(fits["status"]) == {"done"}
    assert fits["mlflow_run_id"].nunique() == 6
    assert fits["started_at"].nunique() == 1  # computed together, in one task
    client = MlflowClient(settings.mlflow_tracking_uri)
    for run_id in fits["mlflow_run_id"]:
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert [m.step for m in client.get_metric_history(run_id, "loss")] == [4, 8, 12]


def test_cancel_stops_a_running_batch_which_checkpoints_each_fit_and_writes_no_rows(tmp_path):
    import threading
    import time

    from orchestrator.stores.control import set_cancelled
    from orchestrator.stores.keys import checkpoint_key

    data = batched_sweep("cancelbatch", 6)
    data["experiments"][0]["mask_fit"]["steps"] = 1_000_000  # would run for hours
    plan = plan_of(data)
    settings = Settings(workspace=tmp_path / "ws", include_dashboard=False).resolved()
    store = open_store(settings.artifact_root)
    result = {}
    thread = threading.Thread(target=lambda: result.update(summary=submit(plan, settings, "local")))
    thread.start()
    train = next(job for job in plan.jobs if job.kind == "train")
    deadline = time.monotonic() + 120
    while not store.exists(f"cancelbatch/jobs/{train.id}/model.safetensors"):
        assert time.monotonic() < deadline, "the base model was never trained"
        time.sleep(0.2)
    time.sleep(1.0)  # the batch is fitting now
    set_cancelled(store, "cancelbatch", True)
    thread.join(timeout=60)
    assert not thread.is_alive(), "the batch did not stop within 60 s of the cancel"
    summary = result["summary"]
    assert summary.done == 1 and summary.cancelled == 8  # 6 fits and 2 evaluations
    runs = load_tables(settings, "cancelbatch")["runs"]
    assert list(runs["kind"]) == ["train"]
    # each fit saved its own checkpoint, which a resubmission resumes from
    fits = [job for job in plan.jobs if job.kind == "fit"]
    assert all(store.exists(checkpoint_key(job.sweep, job.id)) for job in fits)


def test_a_stopped_batch_resumes_each_fit_from_its_checkpoint(
    alone_and_batched, tmp_path, monkeypatch
):
    """Stop a batch after step 1, lose two fits' checkpoints, resume: the fits now start at two
    different steps and still end bit for bit where the fits run alone ended."""
    from orchestrator.stores import checkpoints
    from orchestrator.stores.keys import MODEL_FILE, checkpoint_key, job_key
    from workloads.resume import LoopInterrupted

    alone_settings, alone_plan, _ = alone_and_batched["alone"]
    plan = plan_of(batched_sweep("batches", 6))
    store = open_store((tmp_path / "artifacts").as_uri())
    train = next(job for job in plan.jobs if job.kind == "train")
    model_key = job_key(plan.sweep, train.id, MODEL_FILE)
    store.put_bytes(model_key, open_store(alone_settings.artifact_root).get_bytes(model_key))
    fits = [job for job in plan.jobs if job.kind == "fit"]

    monkeypatch.setattr(checkpoints, "stop_signal_received", lambda: True)
    with pytest.raises(LoopInterrupted):
        fit_batches.fit_batch(fits, store)
    monkeypatch.setattr(checkpoints, "stop_signal_received", lambda: False)
    assert all(store.exists(checkpoint_key(plan.sweep, job.id)) for job in fits)
    for job in fits[:2]:  # these two start over from step 0, the other four go on from step 1
        store.delete(checkpoint_key(plan.sweep, job.id))
    _, outcomes = fit_batches.fit_batch(fits, store)

    alone = masks(alone_settings, alone_plan)
    for job in fits:
        key = (job.config.target_function, job.config.mask_fit.regularization_weight)
        for name, logits in alone[key].items():
            assert torch.equal(outcomes[job.id].logits[name], logits), (key, name)
