"""Networks whose modular structure is known by construction (the method's sanity check).

- "disjoint": two towers, one per function, each input -> hidden -> hidden -> 2 logits;
  no weight connects them (cross-block weights are absent, not merely zero).
- "shared_trunk": one trunk input -> hidden -> hidden that both heads read.
- "nested": A's path input -> trunk -> deeper -> head A; B's head reads the trunk, an
  intermediate result of A's computation.
Parameter names say the planted role (`tower_a`, `trunk`, `deep_a`, `head_b`, ...), so
the analysis can set planted against recovered structure per layer.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import nn

from workloads.data.base import Task
from workloads.models.base import ModelConfig


class PlantedModelConfig(ModelConfig):
    name: Literal["planted"] = "planted"
    structure: Literal["disjoint", "shared_trunk", "nested"]
    hidden_size: int = Field(32, gt=1)

    def build(self, task: Task) -> nn.Module:
        return PlantedNetwork(self.structure, task.shape["input_size"], self.hidden_size)


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width_in, width_out in zip(sizes, sizes[1:], strict=False):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    return nn.Sequential(*layers)


class PlantedNetwork(nn.Module):
    def __init__(self, structure: str, input_size: int, hidden: int) -> None:
        super().__init__()
        self.structure = structure
        if structure == "disjoint":
            self.tower_a = mlp([input_size, hidden, hidden])
            self.tower_b = mlp([input_size, hidden, hidden])
        elif structure == "shared_trunk":
            self.trunk = mlp([input_size, hidden, hidden])
        else:
            self.trunk = mlp([input_size, hidden])
            self.deep_a = mlp([hidden, hidden])
        self.head_a = nn.Linear(hidden, 2)
        self.head_b = nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [batch, input] -> [batch, 4]
        if self.structure == "disjoint":
            return torch.cat([self.head_a(self.tower_a(x)), self.head_b(self.tower_b(x))], dim=1)
        shared = self.trunk(x)
        if self.structure == "shared_trunk":
            return torch.cat([self.head_a(shared), self.head_b(shared)], dim=1)
        return torch.cat([self.head_a(self.deep_a(shared)), self.head_b(shared)], dim=1)
