"""A job's lifecycle, wherever it runs: claim it, run it, record it, stop it cleanly.

Everything a job needs arrives as arguments (the job, the context, its dependencies'
outcomes); everything it produces leaves through the store, MLflow and Parquet. A failing
job is recorded as failed (error in MLflow and in `runs`) and returns instead of raising,
so the rest of the sweep goes on; its dependents are marked failed without running.
What each kind computes lives in its own module (train, fit, fit_batches, evaluate,
transfer, search); this one only runs them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import socket
import time
import traceback
from typing import Literal

import torch
from pydantic import BaseModel

from analysis.schema import RunRow
from orchestrator.job_types.job import Job, canonical
from orchestrator.jobs.artifacts import Runner
from orchestrator.jobs.evaluate import run_evaluate
from orchestrator.jobs.fit import run_fit
from orchestrator.jobs.fit_batches import batch_runners
from orchestrator.jobs.search import run_search_job
from orchestrator.jobs.train import run_train
from orchestrator.jobs.transfer import run_transfer
from orchestrator.settings import Settings
from orchestrator.stores.control import cancel_requested, stop_on_sigterm, stop_signal_received
from orchestrator.stores.keys import journal_key
from orchestrator.stores.leases import claim
from orchestrator.stores.outputs import missing_outputs
from orchestrator.stores.results import read_part, write_rows
from orchestrator.stores.store import ArtifactStore, open_store
from orchestrator.tracking.tracker import Tracker
from workloads.resume import LoopInterrupted

RUNNERS: dict[str, Runner] = {
    "train": run_train,
    "fit": run_fit,
    "evaluate": run_evaluate,
    "transfer": run_transfer,
    "search": run_search_job,
}


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


def node_label() -> str:
    """Where this job runs: the host name and, inside Ray, the Ray node id.

    Two Ray nodes on one host share a host name, so the node id is what tells them apart.
    """
    import ray

    host = socket.gethostname()
    return f"{host}/{ray.get_runtime_context().get_node_id()}" if ray.is_initialized() else host


def execute_job(job: Job, context: JobContext, *dependencies: JobOutcome) -> JobOutcome:
    """Run one job once across drivers, resumably; never raises for a job's own failure.

    SIGTERM or a cancel mid-run checkpoints and stops it (see `execute_claimed`).
    """
    (outcome,) = execute_claimed([job], context, dependencies, batched=False)
    return outcome


def execute_fit_batch(
    jobs: list[Job], context: JobContext, *dependencies: JobOutcome
) -> tuple[JobOutcome, ...]:
    """`execute_job` for a group of fits (`fit_batches.group_jobs`) computed together: one
    outcome per job, in order; never raises for the fits' own failure (all of the batch
    fail together)."""
    return execute_claimed(jobs, context, dependencies, batched=True)


def execute_claimed(
    jobs: list[Job], context: JobContext, dependencies: tuple[JobOutcome, ...], batched: bool
) -> tuple[JobOutcome, ...]:
    """One outcome per job, in order: the jobs this driver claims run (`run_claimed`).

    A cancelled sweep's jobs do not start; a job another driver holds is waited for and its
    recorded outcome returned; SIGTERM or a cancel mid-run (`LoopInterrupted`) stops the
    held jobs as cancelled (SIGTERM also exits the process).
    """
    store = open_store(context.settings.artifact_uri)
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
                    outcomes.update(run_claimed(held, context, dependencies, batched))
            except LoopInterrupted:
                if stop_signal_received():
                    raise SystemExit(128 + signal.SIGTERM) from None
                for job in held:
                    outcomes[job.id] = JobOutcome(job_id=job.id, kind=job.kind, status="cancelled")
    return tuple(outcomes[job.id] for job in jobs)  # type: ignore[misc]


def run_claimed(
    jobs: list[Job], context: JobContext, dependencies: tuple[JobOutcome, ...], batched: bool
) -> dict[str, JobOutcome]:
    """Run each job with its kind's runner and record it; a batch of fits is computed
    together first (`fit_batches.batch_runners`) and each fit recorded as its own job."""
    started = time.time()
    runners = {job.id: RUNNERS[job.kind] for job in jobs}
    if batched and all(dependency.status == "done" for dependency in dependencies):
        torch.set_num_threads(max(1, int(jobs[0].resources.cpus)))
        runners = batch_runners(jobs, open_store(context.settings.artifact_uri))
    return {
        job.id: run_and_record(job, context, *dependencies, runner=runners[job.id], started=started)
        for job in jobs
    }


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
    store = open_store(context.settings.artifact_uri)
    tracker = Tracker(context.settings.tracking_uri)
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
