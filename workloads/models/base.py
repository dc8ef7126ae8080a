"""Base of every model's config: `name` selects the architecture in the registry."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
