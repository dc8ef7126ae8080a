"""What one job does, wherever it runs: compute, then write store, MLflow and Parquet.

Everything a job needs arrives as arguments (the job, the context, its dependencies'
outcomes); everything it produces leaves through the store, MLflow and Parquet. A failing
job is recorded as failed (error in MLflow and in `runs`) and returns instead of raising,
so the rest of the sweep goes on; its dependents are marked failed without running.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel

from analysis.schema import (
    EvaluationRow,
    FitCurveRow,
    KeepProbabilityRow,
    MaskLayerRow,
    MaskOverlapRow,
    RunRow,
)
from orchestrator.checkpoints import resume_arguments
from orchestrator.cluster import node_label
from orchestrator.control import cancel_requested, stop_on_sigterm, stop_signal_received
from orchestrator.errors import StoreError
from orchestrator.extra_results import (
    confusion_rows,
    mask_row_rows,
    mask_sharing_rows,
    op_confusion_rows,
    variant_evaluation_rows,
)
from orchestrator.job_configs import (
    EvaluateJobConfig,
    FitJobConfig,
    TrainJobConfig,
    job_config,
)
from orchestrator.leases import claim
from orchestrator.outputs import missing_outputs
from orchestrator.plan import Job, canonical
from orchestrator.results import read_part, write_rows
from orchestrator.settings import Settings
from orchestrator.store import ArtifactStore, open_store
from orchestrator.tracking import Tracker, journal_key
from workloads.checkpoint import CorruptTensorFile, tensors_from_bytes, tensors_to_bytes
from workloads.controls import io_kept, random_removal
from workloads.data.base import Task, TaskConfig
from workloads.evaluate import evaluate
from workloads.evaluation.config import EvaluationConfig
from workloads.fit import FitOutcome, fit_mask
from workloads.masking import (
    final_mask,
    invert,
    keep_probability_summary,
    layer_counts,
    overlap_counts,
)
from workloads.models.base import ModelConfig
from workloads.resume import LoopInterrupted
from workloads.train import train_model
from workloads.transforms import apply_before_masking
from workloads.variants import matching_names


class JobContext(BaseModel):
    settings: Settings
    experiment_id: str
    parent_run_id: str


class JobOutcome(BaseModel):
    job_id: str
    kind: str
    status: Literal["done", "failed", "cancelled"]
    error: str | None = None
    metrics: dict[str, float] = {}
    node: str = ""
    duration_s: float = 0.0


def artifact_key(job: Job, name: str) -> str:
    return f"{job.sweep}/jobs/{job.id}/{name}"


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
    store: ArtifactStore, job: Job, config: FitJobConfig | EvaluateJobConfig, task: Task
) -> torch.nn.Module:
    model = build_model(job, config.model, task, seed=0)
    state = load_tensors(store, f"{job.sweep}/jobs/{config.train_job}/model.safetensors")
    model.load_state_dict(state)
    return apply_before_masking(config.before_masking, model).eval()


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
    save_tensors(store, tracker, run_id, artifact_key(job, "model.safetensors"), model.state_dict())
    return {f"final_{k}": v for k, v in history[-1].items() if k != "step"}


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
    job: Job, store: ArtifactStore, tracker: Tracker, run_id: str, task, outcome: FitOutcome
) -> dict[str, float]:
    """Log a finished fit: curves to MLflow, the mask to the store, its rows to Parquet."""
    target = job_config(job, FitJobConfig).target_function
    tracker.log_history(run_id, outcome.history)
    save_tensors(store, tracker, run_id, artifact_key(job, "mask.safetensors"), outcome.logits)
    rows = [
        MaskLayerRow(
            **_row_keys(job),
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
        FitCurveRow(**_row_keys(job), mask_job_id=job.id, target_function=target, **point)
        for point in outcome.history
    ]
    write_rows(store, job.sweep, "fit_curves", job.id, curves)
    control_rows = []  # every fit writes the part (orchestrator/outputs.py), the control a row
    if task.target_functions.index(target) == 0:  # the control mask: its histogram (C15)
        summary = keep_probability_summary(outcome.logits)
        histogram = json.dumps(summary.pop("histogram"))
        row = KeepProbabilityRow(
            **_row_keys(job),
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
    control = load_tensors(store, f"{job.sweep}/jobs/{config.control_fit_job}/mask.safetensors")
    fixed = config.mask_fit.fixed_from_control
    names = matching_names(list(control), fixed)
    if not names:
        raise ValueError(
            f"mask_fit.fixed_from_control {fixed} names no masked tensor; "
            f"masked: {', '.join(control)}"
        )
    device = next(model.parameters()).device
    return {name: control[name].to(device) for name in names}


def run_evaluate(job: Job, store: ArtifactStore, tracker: Tracker, run_id: str) -> dict[str, float]:
    config = job_config(job, EvaluateJobConfig)
    task = build_task(config.task)
    model = load_base_model(store, job, config, task)
    batch_size = config.evaluation.batch_size
    fits = config.fit_jobs
    masks = {
        target: in_model_order(
            model, final_mask(load_tensors(store, f"{job.sweep}/jobs/{fit_id}/mask.safetensors"))
        )
        for target, fit_id in fits.items()
    }
    keys = _row_keys(job)
    rows: list[EvaluationRow] = []
    for function in task.target_functions:
        result = evaluate(model, task, function, batch_size=batch_size)
        rows.append(
            EvaluationRow(
                **keys, mask_variant="none", evaluated_function=function, **result.model_dump()
            )
        )
    for target, mask in masks.items():
        # each variant (random draws included) is built once and evaluated on every function
        for variant, draw, applied in mask_variants(mask, config.evaluation, job.seed):
            for function in task.target_functions:
                result = evaluate(model, task, function, applied, batch_size=batch_size)
                rows.append(
                    EvaluationRow(
                        **keys,
                        mask_job_id=fits[target],
                        mask_target=target,
                        mask_variant=variant,
                        draw=draw,
                        evaluated_function=function,
                        **result.model_dump(),
                    )
                )
    overlaps = [
        MaskOverlapRow(**keys, function_a=a, function_b=b, layer=layer, layer_index=index, **counts)
        for a, b in itertools.combinations(masks, 2)
        for index, (layer, counts) in enumerate(overlap_counts(masks[a], masks[b]).items())
    ]
    rows += variant_evaluation_rows(config.evaluation, model, task, masks, fits, keys)
    write_rows(
        store, job.sweep, "confusions", job.id, confusion_rows(model, task, masks, keys, batch_size)
    )
    write_rows(store, job.sweep, "mask_rows", job.id, mask_row_rows(task, masks, fits, keys))
    write_rows(store, job.sweep, "mask_sharing", job.id, mask_sharing_rows(task, masks, fits, keys))
    write_rows(
        store,
        job.sweep,
        "op_confusion",
        job.id,
        op_confusion_rows(model, task, masks, fits, keys, batch_size),
    )
    write_rows(store, job.sweep, "evaluations", job.id, rows)
    write_rows(store, job.sweep, "mask_overlaps", job.id, overlaps)
    metrics = {
        f"accuracy.{row.mask_variant}.{row.mask_target or 'base'}.on.{row.evaluated_function}"
        + (f".draw{row.draw}" if row.mask_variant.startswith("random") else ""): row.accuracy
        for row in rows
    }
    tracker.log_metrics(run_id, metrics)
    return metrics


def mask_variants(mask: dict[str, torch.Tensor], evaluation: EvaluationConfig, seed: int):
    """(variant, draw, mask applied): the mask, its inverse and the inverse's controls."""
    inverted = invert(mask)
    yield "mask", 0, mask
    yield "inverted", 0, inverted
    if evaluation.io_kept_inverse:
        yield "inverted_io_kept", 0, io_kept(inverted)
    generator = torch.Generator().manual_seed(seed)
    for draw in range(evaluation.random_removal_draws):
        random = random_removal(mask, generator)
        yield "random_removal", draw, random
        if evaluation.io_kept_inverse:
            yield "random_removal_io_kept", draw, io_kept(random)


