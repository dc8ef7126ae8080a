"""Mask fitting's gradient clipping, on a net small enough to follow by hand."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from workloads.data.base import StepResult
from workloads.fit import MaskFitConfig, fit_mask


class ZeroInputs:
    """A 1-in 1-out linear net on zero inputs: the masked weight never changes the output,
    so the logit's gradient is the regularization's alone (beta / B) and the unmasked
    bias's gradient is exactly 1 at every step."""

    target_functions = ("all",)
    shape: dict[str, int] = {}

    def train_examples(self, target: str) -> dict[str, torch.Tensor]:
        return {"x": torch.zeros(4, 1)}

    eval_examples = train_examples

    def step(self, call, batch, train: bool) -> StepResult:
        out = call(batch["x"])  # [B, 1], the bias alone
        return StepResult(loss=out.mean(), correct=torch.zeros(len(out), dtype=torch.bool))


def adam_path(gradients: list[float], learning_rate: float) -> float:
    """Where Adam takes a logit that starts at 2.0 under these gradients."""
    logit = torch.tensor([2.0], requires_grad=True)
    optimizer = torch.optim.Adam([logit], lr=learning_rate)
    for gradient in gradients:
        logit.grad = torch.tensor([gradient])
        optimizer.step()
    return float(logit.detach())


# beta / B = 3 / 4 = 0.75 per logit; clip at 0.5; two steps
CONFIG = MaskFitConfig(
    steps=2,
    batch_size=4,
    mask_samples_per_step=2,
    regularization_weight=3.0,
    grad_clip=0.5,
    learning_rate=0.1,
)


def fitted_logit(config: MaskFitConfig) -> float:
    model = nn.Linear(1, 1)
    return float(fit_mask(model, ZeroInputs(), "all", config, seed=0).logits["weight"])


def test_clipping_counts_only_the_logits_by_default():
    assert not MaskFitConfig().clip_includes_frozen_gradients
    # 0.75 clipped to 0.5 at both steps
    assert fitted_logit(CONFIG) == pytest.approx(adam_path([0.5, 0.5], 0.1), abs=1e-6)


def test_official_clipping_counts_the_frozen_gradients_summed_over_steps():
    config = CONFIG.model_copy(update={"clip_includes_frozen_gradients": True})
    # step 1: bias gradient sum 1, norm sqrt(0.75^2 + 1^2) = 1.25, scale 0.4: logit 0.3, and
    # the bias sum is scaled too, to 0.4; step 2: bias sum 0.4 + 1 = 1.4
    second = 0.75 * 0.5 / math.sqrt(0.75**2 + 1.4**2)
    assert fitted_logit(config) == pytest.approx(adam_path([0.3, second], 0.1), abs=1e-6)
    assert fitted_logit(config) != pytest.approx(adam_path([0.5, 0.5], 0.1), abs=1e-6)
