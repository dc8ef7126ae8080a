"""Stacked LSTM classifier (paper E1 LSTM and E2 LSTM), built from `nn.Linear` layers.

Each layer's cell is two `nn.Linear`s: `input` (W_ih, b_ih) and `recurrent` (W_hh, b_hh),
their 4 * hidden outputs the gates i, f, g, o in `nn.LSTM`'s order, so a layer computes
exactly what `nn.LSTM` does with the same weights. We do not use `nn.LSTM` because
`torch.func.vmap` has no batching rule for its fused `aten::lstm` kernel, and batching mask
samples or fits with vmap over `functional_call` is how a GPU gets throughput. The weight
matrices stay plain parameters (`lstm.layers.0.input.weight`, ...), which a mask covers.

What the model reads, so a task decides the time axis:
- `[batch, features]`: the input is repeated for `steps_per_input` steps and the output
  layer reads the last step: `[batch, outputs]`. An FNN takes the same input, so add/mul
  runs on either model unchanged.
- `[batch, steps, features]`: the sequence is used as is and the output layer reads every
  step: `[batch, steps, outputs]`; the task picks the steps it scores.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field
from torch import nn

from workloads.data.base import Task
from workloads.models.base import ModelConfig


class LSTMConfig(ModelConfig):
    name: Literal["lstm"] = "lstm"
    hidden_size: int = Field(256, gt=0, description="state size of every layer (paper: 256)")
    layers: int = Field(2, gt=0, description="stacked LSTM layers (paper: 2)")
    steps_per_input: int = Field(
        3, gt=0, description="steps a [batch, features] input is repeated for (paper: 3)"
    )

    def build(self, task: Task) -> nn.Module:
        return RecurrentClassifier(
            task.shape["input_size"],
            self.hidden_size,
            self.layers,
            task.shape["output_size"],
            self.steps_per_input,
        )


class LSTMLayer(nn.Module):
    """One LSTM layer over a whole sequence; gates i, f, g, o as in `nn.LSTM`."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.input = nn.Linear(input_size, 4 * hidden_size)
        self.recurrent = nn.Linear(hidden_size, 4 * hidden_size)
        # nn.LSTM's initialisation: every weight and bias uniform in +-1/sqrt(hidden).
        bound = 1.0 / math.sqrt(hidden_size)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """[batch, steps, input] -> [batch, steps, hidden]; the state starts at zero."""
        input_gates = self.input(inputs)  # [batch, steps, 4 * hidden], all steps at once
        batch, steps = inputs.shape[0], inputs.shape[1]
        hidden = inputs.new_zeros(batch, self.hidden_size)
        cell = inputs.new_zeros(batch, self.hidden_size)
        outputs = []
        for step in range(steps):
            gates = input_gates[:, step] + self.recurrent(hidden)
            in_gate, forget_gate, cell_gate, out_gate = gates.chunk(4, dim=-1)
            cell = torch.sigmoid(forget_gate) * cell + torch.sigmoid(in_gate) * torch.tanh(
                cell_gate
            )
            hidden = torch.sigmoid(out_gate) * torch.tanh(cell)
            outputs.append(hidden)
        return torch.stack(outputs, dim=1)


class StackedLSTM(nn.Module):
    """Layers run one after the other over the whole sequence, as `nn.LSTM` does."""

    def __init__(self, input_size: int, hidden_size: int, layers: int) -> None:
        super().__init__()
        sizes = [input_size] + [hidden_size] * (layers - 1)
        self.layers = nn.ModuleList(LSTMLayer(size, hidden_size) for size in sizes)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """[batch, steps, input] -> [batch, steps, hidden] of the top layer."""
        for layer in self.layers:
            inputs = layer(inputs)
        return inputs


class RecurrentClassifier(nn.Module):
    """Stacked LSTM, then a linear map from the top layer's state to the output logits."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        layers: int,
        output_size: int,
        steps_per_input: int,
    ) -> None:
        super().__init__()
        self.steps_per_input = steps_per_input
        self.lstm = StackedLSTM(input_size, hidden_size, layers)
        self.output = nn.Linear(hidden_size, output_size)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """[batch, features] -> [batch, outputs]; [batch, steps, features] -> [batch, steps, outputs]."""
        if features.dim() == 2:
            repeated = features[:, None].expand(-1, self.steps_per_input, -1)
            return self.output(self.lstm(repeated)[:, -1])
        if features.dim() == 3:
            return self.output(self.lstm(features))
        raise ValueError(
            f"LSTM input must be [batch, features] or [batch, steps, features], "
            f"got shape {tuple(features.shape)}"
        )
