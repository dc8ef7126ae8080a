"""Executors: Ray for real sweeps, an in-process one for debugging and fast tests.

Both take jobs in dependency order and the outcomes of jobs finished earlier, and call
`on_outcome` as each job ends. The Ray executor submits every job at once with its
dependencies' ObjectRefs as arguments, so a mask fit starts as soon as its own base model
is trained, not after all of them. Fits that may share a process (`fits_per_job`,
`fit_batches.group_jobs`) go to one task that returns one outcome per fit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from orchestrator.execution.cluster import check_fits, joining_runtime_env
from orchestrator.execution.local_ray import start_local_ray
from orchestrator.job_types.job import Job
from orchestrator.jobs.fit_batches import group_jobs
from orchestrator.jobs.lifecycle import JobContext, JobOutcome, execute_fit_batch, execute_job
from orchestrator.settings import Settings, ray_job_runtime_env, write_worker_secrets

OutcomeCallback = Callable[[Job, JobOutcome], None]


Known = TypeVar("Known")


def _dependency_values(job: Job, known: Mapping[str, Known]) -> list[Known]:
    return [known[dependency] for dependency in job.depends_on]


class LocalExecutor:
    """Runs jobs one after another in this process (like submitit's DebugExecutor)."""

    dashboard_url: str | None = None
    warnings: tuple[str, ...] = ()

    def run(
        self,
        jobs: list[Job],
        context: JobContext,
        finished: dict[str, JobOutcome],
        on_outcome: OutcomeCallback,
    ) -> dict[str, JobOutcome]:
        outcomes: dict[str, JobOutcome] = dict(finished)
        for group in group_jobs(jobs):
            dependencies = _dependency_values(group[0], outcomes)
            if len(group) == 1:
                results: tuple[JobOutcome, ...] = (execute_job(group[0], context, *dependencies),)
            else:
                results = execute_fit_batch(group, context, *dependencies)
            for job, outcome in zip(group, results, strict=True):
                outcomes[job.id] = outcome
                on_outcome(job, outcome)
        return {job.id: outcomes[job.id] for job in jobs}

    def close(self) -> None:
        pass


class RayExecutor:
    """One Ray task per job, with the resources its spec asks for; retried if a worker dies."""

    def __init__(self, settings: Settings, max_retries: int = 3) -> None:
        import ray

        self.ray = ray
        self.max_retries = max_retries
        self.started_here = False
        self.autoscaling = settings.autoscaling
        self.warnings: list[str] = []
        self.secrets_file = None
        if not ray.is_initialized():
            if settings.ray_address:
                self.secrets_file = write_worker_secrets()
                context = ray.init(
                    address=settings.ray_address,
                    log_to_driver=False,
                    runtime_env=joining_runtime_env(ray_job_runtime_env(), self.secrets_file),
                )
            else:
                context, self.warnings = start_local_ray(settings)
                self.started_here = True
            self.dashboard_url = context.dashboard_url or None
        else:
            self.dashboard_url = None
        self._remote = ray.remote(execute_job)
        self._remote_batch = ray.remote(execute_fit_batch)

    def check_resources(self, jobs: list[Job]) -> None:
        """A request no node can satisfy would wait forever: refuse it up front."""
        nodes = [node["Resources"] for node in self.ray.nodes() if node.get("Alive")]
        check_fits(jobs, nodes, self.autoscaling)

    def run(
        self,
        jobs: list[Job],
        context: JobContext,
        finished: dict[str, JobOutcome],
        on_outcome: OutcomeCallback,
    ) -> dict[str, JobOutcome]:
        self.check_resources(jobs)
        known: dict[str, object] = dict(finished)
        pending = {}
        for group in group_jobs(jobs):
            job = group[0]
            options: dict[str, Any] = {
                "num_cpus": job.resources.cpus,
                "num_gpus": job.resources.gpus,
                "max_retries": self.max_retries,
                "name": f"{job.kind}:{job.experiment}:{job.id}",
            }
            if job.resources.memory_mb:
                options["memory"] = job.resources.memory_mb * 1024 * 1024
            if job.resources.custom:
                options["resources"] = dict(job.resources.custom)
            if job.kind == "search":  # it only drives Tune; its trials ask for `resources`
                options.update(num_cpus=0, num_gpus=0)
                options.pop("memory", None)
                options.pop("resources", None)
            dependencies = _dependency_values(job, known)
            if len(group) == 1:
                references = [self._remote.options(**options).remote(job, context, *dependencies)]
            else:
                options["name"] = f"fit batch of {len(group)}:{job.experiment}:{job.id}"
                references = cast(  # num_returns > 1: one reference per fit
                    list[Any],
                    self._remote_batch.options(**options, num_returns=len(group)).remote(
                        group, context, *dependencies
                    ),
                )
            for member, reference in zip(group, references, strict=True):
                known[member.id] = reference
                pending[reference] = member
        outcomes: dict[str, JobOutcome] = {}
        while pending:
            ready, _ = self.ray.wait(list(pending), num_returns=1, timeout=1.0)
            for reference in ready:
                job = pending.pop(reference)
                try:
                    outcome = self.ray.get(reference)
                except self.ray.exceptions.RayError as error:
                    outcome = JobOutcome(
                        job_id=job.id, kind=job.kind, status="failed", error=f"ray: {error}"[:2000]
                    )
                outcomes[job.id] = outcome
                on_outcome(job, outcome)
        return outcomes

    def close(self) -> None:
        if self.started_here:
            self.ray.shutdown()
        if self.secrets_file is not None:
            self.secrets_file.unlink(missing_ok=True)
