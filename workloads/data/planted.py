"""Planted-modules task: two target functions whose relation is known by construction.

Inputs x ~ N(0, I) in `input_size` dimensions; z_k = <w_k, x> for fixed random unit
directions w_k. Function A is always sign(z1) XOR sign(z2). Function B is
- "disjoint": sign(z3) XOR sign(z4), from directions A never uses;
- "shared": sign(z1 + z2), from exactly the features A needs;
- "nested": sign(z1), one of A's two intermediate features.
Paired with the matching `planted` model, the masks for A and B must recover that relation.
Outputs: 4 logits, [A: 2 classes, B: 2 classes].
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from workloads.data.base import Examples, ModelCall, StepResult, TaskConfig, check_target


class PlantedConfig(TaskConfig):
    name: Literal["planted"] = "planted"
    relation: Literal["disjoint", "shared", "nested"]
    input_size: int = Field(16, ge=4)
    train_size: int = Field(20_000, gt=0)
    validation_size: int = Field(2_000, gt=0)
    data_seed: int = 0

    def target_functions(self) -> tuple[str, ...]:
        return ("all", "A", "B")

    def build(self) -> PlantedTask:
        return PlantedTask(self)


def labels(x: torch.Tensor, directions: torch.Tensor, relation: str) -> torch.Tensor:
    """[n, 2] int labels of A and B."""
    z = x @ directions.T  # [n, 4]
    a = (z[:, 0] > 0) ^ (z[:, 1] > 0)
    if relation == "disjoint":
        b = (z[:, 2] > 0) ^ (z[:, 3] > 0)
    elif relation == "shared":
        b = (z[:, 0] + z[:, 1]) > 0
    else:
        b = z[:, 0] > 0
    return torch.stack([a, b], dim=1).long()


class PlantedTask:
    def __init__(self, config: PlantedConfig) -> None:
        self.config = config
        self.target_functions = config.target_functions()
        self.shape = {"input_size": config.input_size, "output_size": 4}
        generator = torch.Generator().manual_seed(config.data_seed)
        directions = torch.linalg.qr(torch.randn(config.input_size, 4, generator=generator))[
            0
        ].T  # [4, d]
        self._data = {}
        for split, size in (("train", config.train_size), ("validation", config.validation_size)):
            x = torch.randn(size, config.input_size, generator=generator)
            self._data[split] = {"x": x, "y": labels(x, directions, config.relation)}

    def _for_target(self, split: str, target: str) -> Examples:
        """The split with a per-example flag of which functions the target scores."""
        check_target(self, target)
        data = self._data[split]
        scored = torch.tensor([target in ("all", "A"), target in ("all", "B")])
        return {**data, "scored": scored.expand(len(data["x"]), 2)}

    def train_examples(self, target: str) -> Examples:
        return self._for_target("train", target)

    def eval_examples(self, target: str) -> Examples:
        return self._for_target("validation", target)

    def step(self, call: ModelCall, batch: Examples, train: bool) -> StepResult:
        logits = call(batch["x"]).view(-1, 2, 2)  # [batch, function, class]
        scored = batch["scored"]  # [batch, function]
        losses = F.cross_entropy(logits.reshape(-1, 2), batch["y"].reshape(-1), reduction="none")
        loss = (losses.view(-1, 2) * scored).sum() / scored.sum().clamp(min=1)
        right = (logits.argmax(-1) == batch["y"]) | ~scored
        return StepResult(loss=loss, correct=right.all(dim=1))
