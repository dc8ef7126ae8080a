"""The train job: train the base model of one grid point, resumably, and store its weights."""

from __future__ import annotations

from orchestrator.job_types.configs import TrainJobConfig, job_config
from orchestrator.job_types.job import Job
from orchestrator.jobs.artifacts import build_model, build_task, save_tensors
from orchestrator.stores.checkpoints import resume_arguments
from orchestrator.stores.keys import MODEL_FILE, job_key
from orchestrator.stores.store import ArtifactStore
from orchestrator.tracking.tracker import Tracker
from workloads.train import train_model


def run_train(job: Job, store: ArtifactStore, tracker: Tracker, run_id: str) -> dict[str, float]:
    config = job_config(job, TrainJobConfig)
    task = build_task(config.task)
    model = build_model(job, config.model, task, config.seed)
    history = train_model(
        model,
        task,
        config.training,
        config.seed,
        **resume_arguments(store, job, config.training.checkpoint_every),
    )
    tracker.log_history(run_id, history)
    key = job_key(job.sweep, job.id, MODEL_FILE)
    save_tensors(store, tracker, run_id, key, model.state_dict())
    return {f"final_{k}": v for k, v in history[-1].items() if k != "step"}
