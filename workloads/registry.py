"""Every task and model by name: one line per entry.

A task config class has `build() -> Task`; a model config class has
`build(task) -> nn.Module`. The sweep spec validates its `task:` and `model:` sections
against the class registered under their `name`.
"""

from __future__ import annotations

from workloads.data.addmul import AddMulConfig
from workloads.data.base import TaskConfig
from workloads.models.base import ModelConfig
from workloads.models.fnn import FeedforwardConfig

TASKS: dict[str, type[TaskConfig]] = {}
MODELS: dict[str, type[ModelConfig]] = {}

TASKS["addmul"] = AddMulConfig

MODELS["fnn"] = FeedforwardConfig
