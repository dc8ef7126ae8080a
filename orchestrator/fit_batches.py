"""Mask fits of one base model run as one batch: one process, one vmap over fits.

Each fit stays its own job (its id, lease, MLflow run, mask and rows are those of a lone
fit); only the computation is shared. `group_jobs` decides which ready jobs run together;
`execute_fit_batch` runs a group where `execute_job` runs one job. What a batch cannot do:
resume mid-fit (an interrupted batch restarts its fits from step 0), and fits that copy
the control mask (`fixed_from_control`) always run alone.
"""

from __future__ import annotations

import time

import torch

from orchestrator.checkpoints import stop_requested
from orchestrator.job_configs import FitJobConfig, job_config
from orchestrator.jobs import (
    JobContext,
    JobOutcome,
    build_task,
    execute_claimed,
    load_base_model,
    record_fit,
    run_and_record,
)
from orchestrator.plan import Job, canonical
from orchestrator.store import ArtifactStore, open_store
from workloads.batched_fit import PER_FIT_FIELDS, FitRequest, fit_masks, fits_per_batch
from workloads.fit import FitOutcome
from workloads.masking import maskable_parameter_names
from workloads.resume import LoopInterrupted

DEFAULT_BATCH_MEMORY_MB = 8_000  # when `resources.fit.memory_mb` is not set


def batch_key(job: Job) -> str | None:
    """Jobs with equal keys may share a batch; None for jobs that run alone."""
    config = job.config
    if not isinstance(config, FitJobConfig) or job.fits_per_job < 2 or config.control_fit_job:
        return None
    shared = config.as_data()
    for per_fit in ("target_function", "seed", "data_order_seed"):
        shared.pop(per_fit, None)
    shared["mask_fit"] = {k: v for k, v in shared["mask_fit"].items() if k not in PER_FIT_FIELDS}
    return canonical([shared, job.resources.model_dump(), job.fits_per_job, job.depends_on])


def group_jobs(jobs: list[Job]) -> list[list[Job]]:
    """`jobs` (in dependency order) as groups run by one task each, in the same order.

    Fits of one base model with the same shared settings form groups of up to their
    `fits_per_job`; every other job is a group of one.
    """
    groups: list[list[Job]] = []
    open_groups: dict[str, list[Job]] = {}
    for job in jobs:
        key = batch_key(job)
        if key is None:
            groups.append([job])
            continue
        group = open_groups.get(key)
        if group is None or len(group) >= job.fits_per_job:
            group = open_groups[key] = []
            groups.append(group)
        group.append(job)
    return groups


def execute_fit_batch(
    jobs: list[Job], context: JobContext, *dependencies: JobOutcome
) -> tuple[JobOutcome, ...]:
    """`execute_job` for a group of fits: one outcome per job, in order; never raises for
    the fits' own failure (all of the batch fail together)."""
    return execute_claimed(
        jobs, context, lambda held: run_and_record_batch(held, context, *dependencies)
    )


def run_and_record_batch(
    jobs: list[Job], context: JobContext, *dependencies: JobOutcome
) -> dict[str, JobOutcome]:
    """Fit the group together, then record each fit as its own job."""
    started = time.time()
    results: dict[str, FitOutcome] = {}
    task, error = None, None
    if all(dependency.status == "done" for dependency in dependencies):
        try:
            torch.set_num_threads(max(1, int(jobs[0].resources.cpus)))
            store = open_store(context.settings.artifact_root)
            task, results = fit_batch(jobs, store)
        except LoopInterrupted:
            raise
        except Exception as exc:  # recorded on every job of the batch below
            error = exc

    def record(job: Job, store: ArtifactStore, tracker, run_id: str) -> dict[str, float]:
        if error is not None:
            raise error
        return record_fit(job, store, tracker, run_id, task, results[job.id])

    return {
        job.id: run_and_record(job, context, *dependencies, runner=record, started=started)
        for job in jobs
    }


def fit_batch(jobs: list[Job], store: ArtifactStore):
    """(task, fit outcome per job id): the fits in lockstep, in chunks the memory allows."""
    configs = [job_config(job, FitJobConfig) for job in jobs]
    task = build_task(configs[0].task)
    model = load_base_model(store, jobs[0], configs[0], task)
    requests = [
        FitRequest(c.target_function, c.mask_fit, c.seed, data_seed=c.data_order_seed)
        for c in configs
    ]
    config = requests[0].config
    names = set(maskable_parameter_names(model, config.mask_biases))
    size = sum(p.numel() for name, p in model.named_parameters() if name in names)
    budget = jobs[0].resources.memory_mb or DEFAULT_BATCH_MEMORY_MB
    chunk = fits_per_batch(size, budget, config.mask_samples_per_step)
    should_stop = stop_requested(store, jobs[0].sweep)

    def on_step(step: int) -> None:
        if step < config.steps and should_stop():
            raise LoopInterrupted(step)

    outcomes: list[FitOutcome] = []
    for start in range(0, len(requests), chunk):
        outcomes += fit_masks(model, task, requests[start : start + chunk], on_step=on_step)
    return task, {job.id: outcome for job, outcome in zip(jobs, outcomes, strict=True)}
