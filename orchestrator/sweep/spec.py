"""The sweep spec: pydantic models for everything a sweep file may say.

A sweep has a name and experiments; an experiment names a task and a model (validated
against the registries), base training, mask fitting, a grid whose keys are dotted field
paths (seeds included) expanded to their cross product, and resources per job kind.
"""

from __future__ import annotations

import itertools
import math
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from analysis.roles import ROLES, Role
from orchestrator.errors import SpecError
from orchestrator.job_types.configs import ModelSpec, TaskSpec
from orchestrator.job_types.job import SEED_FIELDS, Resources
from orchestrator.settings import Settings
from orchestrator.sweep.experiment_checks import SEED_LIMIT, check_experiment
from orchestrator.sweep.sweepfile import ReadLimits, find_sweep_file, load_sweep_document, locate
from workloads.data.base import TaskConfig
from workloads.evaluation.config import EvaluationConfig
from workloads.fit import MaskFitConfig
from workloads.fit_sizing import default_fits_per_job
from workloads.registry import MODELS, TASKS
from workloads.search.spec import SearchSpec
from workloads.train import TrainingConfig
from workloads.transfer import TransferConfig

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class ResourcesByKind(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    train: Resources = Resources()
    fit: Resources = Resources()
    evaluate: Resources = Resources()
    transfer: Resources = Resources()
    fits_per_job: int | Literal["auto"] = Field(
        "auto",
        description="mask fits of one base model that one process runs together, batched "
        f"(one vmap over fits): auto = {default_fits_per_job('cuda')} when fits ask for a GPU, "
        "1 otherwise "
        "(on CPU, one process per fit measured faster); `fit.memory_mb` bounds a batch. "
        "Fits that copy the control mask (fixed_from_control) always run alone.",
    )

    @field_validator("fits_per_job")
    @classmethod
    def _positive(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("fits_per_job must be 1 or more, or auto")
        return value

    def fits_per_fit_job(self) -> int:
        """`fits_per_job` with auto resolved by the device the fits ask for."""
        if self.fits_per_job != "auto":
            return int(self.fits_per_job)
        return default_fits_per_job("cuda" if self.fit.gpus > 0 else "cpu")


# Experiment fields that describe it rather than configure a job: never grid keys.
NOT_GRIDDED = {"grid", "name", "role", "differs_from_paper", "pipeline_check", "search"}


class ExperimentSpec(BaseModel):
    """One experiment: a task, a model, how to train it and which masks to fit."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=NAME_PATTERN)
    role: Role | None = Field(
        None,
        description="the paper role this experiment plays, which decides the claims judged "
        f"on it ({', '.join(ROLES)}); none: reported, judged on no claim",
    )
    differs_from_paper: str | None = Field(
        None,
        description="what this experiment changes against the paper's setting (sizes, "
        "steps, seeds) and why; printed beside its results on the published page. Not part "
        "of any job's config, so editing it never changes a job id",
    )
    pipeline_check: bool = Field(
        False,
        description="true when the data are tiny stand-ins (e.g. a few CIFAR-10 images) or "
        "the steps too few to learn the task: the published page labels its rows 'pipeline "
        "check, not a result'. Not part of any job's config",
    )
    task: TaskSpec
    model: ModelSpec
    protocol: Literal["masks", "transfer"] = Field(
        "masks",
        description="masks: train -> mask fits -> evaluation; transfer: E7, tasks learned in "
        "sequence with weights and masks trained jointly (the `transfer` section)",
    )
    transfer: TransferConfig = TransferConfig()
    training: TrainingConfig = TrainingConfig()
    mask_fit: MaskFitConfig = MaskFitConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    seed: int = Field(
        0, ge=0, lt=SEED_LIMIT, description="base-model seed; every random stream derives from it"
    )
    mask_seed: int | None = Field(
        None, ge=0, lt=SEED_LIMIT, description="seed of the mask fits; null = seed"
    )
    mask_task: dict[str, Any] = Field(
        default_factory=dict,
        description="task fields changed for the mask fits and evaluation only; the base "
        "model trains on `task` as given (E6: a 2-class subset, `mask_task.classes`)",
    )
    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="dotted field -> values; cross product of all"
    )
    resources: ResourcesByKind = ResourcesByKind()
    search: SearchSpec | None = Field(
        None,
        description="a Ray Tune search over mask_fit settings on each base model, run instead "
        "of this experiment's fits and evaluation; `orchestrator search-result` prints the "
        "best values for a follow-up experiment (docs/own-model.md)",
    )

    @field_validator("grid")
    @classmethod
    def _grid_is_well_formed(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not values:
                raise ValueError(f"grid entry {key!r} is empty: give at least one value")
            head = key.split(".")[0]
            if head in NOT_GRIDDED or head not in cls.model_fields:
                valid = sorted(set(cls.model_fields) - NOT_GRIDDED)
                raise ValueError(
                    f"grid key {key!r} is not a field; valid roots: {', '.join(valid)}"
                )
        return grid

    @model_validator(mode="after")
    def _transfer_uses_a_feedforward_model(self) -> ExperimentSpec:
        if self.protocol == "transfer" and self.model.name != "fnn":
            raise ValueError(
                f"protocol transfer learns an FNN (paper E7: 784-800-800-64-10); model is "
                f"{self.model.name!r}: use model: {{name: fnn, hidden_sizes: [800, 800, 64]}}"
            )
        return self

    @model_validator(mode="after")
    def _targets_exist(self) -> ExperimentSpec:
        valid = task_target_functions(self.fitted_task())
        for target in self.mask_fit.target_functions or []:
            if target not in valid:
                raise ValueError(
                    f"mask_fit.target_functions: unknown target function {target!r} for task "
                    f"{self.task.name!r}; valid: {', '.join(valid)}"
                )
        if self.search is not None:
            if self.protocol != "masks":
                raise ValueError("search: needs protocol masks (a search fits masks)")
            self.search.check_against(self.mask_fit, tuple(valid))
        check_experiment(self)
        return self

    def target_functions(self) -> list[str]:
        """The targets to fit masks for, in order; [] in the spec means none (baselines)."""
        if self.mask_fit.target_functions is None:
            return list(task_target_functions(self.fitted_task()))
        return list(self.mask_fit.target_functions)

    def fitted_task(self) -> TaskConfig:
        """The task the masks are fitted and evaluated on: `task` with `mask_task` applied,
        as the mask seed resolves it (E6 draws its class pair from it)."""
        if not self.mask_task:
            return self.task
        try:
            task = type(self.task).model_validate({**self.task.model_dump(), **self.mask_task})
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"mask_task.{field}: {first['msg']}") from None
        return task.for_seed(self.seed if self.mask_seed is None else self.mask_seed)

    def grid_size(self) -> int:
        """How many points the grid expands to, counted without building them."""
        return math.prod(len(values) for values in self.grid.values())

    def grid_points(self) -> list[dict[str, Any]]:
        return list(self.iter_grid_points())

    def iter_grid_points(self) -> Iterator[dict[str, Any]]:
        """The grid's points one at a time: the cross product of every key's values."""
        keys = list(self.grid)
        for values in itertools.product(*self.grid.values()):
            yield dict(zip(keys, values, strict=True))


def task_target_functions(task: TaskConfig) -> tuple[str, ...]:
    """A task's target functions, read from its config without generating its data."""
    return tuple(task.target_functions())


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=NAME_PATTERN, description="names the MLflow experiment and results")
    description: str = ""
    experiments: list[ExperimentSpec] = Field(min_length=1)

    @field_validator("experiments")
    @classmethod
    def _unique_names(cls, experiments: list[ExperimentSpec]) -> list[ExperimentSpec]:
        names = [e.name for e in experiments]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"experiment names must be unique; repeated: {', '.join(duplicates)}")
        return experiments

    def resolved_points(self) -> Iterator[tuple[ExperimentSpec, dict[str, Any]]]:
        """(experiment resolved at the point, point) for every grid point of every experiment.

        A point `load_sweep` validated is not validated again: planning reuses it.
        """
        for index, experiment in enumerate(self.experiments):
            if not experiment.grid:
                yield experiment, {}
                continue
            raw = None
            for position, point in enumerate(experiment.iter_grid_points()):
                resolved = self._validated_points.get((index, position))
                if resolved is None:
                    raw = raw or experiment.model_dump(mode="json")
                    resolved = resolve_grid_point(experiment, raw, point)
                yield resolved, point

    # (experiment index, point position) -> the experiment at that point, as `load_sweep`
    # validated it; seed-only points are cheap copies and are not kept.
    _validated_points: dict[tuple[int, int], ExperimentSpec] = PrivateAttr(default_factory=dict)


