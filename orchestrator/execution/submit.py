"""The driver of a submission: plan, skip what is done, run the rest, summarise.

Finished jobs are found in the `runs` table, so submitting the same sweep again runs only
what is missing: jobs that never ran or were interrupted (those resume from their
checkpoints). Failed jobs are skipped too, since they would fail the same way; with
`retry_failed` they run again, and so do their dependents (recorded as failed as well).

The MLflow submission run ends FINISHED (or FAILED with failed jobs); Ctrl-C or SIGTERM
end it KILLED. A driver killed outright cannot end it: it holds a lease on the run
(`leases.hold_submission`), and the next `submit` or `status` marks a RUNNING submission
whose lease lapsed KILLED.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field

from mlflow.exceptions import MlflowException
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from orchestrator.execution.runner import LocalExecutor, RayExecutor
from orchestrator.job_types.job import Job, Plan
from orchestrator.jobs.lifecycle import JobContext, JobOutcome
from orchestrator.settings import Settings
from orchestrator.stores.control import on_sigterm, save_plan, set_cancelled
from orchestrator.stores.leases import hold_submission
from orchestrator.stores.outputs import missing_outputs
from orchestrator.stores.results import read_table
from orchestrator.stores.store import open_store
from orchestrator.tracking.tracker import Tracker, replay_journals

UNREACHABLE = (OSError, MlflowException)


@dataclass
class SubmissionSummary:
    sweep: str
    skipped: int = 0
    done: int = 0
    failed: list[JobOutcome] = field(default_factory=list)
    cancelled: int = 0
    failed_earlier: int = 0
    dashboard_url: str | None = None
    parent_run_id: str = ""

    @property
    def ok(self) -> bool:
        return not (self.failed or self.cancelled or self.failed_earlier)


def finished_outcomes(
    settings: Settings, plan: Plan, retry_failed: bool = False
) -> dict[str, JobOutcome]:
    """Outcomes recorded earlier that this submission keeps (done with every output still
    there, and failed unless retried)."""
    store = open_store(settings.artifact_uri)
    runs = read_table(store, plan.sweep, "runs").to_pylist()
    planned = plan.by_id()
    kept = {"done"} if retry_failed else {"done", "failed"}
    lost = missing_outputs(
        store, plan.sweep, [(r["job_id"], r["kind"]) for r in runs if r["status"] == "done"]
    )
    return {
        row["job_id"]: JobOutcome(
            job_id=row["job_id"],
            kind=row["kind"],
            status=row["status"],
            error=row["error"],
            node=row["node"],
        )
        for row in runs
        if row["status"] in kept and row["job_id"] in planned and row["job_id"] not in lost
    }


def submit(
    plan: Plan,
    settings: Settings,
    executor_name: str = "ray",
    console: Console | None = None,
    retry_failed: bool = False,
) -> SubmissionSummary:
    console = console or Console(stderr=True)
    settings.workspace.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.artifact_uri)
    save_plan(store, plan)
    set_cancelled(store, plan.sweep, False)
    finished = finished_outcomes(settings, plan, retry_failed)
    failed_earlier = sum(outcome.status == "failed" for outcome in finished.values())
    todo = [job for job in plan.jobs if job.id not in finished]
    summary = SubmissionSummary(
        sweep=plan.sweep, skipped=len(finished), failed_earlier=failed_earlier
    )
    tracker = Tracker(settings.tracking_uri)
    experiment_id = tracker.ensure_experiment(plan.sweep, settings)
    closed = tracker.close_dead_submissions(store, plan.sweep, settings.lease_ttl_s)
    if closed:
        console.print(f"MLflow: marked {closed} submission run(s) whose driver died KILLED")
    replayed, pending = replay_journals(tracker, store, plan.sweep)
    if replayed or pending:
        console.print(
            f"MLflow: sent the buffered records of {replayed} jobs whose tracking server was "
            f"unreachable when they ran; {pending} still waiting"
        )
    summary.parent_run_id = tracker.start_parent(
        experiment_id, plan.sweep, {"jobs": str(len(plan.jobs)), "skipped": str(len(finished))}
    )
    context = JobContext(
        settings=settings, experiment_id=experiment_id, parent_run_id=summary.parent_run_id
    )
    console.print(
        f"[bold]{plan.sweep}[/]: {len(plan.jobs)} jobs, {len(finished) - failed_earlier} already done, "
        f"{failed_earlier} failed earlier (skipped; --retry-failed reruns them), {len(todo)} to run"
    )
    ttl = settings.lease_ttl_s
    with hold_submission(store, plan.sweep, summary.parent_run_id, ttl):
        try:
            _run(plan, settings, executor_name, console, todo, context, finished, summary)
        except (KeyboardInterrupt, SystemExit):
            with contextlib.suppress(*UNREACHABLE):  # then the next submit or status does it
                tracker.kill_submission(experiment_id, summary.parent_run_id)
            console.print(
                f"{plan.sweep}: interrupted; its MLflow submission run is marked KILLED. "
                "Submit again to resume."
            )
            raise
        except BaseException:
            tracker.finish(summary.parent_run_id, failed=True)
            raise
    tracker.set_tags(
        summary.parent_run_id, {"done": str(summary.done), "failed": str(len(summary.failed))}
    )
    tracker.finish(summary.parent_run_id, failed=bool(summary.failed))
    return summary


def _run(
    plan: Plan,
    settings: Settings,
    executor_name: str,
    console: Console,
    todo: list[Job],
    context: JobContext,
    finished: dict[str, JobOutcome],
    summary: SubmissionSummary,
) -> None:
    """Start the executor, run the jobs with a progress bar, and count outcomes in `summary`."""
    executor = LocalExecutor() if executor_name == "local" else RayExecutor(settings)
    for warning in executor.warnings:
        console.print(warning, markup=False, soft_wrap=True)
    summary.dashboard_url = executor.dashboard_url
    if summary.dashboard_url:
        console.print(f"Ray dashboard: http://{summary.dashboard_url}")
    try:
        # SIGTERM exits like Ctrl-C, so the submission run ends KILLED; a job running in this
        # process (the local executor) handles it first: it checkpoints, then exits the same way
        with (
            on_sigterm(lambda number, _: sys.exit(128 + number)),
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("failed {task.fields[failed]}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            ) as progress,
        ):
            bar = progress.add_task("jobs done", total=len(todo), failed=0)

            def record(job: Job, outcome: JobOutcome) -> None:
                if outcome.status == "done":
                    summary.done += 1
                elif outcome.status == "cancelled":
                    summary.cancelled += 1
                else:
                    summary.failed.append(outcome)
                progress.update(bar, advance=1, failed=len(summary.failed))
                if outcome.status == "failed":
                    progress.console.print(
                        f"[red]failed[/] {job.kind} {job.id} ({job.experiment}): {outcome.error}"
                    )

            executor.run(todo, context, finished, record)
    finally:
        executor.close()
