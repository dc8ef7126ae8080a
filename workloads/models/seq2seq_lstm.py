"""LSTM encoder-decoder (paper E3, SCAN): no attention, the encoder's final state starts
the decoder.

The recurrent cell is built from `nn.Linear` layers instead of `nn.LSTM`: the weights stay
plain matrices a mask can cover, and `torch.func.vmap` works (it has no batching rule for
the fused `aten::lstm`). Parameter names, in depth order:
`encoder.embedding.weight`, `encoder.layers.{i}.input.{weight,bias}`,
`encoder.layers.{i}.recurrent.weight`, the same under `decoder.`, and
`output.{weight,bias}` (the decoder's output projection). Dropout follows the official
code: on the embeddings and between stacked layers.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from workloads.data.base import Task
from workloads.data.seq2seq import SOS
from workloads.models.base import ModelConfig

State = list[tuple[torch.Tensor, torch.Tensor]]  # per layer (h, c), each [B, hidden]


class Seq2SeqLSTMConfig(ModelConfig):
    name: Literal["seq2seq_lstm"] = "seq2seq_lstm"
    hidden_size: int = Field(200, gt=0, description="LSTM width (paper SCAN: 200)")
    layers: int = Field(2, gt=0, description="stacked LSTM layers (paper SCAN: 2)")
    embedding_size: int = Field(16, gt=0, description="token embedding width (paper: 16)")
    dropout: float = Field(0.5, ge=0, lt=1, description="paper SCAN: 0.5")

    def build(self, task: Task) -> nn.Module:
        return Seq2SeqLSTM(
            source_vocabulary_size=task.shape["source_vocabulary_size"],
            target_vocabulary_size=task.shape["target_vocabulary_size"],
            hidden_size=self.hidden_size,
            layers=self.layers,
            embedding_size=self.embedding_size,
            dropout=self.dropout,
        )


class LSTMCell(nn.Module):
    """One LSTM layer step with torch's gate order (input, forget, cell, output).

    `input` carries the single bias (nn.LSTM's b_ih + b_hh); the forget gate's bias starts
    at 1, as in the official code, so early training does not forget everything.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.input = nn.Linear(input_size, 4 * hidden_size)
        self.recurrent = nn.Linear(hidden_size, 4 * hidden_size, bias=False)
        bound = 1.0 / math.sqrt(hidden_size)
        for weight in (self.input.weight, self.recurrent.weight):
            nn.init.uniform_(weight, -bound, bound)
        with torch.no_grad():
            self.input.bias.zero_()
            self.input.bias[hidden_size : 2 * hidden_size] = 1.0

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        gates = self.input(x) + self.recurrent(h)  # [B, 4 * hidden]
        in_gate, forget_gate, cell_gate, out_gate = gates.chunk(4, dim=-1)
        c = torch.sigmoid(forget_gate) * c + torch.sigmoid(in_gate) * torch.tanh(cell_gate)
        h = torch.sigmoid(out_gate) * torch.tanh(c)
        return h, c


class StackedLSTM(nn.Module):
    """Token embedding and `layers` LSTM cells, advanced one time step at a time."""

    def __init__(
        self,
        vocabulary_size: int,
        embedding_size: int,
        hidden_size: int,
        layers: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocabulary_size, embedding_size)
        sizes = [embedding_size] + [hidden_size] * (layers - 1)
        self.layers = nn.ModuleList(LSTMCell(size, hidden_size) for size in sizes)
        self.hidden_size = hidden_size
        self.dropout = dropout

    def initial_state(self, batch_size: int) -> State:
        zeros = self.embedding.weight.new_zeros(batch_size, self.hidden_size)
        return [(zeros, zeros) for _ in self.layers]

    def forward(self, tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """tokens [B] -> top layer output [B, hidden] and the new state."""
        x = F.dropout(self.embedding(tokens), self.dropout, self.training)
        new_state = []
        for index, (cell, layer_state) in enumerate(zip(self.layers, state, strict=True)):
            if index > 0:
                x = F.dropout(x, self.dropout, self.training)
            h, c = cell(x, layer_state)
            new_state.append((h, c))
            x = h
        return x, new_state


class Seq2SeqLSTM(nn.Module):
    def __init__(
        self,
        source_vocabulary_size: int,
        target_vocabulary_size: int,
        hidden_size: int,
        layers: int,
        embedding_size: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.encoder = StackedLSTM(
            source_vocabulary_size, embedding_size, hidden_size, layers, dropout
        )
        self.decoder = StackedLSTM(
            target_vocabulary_size, embedding_size, hidden_size, layers, dropout
        )
        self.output = nn.Linear(hidden_size, target_vocabulary_size)

    def encode(self, source: torch.Tensor, source_length: torch.Tensor) -> State:
        """Final state of each sequence: padding steps leave the state unchanged."""
        state = self.encoder.initial_state(source.shape[0])
        for t in range(source.shape[1]):
            _, stepped = self.encoder(source[:, t], state)
            running = (t < source_length)[:, None]  # [B, 1]
            state = [
                (torch.where(running, h, h_old), torch.where(running, c, c_old))
                for (h, c), (h_old, c_old) in zip(stepped, state, strict=True)
            ]
        return state

    def forward(
        self,
        source: torch.Tensor,  # [B, S]
        source_length: torch.Tensor,  # [B]
        target: torch.Tensor,  # [B, T]
        teacher_forcing: bool,
    ) -> torch.Tensor:
        """Logits [B, T, V]; without teacher forcing the decoder reads its own argmax."""
        state = self.encode(source, source_length)
        token = torch.full_like(target[:, 0], SOS)
        logits = []
        for t in range(target.shape[1]):
            top, state = self.decoder(token, state)
            logits.append(self.output(top))  # [B, V]
            token = target[:, t] if teacher_forcing else logits[-1].argmax(-1)
        return torch.stack(logits, dim=1)
