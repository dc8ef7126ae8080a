"""Base-model training: the ordinary supervised loop the paper uses before masking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from workloads.data.base import Task, model_device, sample_batch, task_generators, to_device
from workloads.masking import call_with
from workloads.resume import (
    Checkpointer,
    Generators,
    GlobalGenerator,
    LoopState,
    check_finite,
    checkpoint_step,
    restore,
    snapshot,
)

MetricsCallback = Callable[[int, dict[str, float]], None]


class TrainingConfig(BaseModel):
    """Base training (paper: Adam 1e-3, batch 128, clip 1.0, no weight decay or schedule)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    steps: int = Field(20_000, gt=0)
    batch_size: int = Field(128, gt=0)
    optimizer: Literal["adam", "sgd"] = "adam"
    learning_rate: float = Field(1e-3, gt=0)
    grad_clip: float | None = Field(1.0, gt=0, description="global norm; null disables")
    weight_decay: float = Field(0.0, ge=0)
    momentum: float = Field(0.9, ge=0, description="SGD only")
    log_every: int = Field(100, gt=0, description="steps between metric points")
    checkpoint_every: int = Field(
        500, gt=0, description="steps between saved checkpoints that a resumed run continues from"
    )
    target_function: str | None = Field(
        None,
        description="the target function to train on (SCAN baselines: a split); null = control",
    )
    adam_betas: tuple[float, float] = Field((0.9, 0.999), description="Mathematics: (0.9, 0.995)")
    adam_eps: float = Field(1e-8, gt=0, description="Mathematics: 1e-9")
    warmup_steps: int = Field(0, ge=0, description="linear learning-rate warm-up")
    lr_decay_steps: list[int] = Field(
        default_factory=list, description="steps where lr is multiplied by lr_decay_factor (ResNet)"
    )
    lr_decay_factor: float = Field(0.1, gt=0)


def make_optimizer(config: TrainingConfig, params) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(
            params,
            lr=config.learning_rate,
            betas=config.adam_betas,
            eps=config.adam_eps,
            weight_decay=config.weight_decay,
        )
    return torch.optim.SGD(
        params, lr=config.learning_rate, momentum=config.momentum, weight_decay=config.weight_decay
    )


def learning_rate_factor(config: TrainingConfig, step: int) -> float:
    """Multiplier of the base lr after `step` optimizer steps: warm-up, then step decay."""
    warmup = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
    decays = sum(step >= boundary for boundary in config.lr_decay_steps)
    return warmup * config.lr_decay_factor**decays


def train_model(
    model: nn.Module,
    task: Task,
    config: TrainingConfig,
    seed: int,
    on_metrics: MetricsCallback | None = None,
    resume_from: LoopState | None = None,
    checkpointer: Checkpointer | None = None,
) -> list[dict[str, float]]:
    """Train `model` in place on the configured target (default: the task's control target);
    returns the metric history.

    `resume_from` continues from a `checkpointer` snapshot (weights, optimizer, step, data
    order, dropout and the task's own generators) as if training had never stopped.
    """
    generator = torch.Generator().manual_seed(seed)
    device = model_device(model)
    examples = task.train_examples(config.target_function or task.target_functions[0])
    optimizer = make_optimizer(config, model.parameters())
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_factor(config, step)
    )
    call = call_with(model, dict(model.named_parameters()))
    history: list[dict[str, float]] = []
    generators: Generators = {
        "data": generator,
        "global": GlobalGenerator(),
        **task_generators(task),
    }
    weights = model.state_dict(keep_vars=True)
    first_step = 1
    if resume_from is not None:
        restore(resume_from, weights, generators)
        optimizer.load_state_dict(resume_from.optimizer)  # the optimizer's lr included
        schedule.last_epoch = resume_from.step
        history = list(resume_from.history)
        first_step = resume_from.step + 1
    model.train()
    for step in range(first_step, config.steps + 1):
        batch = to_device(sample_batch(examples, config.batch_size, generator), device)
        result = task.step(call, batch, train=True)
        optimizer.zero_grad(set_to_none=True)
        result.loss.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        schedule.step()
        if step % config.log_every == 0 or step == config.steps:
            check_finite(result.loss, step)
            point = {
                "step": float(step),
                "loss": float(result.loss.detach()),
                "batch_accuracy": float(result.correct.float().mean()),
            }
            history.append(point)
            if on_metrics is not None:
                on_metrics(step, point)
        checkpoint_step(
            checkpointer,
            step,
            config.steps,
            lambda at: snapshot(at, weights, optimizer.state_dict(), generators, history),
        )
    model.eval()
    return history
