"""Expand a sweep into a DAG of jobs: train -> mask fits -> evaluation (or train -> search).

Each job's id is a hash of its kind, its resolved config and the code version, so the
same file always gives the same ids, a changed field changes only the jobs it reaches,
and two grid points that share a base model share its train job.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from orchestrator import CODE_VERSION
from orchestrator.job_types.configs import (
    PLANNER_MASK_FIT_FIELDS,
    EvaluateJobConfig,
    FitJobConfig,
    SearchJobConfig,
    TrainJobConfig,
    TransferJobConfig,
    config_data,
)
from orchestrator.job_types.job import Job, Plan, canonical
from orchestrator.sweep.spec import ExperimentSpec, SweepSpec


def job_id(kind: str, config: BaseModel, sections: SectionCache | None = None) -> str:
    """sha256 of canonical({"kind", "config", "code_version"}); shared sections serialize once.

    `config` is a per-kind job config; what is hashed is its `config_data`.
    """
    sections = sections or SectionCache()
    data = config_data(config, sections.dump)  # type: ignore[arg-type]
    text = sections.text
    body = ",".join(f"{text(key)}:{text(value)}" for key, value in sorted(data.items()))
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
    for resolved, point in sweep.resolved_points():
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
    if experiment.protocol == "transfer":
        return [transfer_job(sweep, experiment, point, sections)]
    mask_seed = experiment.seed if experiment.mask_seed is None else experiment.mask_seed
    common = {
        "sweep": sweep,
        "experiment": experiment.name,
        "varying": point,
        **described(experiment),
    }
    train_config = TrainJobConfig(
        task=experiment.task,
        model=experiment.model,
        training=experiment.training,
        seed=experiment.seed,
    )
    train = Job(
        id=job_id("train", train_config, sections),
        kind="train",
        config=train_config,
        resources=experiment.resources.train,
        seed=experiment.seed,
        **common,
    )
    fit_task = experiment.fitted_task()
    if experiment.search is not None:
        return [train, search_job(experiment, train, fit_task, mask_seed, common, sections)]
    fits: dict[str, Job] = {}
    for label, fit_config in fit_configs(experiment, train.id, fit_task, mask_seed, sections):
        control_fit = fit_config.control_fit_job
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
    evaluate_config = EvaluateJobConfig(
        train_job=train.id,
        fit_jobs={label: fit.id for label, fit in fits.items()},
        task=fit_task,
        model=experiment.model,
        evaluation=experiment.evaluation,
        before_masking=experiment.mask_fit.before_masking or None,
    )
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


def search_job(
    experiment: ExperimentSpec,
    train: Job,
    task: Any,
    seed: int,
    common: dict[str, Any],
    sections: SectionCache,
) -> Job:
    """The Tune run that searches `experiment.search` on `train`'s model (instead of fits)."""
    assert experiment.search is not None
    search = experiment.search
    target = search.target_function or experiment.fitted_task().target_functions()[0]
    config = SearchJobConfig(
        train_job=train.id,
        task=task,
        model=experiment.model,
        mask_fit=experiment.mask_fit.model_copy(update=dict.fromkeys(PLANNER_MASK_FIT_FIELDS)),
        search=search,
        target_function=target,
        seed=seed,
        before_masking=experiment.mask_fit.before_masking or None,
    )
    return Job(
        id=job_id("search", config, sections),
        kind="search",
        config=config,
        depends_on=(train.id,),
        resources=experiment.resources.fit,  # each trial's; the job itself asks for none
        seed=seed,
        **common,
    )


def fit_configs(
    experiment: ExperimentSpec,
    train_id: str,
    task: Any,
    seed: int,
    sections: SectionCache,
) -> list[tuple[str, FitJobConfig]]:
    """(mask label, fit config) per target function and data-order seed, control first.

    Labels are the target names, or `<target>-order<data-order seed>` with
    `mask_fit.data_order_seeds`. With `mask_fit.fixed_from_control`, every other fit names
    the control fit of its data-order seed (`control_fit_job`), whose mask it copies.
    """
    mask_fit = experiment.mask_fit.model_copy(
        update=dict.fromkeys(PLANNER_MASK_FIT_FIELDS)  # read here; a fit never sees them
    )
    control = experiment.fitted_task().target_functions()[0]
    targets = sorted(experiment.target_functions(), key=lambda target: target != control)
    configs: list[tuple[str, FitJobConfig]] = []
    seeds: list[int | None] = [None]
    if experiment.mask_fit.data_order_seeds:
        seeds = list(experiment.mask_fit.data_order_seeds)
    for data_seed in seeds:
        control_id = None
        for target in targets:
            copies_control = experiment.mask_fit.fixed_from_control and target != control
            config = FitJobConfig(
                train_job=train_id,
                task=task,
                model=experiment.model,
                mask_fit=mask_fit,
                target_function=target,
                seed=seed,
                before_masking=experiment.mask_fit.before_masking or None,
                data_order_seed=data_seed,
                control_fit_job=control_id if copies_control else None,
            )
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


def transfer_job(
    sweep: str, experiment: ExperimentSpec, point: dict[str, Any], sections: SectionCache
) -> Job:
    """E7: one job learns the whole task sequence (each task depends on the ones before).

    The network's hidden sizes come from the experiment's `model` section (an FNN).
    """
    transfer = experiment.transfer.model_copy(
        update={"hidden_sizes": experiment.model.model_dump()["hidden_sizes"]}  # an FNN (spec)
    )
    config = TransferJobConfig(task=experiment.task, transfer=transfer, seed=experiment.seed)
    return Job(
        id=job_id("transfer", config, sections),
        kind="transfer",
        sweep=sweep,
        experiment=experiment.name,
        config=config,
        resources=experiment.resources.transfer,
        varying=point,
        seed=experiment.seed,
        **described(experiment),
    )
