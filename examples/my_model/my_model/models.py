"""A small network of the user's own, with named layers (masks are keyed by these names)."""

from __future__ import annotations

import torch
from torch import nn


class TwoLayerNet(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(input_size, hidden_size)
        self.readout = nn.Linear(hidden_size, output_size)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.readout(torch.relu(self.hidden(inputs)))  # [batch, output_size]


def make_model(task, hidden_size: int = 64) -> nn.Module:
    """Called as make_model(task, **options); sizes come from the task's `shape`."""
    return TwoLayerNet(task.shape["input_size"], hidden_size, task.shape["output_size"])
