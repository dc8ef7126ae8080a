"""Mask fits of one base model run as one batch: one process, one vmap over fits.

Each fit stays its own job (its id, lease, MLflow run, mask and rows are those of a lone
fit); only the computation is shared. `group_jobs` decides which ready jobs run together;
`batch_runners` computes a group and gives the lifecycle one runner per fit that records
it. Each fit checkpoints and resumes under its own job's key, as a lone fit does (a
resubmitted batch continues every fit from its last checkpoint); fits that copy the control
mask (`fixed_from_control`) always run alone.
"""

from __future__ import annotations

import itertools

from orchestrator.job_types.configs import FitJobConfig, job_config
from orchestrator.job_types.job import Job, canonical
from orchestrator.jobs.artifacts import Runner, build_task, load_base_model
from orchestrator.jobs.fit import record_fit
from orchestrator.stores.checkpoints import resume_arguments
from orchestrator.stores.store import ArtifactStore
from orchestrator.tracking.tracker import Tracker
from workloads.data.base import Task
from workloads.fit import PER_FIT_FIELDS, FitOutcome, FitRequest, fit_masks
from workloads.fit_sizing import fits_per_batch
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


def batch_runners(jobs: list[Job], store: ArtifactStore) -> dict[str, Runner]:
    """Fit the group together now; per job, a runner that records its own fit.

    A failure of the shared computation is each job's failure: every runner raises it, so
    each fit is recorded failed on its own. A stop (`LoopInterrupted`) is not a failure and
    propagates at once.
    """
    try:
        task, results = fit_batch(jobs, store)
    except LoopInterrupted:
        raise
    except Exception as exc:  # recorded on every job of the batch
        error = exc

        def failed(job: Job, store: ArtifactStore, tracker: Tracker, run_id: str) -> dict:
            raise error

        return dict.fromkeys((job.id for job in jobs), failed)

    def record(job: Job, store: ArtifactStore, tracker: Tracker, run_id: str) -> dict:
        return record_fit(job, store, tracker, run_id, task, results[job.id])

    return dict.fromkeys((job.id for job in jobs), record)


def fit_batch(jobs: list[Job], store: ArtifactStore) -> tuple[Task, dict[str, FitOutcome]]:
    """(task, fit outcome per job id): the fits in lockstep, in chunks the memory allows."""
    configs = [job_config(job, FitJobConfig) for job in jobs]
    task = build_task(configs[0].task)
    model = load_base_model(store, jobs[0], configs[0], task)
    requests = [
        FitRequest(
            c.target_function,
            c.mask_fit,
            c.seed,
            data_seed=c.data_order_seed,
            **resume_arguments(store, job, c.mask_fit.checkpoint_every),
        )
        for job, c in zip(jobs, configs, strict=True)
    ]
    config = requests[0].config
    names = set(maskable_parameter_names(model, config.mask_biases))
    size = sum(p.numel() for name, p in model.named_parameters() if name in names)
    budget = jobs[0].resources.memory_mb or DEFAULT_BATCH_MEMORY_MB
    chunk = fits_per_batch(size, budget, config.mask_samples_per_step)
    outcomes: dict[str, FitOutcome] = {}
    # fits in lockstep start at one step; a batch stopped between its chunks left fits at
    # several steps: one lockstep per step
    pairs = sorted(zip(jobs, requests, strict=True), key=_resumed_step)
    for _, same_step in itertools.groupby(pairs, key=_resumed_step):
        group = list(same_step)
        for start in range(0, len(group), chunk):
            part = group[start : start + chunk]
            fitted = fit_masks(model, task, [request for _, request in part])
            outcomes.update(
                (job.id, outcome) for (job, _), outcome in zip(part, fitted, strict=True)
            )
    return task, outcomes


def _resumed_step(pair: tuple[Job, FitRequest]) -> int:
    state = pair[1].resume_from
    return 0 if state is None else state.step
