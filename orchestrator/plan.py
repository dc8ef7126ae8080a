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
from orchestrator.spec import (
    SEED_FIELDS,
    ExperimentSpec,
    Resources,
    SweepSpec,
    resolve_grid_point,
)
from workloads.models.fnn import FeedforwardConfig

JobKind = Literal["train", "fit", "evaluate", "transfer"]


class Attribution(BaseModel):
    """One experiment and grid point that a job serves, with the paper role it plays there.

    A composed sweep (`full_paper.yaml`) has jobs that several experiments plan with the
    same config: E8's beta = 1e-4 point is the main add/mul experiment, E9 shares sizes
    with it. Such a job runs once and serves every one of them.
    """

    model_config = ConfigDict(frozen=True)
    experiment: str
    varying: dict[str, Any] = {}
    role: str | None = None
    differs_from_paper: str | None = None  # ExperimentSpec's, for the published page
    pipeline_check: bool = False

    @property
    def setting(self) -> str:
        """The grid point without its seeds: the group that statistics average over."""
        return canonical({k: v for k, v in self.varying.items() if k not in SEED_FIELDS})


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
    fits_per_job: int = 1  # fit jobs: how many fits of one base model may run as one batch
    role: str | None = None
    differs_from_paper: str | None = None
    pipeline_check: bool = False
    # Every experiment and grid point this job serves, the first (experiment, varying,
    # role above) included; see `Attribution`.
    also_serves: tuple[Attribution, ...] = ()

    @property
    def setting(self) -> str:
        """The grid point without its seeds: the group that statistics average over."""
        return self.attributions()[0].setting

    def attributions(self) -> tuple[Attribution, ...]:
        first = Attribution(
            experiment=self.experiment,
            varying=self.varying,
            role=self.role,
            differs_from_paper=self.differs_from_paper,
            pipeline_check=self.pipeline_check,
        )
        return (first, *self.also_serves)

    def served(self) -> list[dict[str, Any]]:
        """Every experiment, setting and role this job serves, as plain data (plan, status)."""
        return [
            {"experiment": a.experiment, "setting": a.setting, "role": a.role}
            for a in self.attributions()
        ]

    def serving(self, other: Job) -> Job:
        """This job, also serving the experiment and grid point `other` was planned for."""
        known = self.attributions()
        new = tuple(a for a in other.attributions() if a not in known)
        return self.model_copy(update={"also_serves": (*self.also_serves, *new)}) if new else self


