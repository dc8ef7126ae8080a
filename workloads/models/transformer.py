"""Transformer encoder-decoder (paper E3 SCAN and E4 Mathematics Dataset).

Post-LayerNorm layers (Vaswani et al.), sinusoidal positions added to the token
embeddings, ReLU feedforward, dropout on attention weights, sublayer outputs and the
feedforward hidden layer. Attention projections are separate `nn.Linear` layers, so every
weight is a plain tensor that a mask can cover by name:
`encoder.{i}.self_attention.{query,key,value,output}`, `encoder.{i}.feedforward.{0,3}`,
`encoder.{i}.norms.{j}`, the same under `decoder.{i}` plus `cross_attention`, and `output`
(absent when `tie_output`: then logits = h @ target_embedding^T * sqrt(1/d_model), and
the embedding is never masked).
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


class TransformerConfig(ModelConfig):
    """Defaults: the paper's SCAN Transformer. Mathematics: 6+6, d 512, 8 heads, FF 2048, tied."""

    name: Literal["transformer"] = "transformer"
    encoder_layers: int = Field(3, gt=0)
    decoder_layers: int = Field(3, gt=0)
    d_model: int = Field(100, gt=0, description="state width")
    heads: int = Field(4, gt=0, description="attention heads; must divide d_model")
    feedforward_size: int = Field(200, gt=0, description="hidden width of the feedforward")
    dropout: float = Field(0.1, ge=0, lt=1)
    tie_output: bool = Field(
        False, description="output layer = target embedding, scaled by sqrt(1/d_model)"
    )

    def build(self, task: Task) -> nn.Module:
        if self.d_model % self.heads:
            raise ValueError(f"transformer: heads {self.heads} must divide d_model {self.d_model}")
        return Seq2SeqTransformer(
            self,
            source_vocabulary_size=task.shape["source_vocabulary_size"],
            target_vocabulary_size=task.shape["target_vocabulary_size"],
            max_length=max(task.shape["max_source_length"], task.shape["max_target_length"]),
        )


