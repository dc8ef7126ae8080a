"""Expand a sweep into a DAG of jobs: train -> mask fits -> evaluation.

Each job's id is a hash of its kind, its resolved config and the code version, so the
same file always gives the same ids, a changed field changes only the jobs it reaches,
and two grid points that share a base model share its train job.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from orchestrator import CODE_VERSION
from orchestrator.spec import ExperimentSpec, Resources, SweepSpec, apply_grid_point

JobKind = Literal["train", "fit", "evaluate"]


class Job(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    kind: JobKind
    sweep: str
    experiment: str
    config: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    resources: Resources
    varying: dict[str, Any] = {}
    seed: int

    @property
    def setting(self) -> str:
        """The grid point without its seeds: the group that statistics average over."""
        return canonical({k: v for k, v in self.varying.items() if k not in ("seed", "mask_seed")})


class Plan(BaseModel):
    sweep: str
    jobs: list[Job]

    def by_id(self) -> dict[str, Job]:
        return {job.id: job for job in self.jobs}

    def counts(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for job in self.jobs:
            row = table.setdefault(job.experiment, {"train": 0, "fit": 0, "evaluate": 0})
            row[job.kind] += 1
        return table


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def job_id(kind: str, config: dict[str, Any]) -> str:
    payload = canonical({"kind": kind, "config": config, "code_version": CODE_VERSION})
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def plan_sweep(sweep: SweepSpec) -> Plan:
    jobs: dict[str, Job] = {}
    for experiment in sweep.experiments:
        raw = experiment.model_dump(mode="json")
        points = experiment.grid_points() if experiment.grid else [{}]
        for point in points:
            resolved = (
                ExperimentSpec.model_validate(apply_grid_point(raw, point)) if point else experiment
            )
            for job in experiment_jobs(sweep.name, resolved, point):
                jobs.setdefault(job.id, job)
    return Plan(sweep=sweep.name, jobs=list(jobs.values()))


def experiment_jobs(sweep: str, experiment: ExperimentSpec, point: dict[str, Any]) -> list[Job]:
    """The train job, one fit per target function, and the evaluation of one grid point."""
    task = experiment.task.model_dump(mode="json")
    model = experiment.model.model_dump(mode="json")
    mask_seed = experiment.seed if experiment.mask_seed is None else experiment.mask_seed
    common = {"sweep": sweep, "experiment": experiment.name, "varying": point}

    train_config = {
        "task": task,
        "model": model,
        "training": experiment.training.model_dump(mode="json"),
        "seed": experiment.seed,
    }
    train = Job(
        id=job_id("train", train_config),
        kind="train",
        config=train_config,
        resources=experiment.resources.train,
        seed=experiment.seed,
        **common,
    )
    mask_fit = experiment.mask_fit.model_dump(mode="json", exclude={"target_functions"})
    fits = {}
    for target in experiment.target_functions():
        fit_config = {
            "train_job": train.id,
            "task": task,
            "model": model,
            "mask_fit": mask_fit,
            "target_function": target,
            "seed": mask_seed,
        }
        fits[target] = Job(
            id=job_id("fit", fit_config),
            kind="fit",
            config=fit_config,
            depends_on=(train.id,),
            resources=experiment.resources.fit,
            seed=mask_seed,
            **common,
        )
    evaluate_config = {
        "train_job": train.id,
        "fit_jobs": {target: fit.id for target, fit in fits.items()},
        "task": task,
        "model": model,
        "evaluation": experiment.evaluation.model_dump(mode="json"),
    }
    evaluate = Job(
        id=job_id("evaluate", evaluate_config),
        kind="evaluate",
        config=evaluate_config,
        depends_on=(train.id, *(fit.id for fit in fits.values())),
        resources=experiment.resources.evaluate,
        seed=experiment.seed,
        **common,
    )
    return [train, *fits.values(), evaluate]