def in_model_order(
    model: torch.nn.Module, tensors: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Stored tensors come back in file order; statistics list layers in depth order."""
    return {name: tensors[name] for name, _ in model.named_parameters() if name in tensors}


def run_transfer(job: Job, store: ArtifactStore, tracker: Tracker, run_id: str) -> dict[str, float]:
    from orchestrator.transfer_job import run_transfer as run  # imports this module's helpers

    return run(job, store, tracker, run_id)


RUNNERS = {"train": run_train, "fit": run_fit, "evaluate": run_evaluate, "transfer": run_transfer}


def _row_keys(job: Job) -> dict[str, Any]:
    config = job.config
    train_job_id = config.train_job if isinstance(config, FitJobConfig | EvaluateJobConfig) else job.id
    return {
        "sweep": job.sweep,
        "experiment": job.experiment,
        "setting": job.setting,
        "seed": job.seed,
        "train_job_id": train_job_id,
    }


def execute_job(job: Job, context: JobContext, *dependencies: JobOutcome) -> JobOutcome:
    """Run one job once across drivers, resumably; never raises for a job's own failure.

    SIGTERM or a cancel mid-run checkpoints and stops it (see `execute_claimed`).
    """
    (outcome,) = execute_claimed(
        [job], context, lambda held: {job.id: run_and_record(job, context, *dependencies)}
    )
    return outcome


def execute_claimed(
    jobs: list[Job], context: JobContext, run: Callable[[list[Job]], dict[str, JobOutcome]]
) -> tuple[JobOutcome, ...]:
    """One outcome per job, in order: `run(held)` runs the jobs this driver claimed.

    A cancelled sweep's jobs do not start; a job another driver holds is waited for and its
    recorded outcome returned; SIGTERM or a cancel mid-run (`LoopInterrupted`) stops the
    held jobs as cancelled (SIGTERM also exits the process).
    """
    store = open_store(context.settings.artifact_root)
    if cancel_requested(store, jobs[0].sweep):
        return tuple(JobOutcome(job_id=j.id, kind=j.kind, status="cancelled") for j in jobs)
    since = time.time()
    outcomes: dict[str, JobOutcome | None] = {}
    with contextlib.ExitStack() as leases:
        held = []
        for job in jobs:
            done = functools.partial(_is_recorded, store, job, since)
            ttl = context.settings.lease_ttl_s
            if leases.enter_context(claim(store, job, context.parent_run_id, ttl, done)):
                held.append(job)
            else:
                outcomes[job.id] = recorded_outcome(store, job, since)
        if held:
            try:
                with stop_on_sigterm():
                    outcomes.update(run(held))
            except LoopInterrupted:
                if stop_signal_received():
                    raise SystemExit(128 + signal.SIGTERM) from None
                for job in held:
                    outcomes[job.id] = JobOutcome(job_id=job.id, kind=job.kind, status="cancelled")
    return tuple(outcomes[job.id] for job in jobs)  # type: ignore[misc]


def _is_recorded(store: ArtifactStore, job: Job, since: float) -> bool:
    return recorded_outcome(store, job, since) is not None


def recorded_outcome(store: ArtifactStore, job: Job, since: float) -> JobOutcome | None:
    """The job's outcome in `runs`: done at any time (by another driver since this sweep
    was planned) with its outputs all there, or failed since `since`; None when it still
    has to run."""
    rows = read_part(store, job.sweep, "runs", job.id)
    if not rows or (rows[0]["status"] != "done" and rows[0]["finished_at"] < since):
        return None
    if rows[0]["status"] == "done" and missing_outputs(
        store, job.sweep, [(job.id, job.kind)], exists=store.exists
    ):
        return None
    row = rows[0]
    return JobOutcome(job_id=job.id, kind=job.kind, status=row["status"], error=row["error"])


Runner = Callable[[Job, ArtifactStore, Tracker, str], dict[str, float]]


def run_and_record(
    job: Job,
    context: JobContext,
    *dependencies: JobOutcome,
    runner: Runner | None = None,
    started: float | None = None,
) -> JobOutcome:
    """Run one job and record it everywhere; never raises for a job's own failure.

    `runner` replaces the job kind's own (a batch of fits records results computed
    together); `started` is when its work began, if before this call.
    """
    started = time.time() if started is None else started
    store = open_store(context.settings.artifact_root)
    tracker = Tracker(context.settings.mlflow_tracking_uri)
    run_id = tracker.start_job_run(context.experiment_id, context.parent_run_id, job)
    node = node_label()
    error, metrics = None, {}
    try:
        failed = [d.job_id for d in dependencies if d.status != "done"]
        if failed:
            raise RuntimeError(f"dependency failed: {', '.join(failed)}")
        torch.set_num_threads(max(1, int(job.resources.cpus)))
        metrics = (runner or RUNNERS[job.kind])(job, store, tracker, run_id)
    except LoopInterrupted as stopped:
        tracker.stop(run_id, stopped.step)
        raise
    except Exception as exc:  # a job's failure is data: recorded, reported, never fatal
        error = f"{type(exc).__name__}: {exc}"
        tracker.set_tags(
            run_id, {"error": error[:5000], "traceback": traceback.format_exc()[-5000:]}
        )
    finished = time.time()
    status = "failed" if error else "done"
    write_rows(
        store,
        job.sweep,
        "runs",
        job.id,
        [
            RunRow(
                sweep=job.sweep,
                job_id=job.id,
                kind=job.kind,
                experiment=job.experiment,
                setting=job.setting,
                seed=job.seed,
                status=status,
                error=error,
                config_json=canonical(job.config.as_data()),
                metrics_json=json.dumps(metrics),
                node=node,
                mlflow_run_id=run_id,
                started_at=started,
                finished_at=finished,
                duration_s=finished - started,
            )
        ],
    )
    tracker.finish(run_id, failed=error is not None)
    if tracker.journal is not None:  # the tracking server stopped answering: keep its writes
        store.put_bytes(journal_key(job.sweep, job.id), json.dumps(tracker.journal).encode())
    return JobOutcome(
        job_id=job.id,
        kind=job.kind,
        status=status,
        error=error,
        metrics=metrics,
        node=node,
        duration_s=finished - started,
    )
