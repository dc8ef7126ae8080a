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

JobKind = Literal["train", "fit", "evaluate", "transfer"]


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
            row.setdefault(job.kind, 0)
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
    if experiment.protocol == "transfer":
        return [transfer_job(sweep, experiment, point, task)]
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
    fit_task = experiment.fitted_task().model_dump(mode="json")
    fits: dict[str, Job] = {}
    for label, fit_config in fit_configs(experiment, train.id, fit_task, mask_seed):
        control_fit = fit_config.get("control_fit_job")
        fits[label] = Job(
            id=job_id("fit", fit_config),
            kind="fit",
            config=fit_config,
            depends_on=(train.id, *([control_fit] if control_fit else [])),
            resources=experiment.resources.fit,
            seed=mask_seed,
            **common,
        )
    evaluate_config = {
        "train_job": train.id,
        "fit_jobs": {label: fit.id for label, fit in fits.items()},
        "task": fit_task,
        "model": model,
        "evaluation": experiment.evaluation.model_dump(mode="json"),
        **before_masking(experiment),
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


def before_masking(experiment: ExperimentSpec) -> dict[str, Any]:
    """The base-model change the fit and evaluation jobs apply, when the spec names one."""
    name = experiment.mask_fit.before_masking
    return {"before_masking": name} if name else {}


def fit_configs(
    experiment: ExperimentSpec, train_id: str, task: dict[str, Any], seed: int
) -> list[tuple[str, dict[str, Any]]]:
    """(mask label, fit config) per target function and data-order seed, control first.

    Labels are the target names, or `<target>-order<data-order seed>` with
    `mask_fit.data_order_seeds`. With `mask_fit.fixed_from_control`, every other fit names
    the control fit of its data-order seed (`control_fit_job`), whose mask it copies.
    """
    mask_fit = experiment.mask_fit.model_dump(
        mode="json", exclude={"target_functions", "data_order_seeds", "before_masking"}
    )
    control = experiment.fitted_task().target_functions()[0]
    targets = sorted(experiment.target_functions(), key=lambda target: target != control)
    configs: list[tuple[str, dict[str, Any]]] = []
    for data_seed in experiment.mask_fit.data_order_seeds or [None]:
        control_id = None
        for target in targets:
            config: dict[str, Any] = {
                "train_job": train_id,
                "task": task,
                "model": experiment.model.model_dump(mode="json"),
                "mask_fit": mask_fit,
                "target_function": target,
                "seed": seed,
                **before_masking(experiment),
            }
            if data_seed is not None:
                config["data_order_seed"] = data_seed
            if experiment.mask_fit.fixed_from_control and target != control:
                config["control_fit_job"] = control_id
            label = target if data_seed is None else f"{target}-order{data_seed}"
            configs.append((label, config))
            if target == control:
                control_id = job_id("fit", config)
    return configs


def transfer_job(sweep: str, experiment: ExperimentSpec, point: dict[str, Any], task: dict) -> Job:
    """E7: one job learns the whole task sequence (each task depends on the ones before).

    The network's hidden sizes come from the experiment's `model` section (an FNN).
    """
    transfer = experiment.transfer.model_dump(mode="json")
    transfer["hidden_sizes"] = experiment.model.hidden_sizes
    config = {"task": task, "transfer": transfer, "seed": experiment.seed}
    return Job(
        id=job_id("transfer", config),
        kind="transfer",
        sweep=sweep,
        experiment=experiment.name,
        config=config,
        resources=experiment.resources.transfer,
        varying=point,
        seed=experiment.seed,
    )
