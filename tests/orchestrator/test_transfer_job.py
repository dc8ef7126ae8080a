"""The transfer job writes masks, MLflow curves and the `transfer_sharing` table."""

from __future__ import annotations

import torch
from mlflow.tracking import MlflowClient

from orchestrator.job_types.job import Job
from orchestrator.jobs.transfer import run_transfer
from orchestrator.planning.plan import plan_sweep
from orchestrator.stores.outputs import missing_outputs
from orchestrator.stores.results import read_table
from orchestrator.stores.store import open_store
from orchestrator.sweep.spec import SweepSpec
from orchestrator.tracking.tracker import Tracker
from workloads.checkpoint import tensors_from_bytes


def transfer_job() -> Job:
    """A tiny E7-style experiment, planned the way a sweep file would be."""
    sweep = SweepSpec.model_validate(
        {
            "name": "tr",
            "experiments": [
                {
                    "name": "permuted",
                    "protocol": "transfer",
                    "task": {"name": "addmul", "train_size": 256, "validation_size": 64},
                    "model": {"name": "fnn", "hidden_sizes": [8, 8]},
                    "transfer": {
                        "steps_per_task": 4,
                        "batch_size": 16,
                        "mask_samples_per_step": 4,
                        "log_every": 2,
                    },
                    "grid": {"seed": [3], "transfer.fresh_logit": [0.0]},
                }
            ],
        }
    )
    (job,) = plan_sweep(sweep).jobs
    assert job.kind == "transfer" and job.config.transfer.hidden_sizes == [8, 8]
    return job


def test_transfer_job_records_sharing_per_task_and_layer(settings):
    store = open_store(settings.artifact_root)
    tracker = Tracker(settings.mlflow_tracking_uri)
    experiment_id = tracker.ensure_experiment("tr", settings)
    job = transfer_job()
    run_id = tracker.start_job_run(
        experiment_id, tracker.start_parent(experiment_id, "tr", {}), job
    )

    metrics = run_transfer(job, store, tracker, run_id)
    tracker.finish(run_id)
    assert missing_outputs(store, "tr", [(job.id, job.kind)]) == {}  # it counts as done

    assert set(metrics) == {"accuracy.all", "accuracy.add", "accuracy.mul"}
    rows = read_table(store, "tr", "transfer_sharing").to_pylist()
    layers = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert len(rows) == 3 * len(layers)
    assert {row["setting"] for row in rows} == {'{"transfer.fresh_logit":0.0}'}
    assert all(row["shared"] == 0 for row in rows if row["task_index"] == 0)
    assert all(row["shared"] == 0 for row in rows if row["layer"].startswith("0."))
    assert all(0 <= row["shared"] <= row["kept"] for row in rows)
    assert [row["layer_index"] for row in rows[: len(layers)]] == list(range(len(layers)))
    masks = tensors_from_bytes(store.get_bytes(f"tr/jobs/{job.id}/masks.safetensors"))
    assert masks["mul/2.weight"].dtype == torch.bool
    second = [r for r in rows if r["task_index"] == 1 and r["layer"] == "2.weight"][0]
    assert second["kept"] == int(masks["add/2.weight"].sum())
    assert second["shared"] == int((masks["add/2.weight"] & masks["all/2.weight"]).sum())
    history = MlflowClient(settings.mlflow_tracking_uri).get_metric_history(run_id, "add.loss")
    assert [point.step for point in history] == [2, 4]