class Plan(BaseModel):
    sweep: str
    jobs: list[Job]

    def by_id(self) -> dict[str, Job]:
        return {job.id: job for job in self.jobs}

    def counts(self) -> dict[str, dict[str, int]]:
        """Jobs per experiment and kind; a job serving several experiments counts in each."""
        table: dict[str, dict[str, int]] = {}
        for job in self.jobs:
            for experiment in dict.fromkeys(a.experiment for a in job.attributions()):
                row = table.setdefault(experiment, {"train": 0, "fit": 0, "evaluate": 0})
                row.setdefault(job.kind, 0)
                row[job.kind] += 1
        return table


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def job_id(kind: str, config: dict[str, Any], sections: SectionCache | None = None) -> str:
    """sha256 of canonical({"kind", "config", "code_version"}); shared sections serialize once."""
    text = sections.text if sections else canonical
    body = ",".join(f"{text(key)}:{text(value)}" for key, value in sorted(config.items()))
    payload = f'{{"code_version":{json.dumps(CODE_VERSION)},"config":{{{body}}},"kind":{json.dumps(kind)}}}'
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class SectionCache:
    """Within one plan: each config section dumped and serialized once, however many jobs
    share it (a 100,000-job seed grid shares its task, model and training sections)."""

    def __init__(self) -> None:
        self._dumps: dict[tuple[int, str], tuple[BaseModel, dict[str, Any]]] = {}
        self._texts: dict[int, tuple[object, str]] = {}
        self._scalars: dict[tuple[type, object], str] = {}

    def dump(self, model: BaseModel, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        key = (id(model), ",".join(sorted(exclude)))
        hit = self._dumps.get(key)
        if hit is None or hit[0] is not model:
            hit = (model, model.model_dump(mode="json", exclude=set(exclude) or None))
            self._dumps[key] = hit
        return hit[1]

    def text(self, value: Any) -> str:
        if isinstance(value, str | int | float | bool | None):
            key = (type(value), value)
            scalar = self._scalars.get(key)
            if scalar is None:
                scalar = self._scalars[key] = canonical(value)
            return scalar
        if not isinstance(value, dict):
            return canonical(value)
        hit = self._texts.get(id(value))
        if hit is None or hit[0] is not value:
            hit = (value, canonical(value))
            self._texts[id(value)] = hit
        return hit[1]


def plan_sweep(sweep: SweepSpec) -> Plan:
    jobs: dict[str, Job] = {}
    sections = SectionCache()
    for experiment in sweep.experiments:
        raw = experiment.model_dump(mode="json")
        points = experiment.grid_points() if experiment.grid else [{}]
        for point in points:
            resolved = resolve_grid_point(experiment, raw, point)
            for job in experiment_jobs(sweep.name, resolved, point, sections):
                known = jobs.get(job.id)
                jobs[job.id] = job if known is None else known.serving(job)
    return Plan(sweep=sweep.name, jobs=list(jobs.values()))


def experiment_jobs(
    sweep: str,
    experiment: ExperimentSpec,
    point: dict[str, Any],
    sections: SectionCache | None = None,
) -> list[Job]:
    """The train job, one fit per target function, and the evaluation of one grid point."""
    sections = sections or SectionCache()
    task = sections.dump(experiment.task)
    if experiment.protocol == "transfer":
        return [transfer_job(sweep, experiment, point, task)]
    model = sections.dump(experiment.model)
    mask_seed = experiment.seed if experiment.mask_seed is None else experiment.mask_seed
    common = {
        "sweep": sweep,
        "experiment": experiment.name,
        "varying": point,
        **described(experiment),
    }

    train_config = {
        "task": task,
        "model": model,
        "training": sections.dump(experiment.training),
        "seed": experiment.seed,
    }
    train = Job(
        id=job_id("train", train_config, sections),
        kind="train",
        config=train_config,
        resources=experiment.resources.train,
        seed=experiment.seed,
        **common,
    )
    fit_task = sections.dump(experiment.fitted_task())
    fits: dict[str, Job] = {}
    for label, fit_config in fit_configs(experiment, train.id, fit_task, mask_seed, sections):
        control_fit = fit_config.get("control_fit_job")
        fits[label] = Job(
            id=job_id("fit", fit_config, sections),
            kind="fit",
            config=fit_config,
            depends_on=(train.id, *([control_fit] if control_fit else [])),
            resources=experiment.resources.fit,
            fits_per_job=experiment.resources.fits_per_fit_job(),
            seed=mask_seed,
            **common,
        )
    evaluate_config = {
        "train_job": train.id,
        "fit_jobs": {label: fit.id for label, fit in fits.items()},
        "task": fit_task,
        "model": model,
        "evaluation": sections.dump(experiment.evaluation),
        **before_masking(experiment),
    }
    evaluate = Job(
        id=job_id("evaluate", evaluate_config, sections),
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
    experiment: ExperimentSpec,
    train_id: str,
    task: dict[str, Any],
    seed: int,
    sections: SectionCache,
) -> list[tuple[str, dict[str, Any]]]:
    """(mask label, fit config) per target function and data-order seed, control first.

    Labels are the target names, or `<target>-order<data-order seed>` with
    `mask_fit.data_order_seeds`. With `mask_fit.fixed_from_control`, every other fit names
    the control fit of its data-order seed (`control_fit_job`), whose mask it copies.
    """
    mask_fit = sections.dump(
        experiment.mask_fit, frozenset({"target_functions", "data_order_seeds", "before_masking"})
    )
    control = experiment.fitted_task().target_functions()[0]
    targets = sorted(experiment.target_functions(), key=lambda target: target != control)
    configs: list[tuple[str, dict[str, Any]]] = []
    for data_seed in experiment.mask_fit.data_order_seeds or (None,):
        control_id = None
        for target in targets:
            config: dict[str, Any] = {
                "train_job": train_id,
                "task": task,
                "model": sections.dump(experiment.model),
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
                control_id = job_id("fit", config, sections)
    return configs


def described(experiment: ExperimentSpec) -> dict[str, Any]:
    """The experiment's role and description, carried by its jobs to `job_experiments`."""
    return {
        "role": experiment.role,
        "differs_from_paper": experiment.differs_from_paper,
        "pipeline_check": experiment.pipeline_check,
    }


def transfer_job(sweep: str, experiment: ExperimentSpec, point: dict[str, Any], task: dict) -> Job:
    """E7: one job learns the whole task sequence (each task depends on the ones before).

    The network's hidden sizes come from the experiment's `model` section (an FNN).
    """
    transfer = experiment.transfer.model_dump(mode="json")
    assert isinstance(experiment.model, FeedforwardConfig)  # the spec refuses other models
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
        **described(experiment),
    )
