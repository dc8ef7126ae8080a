"""Feedforward ReLU network (paper E1/E2): input -> hidden x n -> output."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from torch import nn

from workloads.data.base import Task
from workloads.models.base import ModelConfig


class FeedforwardConfig(ModelConfig):
    name: Literal["fnn"] = "fnn"
    hidden_sizes: list[int] = Field(
        default_factory=lambda: [2000, 2000, 2000, 2000],
        min_length=1,
        description="widths of the hidden layers (paper: 2000x4 big, 800x4 medium)",
    )

    def build(self, task: Task) -> nn.Module:
        return build_feedforward(
            task.shape["input_size"], self.hidden_sizes, task.shape["output_size"]
        )


def build_feedforward(input_size: int, hidden_sizes: list[int], output_size: int) -> nn.Sequential:
    """Linear layers named layers.0, layers.2, ... so mask tensors sort in depth order."""
    widths = [input_size, *hidden_sizes]
    layers: list[nn.Module] = []
    for width_in, width_out in zip(widths, widths[1:], strict=False):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    layers.append(nn.Linear(widths[-1], output_size))
    return nn.Sequential(*layers)
