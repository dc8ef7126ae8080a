"""The `search:` section of an experiment: which mask-fit settings a Ray Tune run explores.

The paper chose beta (the mask regularization weight) by hand per experiment; a user's own
network has no such table. A search fits masks on one trained base model for a number of
trials, each with mask-fit settings drawn from `space`, and keeps the sparsest mask whose
masked accuracy on the target function stays within `objective.within` of the base
model's (docs/own-model.md). Only `mask_fit.*` fields can be searched: the base model is
trained once by the ordinary train job and shared by every trial.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from workloads.fit import MaskFitConfig

SEARCHABLE_ROOT = "mask_fit"
OBJECTIVE_METRICS = {"minimize": ("kept_fraction",), "keep": ("masked_accuracy",)}
MAX_TRIALS = 1000
NOT_SEARCHABLE = frozenset(
    {
        "target_functions",
        "data_order_seeds",
        "fixed_from_control",
        "before_masking",
        "checkpoint_every",
    }
)


class LogUniform(BaseModel):
    """Values spread evenly in log space between two positive bounds (beta, learning rate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    loguniform: tuple[float, float]

    @field_validator("loguniform")
    @classmethod
    def _positive_increasing(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        low, high = bounds
        if not (0 < low < high and math.isfinite(high)):
            raise ValueError(f"loguniform needs 0 < low < high, got [{low}, {high}]")
        return bounds


class Uniform(BaseModel):
    """Values spread evenly between two bounds."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    uniform: tuple[float, float]

    @field_validator("uniform")
    @classmethod
    def _increasing(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        low, high = bounds
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"uniform needs finite low < high, got [{low}, {high}]")
        return bounds


class Choice(BaseModel):
    """One of a list of values (for example mask samples per step, or steps)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    choice: list[Any] = Field(min_length=1)


Distribution = LogUniform | Uniform | Choice


class Objective(BaseModel):
    """Minimize the kept fraction while the masked accuracy stays near the base model's.

    A trial is feasible when its masked accuracy on `target_function` (validation set) is
    at least the base model's minus `within`; the best trial is the feasible one that keeps
    the fewest weights. With no feasible trial the search says so and reports the most
    accurate one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    minimize: Literal["kept_fraction"] = "kept_fraction"
    keep: Literal["masked_accuracy"] = Field(
        "masked_accuracy", description="the metric that must stay within `within` of the base"
    )
    within: float = Field(
        0.02, ge=0, le=1, description="allowed drop of accuracy against the base model"
    )

    @model_validator(mode="before")
    @classmethod
    def _known_metrics(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for field, valid in OBJECTIVE_METRICS.items():
                metric = data.get(field)
                if metric is not None and metric not in valid:
                    raise ValueError(
                        f"objective.{field}: unknown metric {metric!r}; valid: {', '.join(valid)}"
                    )
        return data


class Scheduler(BaseModel):
    """Early stopping of hopeless trials: ASHA (asynchronous successive halving) or none.

    ASHA compares trials at the fit's logging steps from `grace_steps` on and stops the
    worse `1 - 1/reduction_factor` of them at each rung.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal["asha", "none"] = "asha"
    grace_steps: int = Field(
        100, gt=0, description="fit steps every trial runs before it can be stopped"
    )
    reduction_factor: int = Field(3, ge=2)


class SearchSpec(BaseModel):
    """A Ray Tune search over mask-fit settings on each base model of an experiment."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    space: dict[str, Distribution] = Field(
        description="dotted mask_fit field -> {loguniform: [lo, hi]} | {uniform: [lo, hi]} "
        "| {choice: [values]}"
    )
    target_function: str | None = Field(
        None, description="the target whose masked accuracy is kept; null = the task's first"
    )
    objective: Objective = Objective()
    trials: int = Field(12, gt=0, le=MAX_TRIALS)
    scheduler: Scheduler = Scheduler()
    seed: int = Field(0, ge=0, description="seed of the trial draws: same seed, same trials")
    max_concurrent_trials: int = Field(
        0,
        ge=0,
        description="trials run at once; 0 = as many as the cluster's resources allow. ASHA "
        "stops trials by comparing them as they report, so which trials it stops depends on "
        "their order: 1 makes a search repeat exactly",
    )

    @field_validator("space")
    @classmethod
    def _space_names_mask_fit_fields(cls, space: dict[str, Distribution]) -> dict[str, Any]:
        if not space:
            raise ValueError(
                "search.space is empty: give at least one field, e.g. "
                "mask_fit.regularization_weight: {loguniform: [1.0e-5, 1.0e-3]}"
            )
        valid = sorted(set(MaskFitConfig.model_fields) - NOT_SEARCHABLE)
        for key in space:
            root, _, field = key.partition(".")
            if root != SEARCHABLE_ROOT or field not in valid:
                raise ValueError(
                    f"search.space: {key!r} is not a searchable field; valid: "
                    + ", ".join(f"{SEARCHABLE_ROOT}.{name}" for name in valid)
                )
        return space

    def check_against(self, mask_fit: MaskFitConfig, targets: tuple[str, ...]) -> None:
        """Every value the space can draw must make a valid mask fit of this experiment,
        and the target function must be one of the task's: a bad bound fails at load time,
        not in the middle of a search."""
        if self.target_function is not None and self.target_function not in targets:
            raise ValueError(
                f"search.target_function: unknown target function {self.target_function!r}; "
                f"valid: {', '.join(targets)}"
            )
        base = mask_fit.model_dump()
        for key, distribution in self.space.items():
            field = key.partition(".")[2]
            for value in _extremes(distribution):
                try:
                    MaskFitConfig.model_validate({**base, field: value})
                except ValidationError as error:
                    message = error.errors()[0]["msg"]
                    raise ValueError(f"search.space.{key}: value {value!r}: {message}") from None


def _extremes(distribution: Distribution) -> list[Any]:
    """The values that decide whether a distribution can draw something invalid."""
    if isinstance(distribution, LogUniform):
        return list(distribution.loguniform)
    if isinstance(distribution, Uniform):
        return list(distribution.uniform)
    return list(distribution.choice)
