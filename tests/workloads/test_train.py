"""Base training settings."""

from __future__ import annotations

from workloads.train import TrainingConfig, learning_rate_factor


def test_learning_rate_schedule_warms_up_then_decays():
    config = TrainingConfig(warmup_steps=4, lr_decay_steps=[10, 20], lr_decay_factor=0.1)
    assert [learning_rate_factor(config, s) for s in (0, 1, 3)] == [0.25, 0.5, 1.0]
    assert (
        learning_rate_factor(config, 10) == 0.1
        and abs(learning_rate_factor(config, 25) - 0.01) < 1e-12
    )
