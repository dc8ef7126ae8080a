"""The in-process executor: jobs in dependency order, each given its dependencies' outcomes."""

from __future__ import annotations

import pytest
from support.sweeps import tiny_sweep_data

from orchestrator.execution import runner
from orchestrator.execution.runner import LocalExecutor
from orchestrator.jobs.lifecycle import JobOutcome
from orchestrator.planning.plan import plan_sweep
from orchestrator.sweep.spec import SweepSpec


def outcome(job) -> JobOutcome:
    return JobOutcome(job_id=job.id, kind=job.kind, status="done")


@pytest.fixture
def calls(monkeypatch) -> list[tuple[list[str], list[str]]]:
    """(job ids of one task, job ids of the outcomes it was given) per task, in order."""
    made: list[tuple[list[str], list[str]]] = []

    def execute_job(job, context, *dependencies):
        made.append(([job.id], [d.job_id for d in dependencies]))
        return outcome(job)

    def execute_fit_batch(jobs, context, *dependencies):
        made.append(([job.id for job in jobs], [d.job_id for d in dependencies]))
        return tuple(outcome(job) for job in jobs)

    monkeypatch.setattr(runner, "execute_job", execute_job)
    monkeypatch.setattr(runner, "execute_fit_batch", execute_fit_batch)
    return made


def tiny_plan(fits_per_job: int = 1):
    data = tiny_sweep_data(seeds=(1, 2))
    data["experiments"][0]["resources"] = {"fits_per_job": fits_per_job}
    return plan_sweep(SweepSpec.model_validate(data))


def test_every_job_runs_once_after_its_dependencies_with_their_outcomes(calls):
    plan = tiny_plan()
    reported = []
    outcomes = LocalExecutor().run(plan.jobs, None, {}, lambda job, o: reported.append(job.id))
    ran = [job_id for ids, _ in calls for job_id in ids]
    assert sorted(ran) == sorted(job.id for job in plan.jobs) == sorted(reported)
    by_id = plan.by_id()
    for ids, given in calls:
        assert given == list(by_id[ids[0]].depends_on)
        assert all(ran.index(dependency) < ran.index(ids[0]) for dependency in given)
    assert set(outcomes) == set(by_id) and all(o.status == "done" for o in outcomes.values())


def test_fits_of_one_base_model_run_as_one_task_up_to_fits_per_job(calls):
    plan = tiny_plan(fits_per_job=3)
    LocalExecutor().run(plan.jobs, None, {}, lambda job, o: None)
    fit_tasks = [ids for ids, _ in calls if plan.by_id()[ids[0]].kind == "fit"]
    assert sorted(len(ids) for ids in fit_tasks) == [3, 3]  # 3 targets per seed, 2 seeds


def test_jobs_finished_earlier_are_not_rerun_but_passed_to_their_dependents(calls):
    plan = tiny_plan()
    trains = [job for job in plan.jobs if job.kind == "train"]
    rest = [job for job in plan.jobs if job.kind != "train"]
    finished = {job.id: outcome(job) for job in trains}
    outcomes = LocalExecutor().run(rest, None, finished, lambda job, o: None)
    ran = {job_id for ids, _ in calls for job_id in ids}
    assert ran == {job.id for job in rest} == set(outcomes)
    assert all(given for _, given in calls)  # every remaining job got its train outcome
