"""What every job kind shares: building the task and model, tensors in and out of the store.

A job's inputs are its typed config and its dependencies' artifacts (a trained model, a
fitted mask); these helpers read them, and write a job's own tensors to the store and to
its MLflow run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from orchestrator.errors import StoreError
from orchestrator.job_types.configs import EvaluateJobConfig, FitJobConfig, SearchJobConfig
from orchestrator.job_types.job import Job
from orchestrator.stores.keys import MASK_FILE, MODEL_FILE, job_key
from orchestrator.stores.store import ArtifactStore
from orchestrator.tracking.tracker import Tracker
from workloads.checkpoint import CorruptTensorFile, tensors_from_bytes, tensors_to_bytes
from workloads.data.base import Task, TaskConfig
from workloads.masking import final_mask
from workloads.models.base import ModelConfig
from workloads.transforms import apply_before_masking

# What a job kind runs: (job, store, tracker, MLflow run id) -> the metrics it reports.
Runner = Callable[[Job, ArtifactStore, Tracker, str], dict[str, float]]


def build_task(config: TaskConfig) -> Task:
    return config.build()


def job_device(job: Job) -> torch.device:
    """The GPU where the job asked for one and torch sees one; the CPU otherwise."""
    return torch.device("cuda" if job.resources.gpus > 0 and torch.cuda.is_available() else "cpu")


def build_model(job: Job, config: ModelConfig, task: Task, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return config.build(task).to(job_device(job))


def load_tensors(store: ArtifactStore, key: str) -> dict[str, torch.Tensor]:
    try:
        return tensors_from_bytes(store.get_bytes(key))
    except CorruptTensorFile as error:
        raise StoreError(f"{store.uri(key)}: {error}; delete it to recompute") from None


def save_tensors(
    store: ArtifactStore, tracker: Tracker, run_id: str, key: str, tensors: dict[str, torch.Tensor]
) -> None:
    data = tensors_to_bytes(tensors)
    store.put_bytes(key, data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / key.rsplit("/", 1)[-1]
        path.write_bytes(data)
        tracker.log_artifact(run_id, path, store_key=key)


def load_base_model(
    store: ArtifactStore,
    job: Job,
    config: FitJobConfig | EvaluateJobConfig | SearchJobConfig,
    task: Task,
) -> torch.nn.Module:
    """The trained model of `config.train_job`, changed as `before_masking` says, in eval mode."""
    model = build_model(job, config.model, task, seed=0)
    model.load_state_dict(load_tensors(store, job_key(job.sweep, config.train_job, MODEL_FILE)))
    return apply_before_masking(config.before_masking, model).eval()


def load_mask_logits(store: ArtifactStore, sweep: str, fit_job_id: str) -> dict[str, torch.Tensor]:
    return load_tensors(store, job_key(sweep, fit_job_id, MASK_FILE))


def load_final_mask(
    store: ArtifactStore, sweep: str, fit_job_id: str, model: torch.nn.Module
) -> dict[str, torch.Tensor]:
    """A fit's final mask, tensors in the model's order (the file keeps its own order)."""
    mask = final_mask(load_mask_logits(store, sweep, fit_job_id))
    return {name: mask[name] for name, _ in model.named_parameters() if name in mask}


def row_keys(job: Job) -> dict[str, Any]:
    """The columns every result row of a job starts with (`analysis.schema.BaseModelRows`,
    less the `job_id` filled on write): where it belongs in the sweep."""
    config = job.config
    trained = (
        config.train_job
        if isinstance(config, FitJobConfig | EvaluateJobConfig | SearchJobConfig)
        else job.id
    )
    return {
        "sweep": job.sweep,
        "experiment": job.experiment,
        "setting": job.setting,
        "seed": job.seed,
        "train_job_id": trained,
    }