def apply_grid_point(experiment: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """A copy of the experiment's data with each dotted field set to the point's value."""
    data = {**experiment, "grid": {}}
    for key, value in point.items():
        parts = key.split(".")
        target = data
        for part in parts[:-1]:
            child = target.get(part)
            child = dict(child) if isinstance(child, dict) else {}
            target[part] = child
            target = child
        target[parts[-1]] = value
    return data


def resolve_grid_point(
    experiment: ExperimentSpec,
    raw: dict[str, Any],
    point: dict[str, Any],
    context: dict[str, Any] | None = None,
) -> ExperimentSpec:
    """The experiment at one grid point, validated.

    A point that sets only seeds to integers (the common 100,000-job case) is a copy with
    new seeds; anything else is validated in full, cross-field checks included.
    """
    if not point:
        return experiment
    if sets_only_seeds(point):
        return experiment.model_copy(update=point)
    return ExperimentSpec.model_validate(apply_grid_point(raw, point), context=context)


def sets_only_seeds(point: dict[str, Any]) -> bool:
    """Whether a grid point only sets seeds to valid integers (no validation needed)."""
    return all(
        key in SEED_FIELDS and type(value) is int and 0 <= value < SEED_LIMIT
        for key, value in point.items()
    )


def load_sweep(name: str | Path, settings: Settings | None = None) -> SweepSpec:
    """Find, read and validate a sweep file, grid points included; errors name file and line.

    From `settings` (by default the environment): the size limits (file bytes, YAML
    values, grid points) and the module prefixes `custom` factories may come from.
    """
    settings = settings or Settings()
    path = find_sweep_file(name)
    limits = ReadLimits(settings.max_sweep_file_bytes, settings.max_yaml_nodes)
    data, locations = load_sweep_document(path, [*SweepSpec.model_fields], limits)
    context = {"factory_modules": tuple(settings.allowed_factory_modules())}
    try:
        sweep = SweepSpec.model_validate(data, context=context)
    except ValidationError as error:
        raise _spec_error(error, data, locations, str(path)) from None
    _refuse_huge_grids(sweep, data, locations, str(path), settings.max_grid_points)
    for index, experiment in enumerate(sweep.experiments):
        raw = data["experiments"][index]
        for position, point in enumerate(experiment.iter_grid_points()):
            try:
                resolved = resolve_grid_point(experiment, raw, point, context)
            except ValidationError as error:
                first = error.errors()[0]
                loc = first["loc"]
                key = next(
                    (k for k in point if tuple(k.split(".")) == tuple(loc[: len(k.split("."))])),
                    None,
                )
                (file, line), _ = locate(
                    data, locations, ("experiments", index, "grid", key or ""), str(path)
                )
                field = f"experiments[{index}].grid.{key}" if key else f"experiments[{index}].grid"
                raise SpecError(
                    file, line, field, f"value {point.get(key or '')!r}: {first['msg']}"
                ) from None
            if not sets_only_seeds(point):
                sweep._validated_points[(index, position)] = resolved
    return sweep


def _refuse_huge_grids(
    sweep: SweepSpec, data: Any, locations: dict, default_file: str, limit: int
) -> None:
    """Count grid points (summed over experiments) before any is built or validated."""
    total = 0
    for index, experiment in enumerate(sweep.experiments):
        total += experiment.grid_size()
        if total > limit:
            lengths = " x ".join(str(len(values)) for values in experiment.grid.values())
            (file, line), field = locate(
                data, locations, ("experiments", index, "grid"), default_file
            )
            raise SpecError(
                file,
                line,
                field,
                f"{lengths} = {experiment.grid_size():,} points; the sweep would expand to "
                f"{total:,} or more, over the limit of {limit:,}: use fewer values or split "
                "the sweep, or raise ORCHESTRATOR_MAX_GRID_POINTS",
            )


def _spec_error(error: ValidationError, data: Any, locations: dict, default_file: str) -> SpecError:
    first = error.errors()[0]
    (file, line), field = locate(data, locations, tuple(first["loc"]), default_file)
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = f"unknown field; {_valid_fields_hint(data, first['loc'])}"
    return SpecError(file, line, field, message)


def _valid_fields_hint(data: Any, loc: tuple[Any, ...]) -> str:
    """Name the fields the model at `loc` accepts, like submitit does for unknown keys."""
    model: Any = SweepSpec
    current = data
    for part in loc[:-1]:
        if isinstance(current, list) and isinstance(part, int) and part < len(current):
            current = current[part]
        elif (
            isinstance(current, dict)
            and part in current
            and part in getattr(model, "model_fields", {})
        ):
            annotation = model.model_fields[part].annotation
            current = current[part]
            model = _model_for(part, annotation, current)
    fields = getattr(model, "model_fields", {})
    return f"valid fields: {', '.join(fields)}" if fields else "remove it"


def _model_for(field: str, annotation: Any, value: Any) -> Any:
    name = value.get("name", "") if isinstance(value, dict) else ""
    if field == "task":
        return TASKS.get(name)
    if field == "model":
        return MODELS.get(name)
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
