"""The fit job: fit one target function's mask on the trained model; record mask and curves.

`record_fit` writes what any fit leaves behind (MLflow curves, the mask in the store, its
`mask_layers`, `fit_curves` and `keep_probability_mass` rows), whether the fit ran alone
(`run_fit`, resumable) or in a batch (`fit_batches`).
"""

from __future__ import annotations

import json

import torch

from analysis.schema import FitCurveRow, KeepProbabilityRow, MaskLayerRow
from orchestrator.job_types.configs import FitJobConfig, job_config
from orchestrator.job_types.job import Job
from orchestrator.jobs.artifacts import (
    build_task,
    load_base_model,
    load_mask_logits,
    row_keys,
    save_tensors,
)
from orchestrator.stores.checkpoints import resume_arguments
from orchestrator.stores.keys import MASK_FILE, job_key
from orchestrator.stores.results import write_rows
from orchestrator.stores.store import ArtifactStore
from orchestrator.tracking.tracker import Tracker
from workloads.data.base import Task
from workloads.fit import FitOutcome, fit_mask
from workloads.masking import final_mask, keep_probability_summary, layer_counts
from workloads.variants import matching_names


def run_fit(job: Job, store: ArtifactStore, tracker: Tracker, run_id: str) -> dict[str, float]:
    config = job_config(job, FitJobConfig)
    task = build_task(config.task)
    model = load_base_model(store, job, config, task)
    outcome = fit_mask(
        model,
        task,
        config.target_function,
        config.mask_fit,
        config.seed,
        fixed_logits=fixed_control_logits(store, job, model, config),
        data_seed=config.data_order_seed,
        **resume_arguments(store, job, config.mask_fit.checkpoint_every),
    )
    return record_fit(job, store, tracker, run_id, task, outcome)


def record_fit(
    job: Job, store: ArtifactStore, tracker: Tracker, run_id: str, task: Task, outcome: FitOutcome
) -> dict[str, float]:
    """Log a finished fit: curves to MLflow, the mask to the store, its rows to Parquet."""
    target = job_config(job, FitJobConfig).target_function
    keys = row_keys(job)
    tracker.log_history(run_id, outcome.history)
    key = job_key(job.sweep, job.id, MASK_FILE)
    save_tensors(store, tracker, run_id, key, outcome.logits)
    rows = [
        MaskLayerRow(
            **keys,
            mask_job_id=job.id,
            target_function=target,
            target_index=task.target_functions.index(target),
            layer=layer,
            layer_index=index,
            kept=kept,
            total=total,
        )
        for index, (layer, (kept, total)) in enumerate(
            layer_counts(final_mask(outcome.logits)).items()
        )
    ]
    write_rows(store, job.sweep, "mask_layers", job.id, rows)
    curves = [
        FitCurveRow(**keys, mask_job_id=job.id, target_function=target, **point)
        for point in outcome.history
    ]
    write_rows(store, job.sweep, "fit_curves", job.id, curves)
    control_rows = []  # every fit writes the part (stores/outputs.py), the control a row
    if task.target_functions.index(target) == 0:  # the control mask: its histogram (C15)
        summary = keep_probability_summary(outcome.logits)
        histogram = json.dumps(summary.pop("histogram"))
        row = KeepProbabilityRow(
            **keys,
            mask_job_id=job.id,
            target_function=target,
            histogram_json=histogram,
            **summary,
        )
        control_rows = [row]
    write_rows(store, job.sweep, "keep_probability_mass", job.id, control_rows)
    return {f"final_{k}": v for k, v in outcome.history[-1].items() if k != "step"}


def fixed_control_logits(
    store: ArtifactStore, job: Job, model: torch.nn.Module, config: FitJobConfig
) -> dict[str, torch.Tensor] | None:
    """The control fit's logits of the `fixed_from_control` tensors, for fits that copy them."""
    if not config.control_fit_job:
        return None
    control = load_mask_logits(store, job.sweep, config.control_fit_job)
    fixed = config.mask_fit.fixed_from_control
    names = matching_names(list(control), fixed)
    if not names:
        raise ValueError(
            f"mask_fit.fixed_from_control {fixed} names no masked tensor; "
            f"masked: {', '.join(control)}"
        )
    device = next(model.parameters()).device
    return {name: control[name].to(device) for name in names}