def sinusoidal_positions(length: int, d_model: int) -> torch.Tensor:
    """[length, d_model]: sin on even, cos on odd channels, wavelengths up to 10000 * 2pi."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)[:, : d_model // 2]
    return table


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.output = nn.Linear(d_model, d_model)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """[B, L, d] -> [B, heads, L, d / heads]."""
        return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor, allowed: torch.Tensor
    ) -> torch.Tensor:
        """x [B, Lq, d] attends to context [B, Lk, d] where allowed [B or 1, 1, Lq or 1, Lk].

        Written out rather than `F.scaled_dot_product_attention`, which has no vmap batching
        rule on CPU (vmap over mask samples would fall back to a slow loop).
        """
        query, key, value = (
            self._split(self.query(x)),
            self._split(self.key(context)),
            self._split(self.value(context)),
        )
        scores = query @ key.transpose(-1, -2) / math.sqrt(query.shape[-1])  # [B, h, Lq, Lk]
        weights = F.dropout(
            scores.masked_fill(~allowed, float("-inf")).softmax(-1), self.dropout, self.training
        )
        return self.output((weights @ value).transpose(1, 2).flatten(-2))


def feedforward(d_model: int, hidden: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_model, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, d_model)
    )


class EncoderLayer(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        d = config.d_model
        self.self_attention = MultiHeadAttention(d, config.heads, config.dropout)
        self.feedforward = feedforward(d, config.feedforward_size, config.dropout)
        self.norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(2))
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        x = self.norms[0](x + self.dropout(self.self_attention(x, x, allowed)))
        return self.norms[1](x + self.dropout(self.feedforward(x)))


class DecoderLayer(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        d = config.d_model
        self.self_attention = MultiHeadAttention(d, config.heads, config.dropout)
        self.cross_attention = MultiHeadAttention(d, config.heads, config.dropout)
        self.feedforward = feedforward(d, config.feedforward_size, config.dropout)
        self.norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(3))
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        x: torch.Tensor,  # [B, Lq, d]
        previous: torch.Tensor,  # [B, Lk, d]: this layer's inputs so far (keys of self-attention)
        self_allowed: torch.Tensor,
        memory: torch.Tensor,  # [B, S, d]
        memory_allowed: torch.Tensor,
    ) -> torch.Tensor:
        x = self.norms[0](x + self.dropout(self.self_attention(x, previous, self_allowed)))
        x = self.norms[1](x + self.dropout(self.cross_attention(x, memory, memory_allowed)))
        return self.norms[2](x + self.dropout(self.feedforward(x)))


class Seq2SeqTransformer(nn.Module):
    positions: torch.Tensor  # [max_length + 1, d_model], a buffer

    def __init__(
        self,
        config: TransformerConfig,
        source_vocabulary_size: int,
        target_vocabulary_size: int,
        max_length: int,
    ) -> None:
        super().__init__()
        self.d_model = config.d_model
        self.source_embedding = nn.Embedding(source_vocabulary_size, config.d_model)
        self.target_embedding = nn.Embedding(target_vocabulary_size, config.d_model)
        self.register_buffer(
            "positions", sinusoidal_positions(max_length + 1, config.d_model), persistent=False
        )
        self.dropout = nn.Dropout(config.dropout)
        self.encoder = nn.ModuleList(EncoderLayer(config) for _ in range(config.encoder_layers))
        self.decoder = nn.ModuleList(DecoderLayer(config) for _ in range(config.decoder_layers))
        self.output = (
            None if config.tie_output else nn.Linear(config.d_model, target_vocabulary_size)
        )

    def _embed(self, embedding: nn.Embedding, tokens: torch.Tensor, offset: int) -> torch.Tensor:
        positions = self.positions[offset : offset + tokens.shape[1]]
        return self.dropout(embedding(tokens) + positions)  # [B, L, d]

    def _logits(self, h: torch.Tensor) -> torch.Tensor:
        if self.output is None:
            return h @ self.target_embedding.weight.T * math.sqrt(1.0 / self.d_model)
        return self.output(h)

    def forward(
        self,
        source: torch.Tensor,  # [B, S]
        source_length: torch.Tensor,  # [B]
        target: torch.Tensor,  # [B, T]
        teacher_forcing: bool,
    ) -> torch.Tensor:
        """Logits [B, T, V]; without teacher forcing, greedy decoding for T steps."""
        columns = torch.arange(source.shape[1], device=source.device)
        source_allowed = (columns < source_length[:, None])[:, None, None]  # [B, 1, 1, S]
        memory = self._embed(self.source_embedding, source, 0)
        for layer in self.encoder:
            memory = layer(memory, source_allowed)
        if teacher_forcing:
            return self._decode_teacher_forced(target, memory, source_allowed)
        return self._decode_greedy(target.shape[1], memory, source_allowed)

    def _decode_teacher_forced(
        self, target: torch.Tensor, memory: torch.Tensor, source_allowed: torch.Tensor
    ) -> torch.Tensor:
        previous = torch.cat([torch.full_like(target[:, :1], SOS), target[:, :-1]], dim=1)
        length = target.shape[1]
        causal = torch.ones(length, length, dtype=torch.bool, device=target.device).tril()
        x = self._embed(self.target_embedding, previous, 0)
        for layer in self.decoder:
            x = layer(x, x, causal[None, None], memory, source_allowed)
        return self._logits(x)

    def _decode_greedy(
        self, steps: int, memory: torch.Tensor, source_allowed: torch.Tensor
    ) -> torch.Tensor:
        """One token per step; each layer keeps its past inputs as self-attention keys."""
        batch_size = memory.shape[0]
        token = torch.full((batch_size, 1), SOS, dtype=torch.long, device=memory.device)
        inputs: list[torch.Tensor | None] = [None] * len(self.decoder)
        everything = torch.ones(1, 1, 1, 1, dtype=torch.bool, device=memory.device)
        logits = []
        for t in range(steps):
            x = self._embed(self.target_embedding, token, t)  # [B, 1, d]
            for index, layer in enumerate(self.decoder):
                past = inputs[index]
                inputs[index] = x if past is None else torch.cat([past, x], dim=1)
                x = layer(x, inputs[index], everything, memory, source_allowed)
            logits.append(self._logits(x[:, 0]))  # [B, V]
            token = logits[-1].argmax(-1, keepdim=True)
        return torch.stack(logits, dim=1)
