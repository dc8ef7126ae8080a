"""What a job is: its kind, typed config, resources and the experiments it serves; a plan.

The planner makes these; drivers, workers and stores read them. They sit below the
planner so that a worker can run a job without importing it.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from orchestrator.job_types.configs import JobConfig

JobKind = Literal["train", "fit", "evaluate", "transfer", "search"]

# Grid keys that pick a repeat, not a setting: statistics average over them.
SEED_FIELDS = ("seed", "mask_seed")


def canonical(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces (ids, batch keys, `runs`)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class Resources(BaseModel):
    """What one job of a kind asks Ray for; GPU fractions pack several jobs per GPU."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cpus: float = Field(1.0, gt=0)
    gpus: float = Field(0.0, ge=0)
    memory_mb: int | None = Field(None, gt=0)
    custom: dict[str, float] = Field(default_factory=dict, description="custom Ray resources")

    @field_validator("gpus")
    @classmethod
    def _whole_or_fraction(cls, value: float) -> float:
        if value > 1 and value != int(value):
            raise ValueError("more than one GPU must be a whole number")
        return value


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
    config: JobConfig
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

    @model_validator(mode="before")
    @classmethod
    def _config_kind_from_job(cls, data: Any) -> Any:
        """A config read back as data (plan.json) takes its kind from the job's."""
        config = data.get("config") if isinstance(data, dict) else None
        if isinstance(config, dict) and "kind" not in config:
            return {**data, "config": {**config, "kind": data.get("kind")}}
        return data

    @field_serializer("config")
    def _config_as_data(self, config: BaseModel) -> dict[str, Any]:
        return config.as_data()  # type: ignore[attr-defined]

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
