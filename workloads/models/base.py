"""Base of every model's config: `name` selects the architecture in the registry."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from torch import nn

from workloads.data.base import Task


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str

    def build(self, task: Task) -> nn.Module:
        """The network for `task` (its input and output sizes come from the task)."""
        raise NotImplementedError
