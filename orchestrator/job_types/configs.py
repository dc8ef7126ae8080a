"""What each kind of job is given: one typed config per kind (train, fit, evaluate, transfer,
search).

The planner builds these from a validated experiment; a worker reads their attributes and
never validates a section again. `config_data` is a config as plain data, the form that
is hashed into the job id, logged to MLflow and stored in `runs.config_json`: each section
is dumped whole, `mask_fit` without the fields that only the planner reads, and an unset
optional key (`before_masking`, `data_order_seed`, `control_fit_job`) is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, SerializeAsAny, Tag

from workloads.data.base import TaskConfig
from workloads.evaluation.config import EvaluationConfig
from workloads.fit import MaskFitConfig
from workloads.models.base import ModelConfig
from workloads.registry import MODELS, TASKS
from workloads.search.spec import SearchSpec
from workloads.train import TrainingConfig
from workloads.transfer import TransferConfig


def _tagged_union(registry: Mapping[str, type[BaseModel]], what: str) -> Any:
    def tag_of(value: Any) -> str | None:
        name = value.get("name") if isinstance(value, dict) else getattr(value, "name", None)
        return name if isinstance(name, str) and name in registry else None

    members = tuple(Annotated[cls, Tag(name)] for name, cls in registry.items())
    return Annotated[
        Union[members],  # noqa: UP007 - built from the registry at import time
        Discriminator(
            tag_of,
            custom_error_type=f"unknown_{what}",
            custom_error_message=f"unknown or missing {what} name; valid: {', '.join(registry)}",
        ),
    ]


if TYPE_CHECKING:  # a union built from the registry at run time; its members' base here
    TaskSpec = TaskConfig
    ModelSpec = ModelConfig
else:
    TaskSpec = SerializeAsAny[_tagged_union(TASKS, "task")]
    ModelSpec = SerializeAsAny[_tagged_union(MODELS, "model")]

# Mask-fit fields the planner turns into separate jobs or keys; a fit job never reads them.
PLANNER_MASK_FIT_FIELDS = frozenset({"target_functions", "data_order_seeds", "before_masking"})


class _JobConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    def sections(self) -> dict[str, Any]:
        """Field name -> value as the job id hashes it (a section still a model)."""
        return {
            name: getattr(self, name)
            for name in type(self).model_fields
            if name != "kind" and not (name in OMITTED_WHEN_UNSET and getattr(self, name) is None)
        }

    def as_data(self) -> dict[str, Any]:
        """The config as plain data (see `config_data`)."""
        return config_data(self)


OMITTED_WHEN_UNSET = frozenset({"before_masking", "data_order_seed", "control_fit_job"})


class TrainJobConfig(_JobConfig):
    """Train the base model of one grid point."""

    kind: Literal["train"] = "train"
    task: TaskSpec
    model: ModelSpec
    training: TrainingConfig
    seed: int


class FitJobConfig(_JobConfig):
    """Fit one target function's mask on a trained base model."""

    kind: Literal["fit"] = "fit"
    train_job: str
    task: TaskSpec
    model: ModelSpec
    mask_fit: MaskFitConfig
    target_function: str
    seed: int
    before_masking: str | None = None
    data_order_seed: int | None = Field(None, description="E6: the fit's own data order")
    control_fit_job: str | None = Field(
        None, description="the control fit whose `fixed_from_control` tensors this fit copies"
    )


class EvaluateJobConfig(_JobConfig):
    """Evaluate the base model, every fitted mask and its controls on every target function."""

    kind: Literal["evaluate"] = "evaluate"
    train_job: str
    fit_jobs: dict[str, str] = Field(description="mask label -> fit job id")
    task: TaskSpec
    model: ModelSpec
    evaluation: EvaluationConfig
    before_masking: str | None = None


class TransferJobConfig(_JobConfig):
    """E7: learn a task's target functions in sequence (`transfer.hidden_sizes` from `model`)."""

    kind: Literal["transfer"] = "transfer"
    task: TaskSpec
    transfer: TransferConfig
    seed: int


class SearchJobConfig(_JobConfig):
    """Search mask-fit settings on a trained base model with Ray Tune (`search:`).

    The job's `resources` are what each trial asks for (the experiment's `resources.fit`);
    the job itself only drives Tune and asks Ray for nothing."""

    kind: Literal["search"] = "search"
    train_job: str
    task: TaskSpec
    model: ModelSpec
    mask_fit: MaskFitConfig = Field(description="the settings each trial's values go into")
    search: SearchSpec
    target_function: str
    seed: int
    before_masking: str | None = None


C = TypeVar("C", bound=_JobConfig)

JobConfig = Annotated[
    TrainJobConfig | FitJobConfig | EvaluateJobConfig | TransferJobConfig | SearchJobConfig,
    Field(discriminator="kind"),
]


def default_dump(model: BaseModel, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude=set(exclude) or None)


def config_data(
    config: _JobConfig,
    dump: Callable[[BaseModel, frozenset[str]], dict[str, Any]] = default_dump,
) -> dict[str, Any]:
    """The config as plain data; `dump` dumps one section (the planner's dumps each once)."""
    return {
        name: dump(value, PLANNER_MASK_FIT_FIELDS if name == "mask_fit" else frozenset())
        if isinstance(value, BaseModel)
        else value
        for name, value in config.sections().items()
    }


def job_config(job: Any, kind: type[C]) -> C:
    """`job.config`, checked to be of the kind a runner handles."""
    if not isinstance(job.config, kind):
        raise TypeError(f"job {job.id}: a {type(job.config).__name__}, not a {kind.__name__}")
    return job.config
