"""Mask variants of the paper's controls, on hand-made masks with known answers."""

from __future__ import annotations

import torch

from workloads.data.addmul import AddMulConfig
from workloads.fit import MaskFitConfig, fit_mask
from workloads.models.fnn import FeedforwardConfig
from workloads.variants import early_tensor_names, first_full_inverted, half_masks

NAMES = ["0.weight", "2.weight", "4.weight", "6.weight", "8.weight"]


def masks(value: bool) -> dict[str, torch.Tensor]:
    return {name: torch.full((2, 2), value) for name in NAMES}


def test_first_full_inverted_gives_the_io_tensors_the_control_mask():
    mask, control = masks(True), masks(True)
    control["0.weight"][0, 0] = False
    variant = first_full_inverted(mask, control)
    assert torch.equal(variant["0.weight"], control["0.weight"])
    assert torch.equal(variant["8.weight"], control["8.weight"])
    assert all(not variant[name].any() for name in NAMES[1:-1])  # inverted: all removed


def test_first_full_inverted_gives_whole_io_layers_with_biases_the_control_mask():
    names = ["fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias", "out.weight", "out.bias"]
    mask = {name: torch.ones(2, 2, dtype=torch.bool) for name in names}
    control = {name: torch.tensor([[True, False], [False, True]]) for name in names}
    variant = first_full_inverted(mask, control)
    for name in ["fc0.weight", "fc0.bias", "out.weight", "out.bias"]:
        assert torch.equal(variant[name], control[name]), name
    assert not variant["fc1.weight"].any() and not variant["fc1.bias"].any()


def test_early_tensors_are_the_first_ceil_or_floor_half_or_the_named_prefixes():
    assert early_tensor_names(NAMES, "ceil") == NAMES[:3]
    assert early_tensor_names(NAMES, "floor") == NAMES[:2]
    assert early_tensor_names(NAMES, prefixes=["0", "4.weight"]) == ["0.weight", "4.weight"]


def test_half_masks_split_the_control_mask_and_leave_the_rest_unmasked():
    halves = half_masks(masks(False), NAMES[:2])
    assert list(halves["half_early"]) == NAMES[:2]
    assert list(halves["half_late"]) == NAMES[2:]


def test_fixed_logits_are_returned_unchanged_and_the_rest_is_fitted():
    task = AddMulConfig(train_size=256, validation_size=32).build()
    model = FeedforwardConfig(hidden_sizes=[8]).build(task)
    fixed = {"2.weight": torch.randn(20, 8)}
    config = MaskFitConfig(steps=3, batch_size=16, learning_rate=0.5)
    outcome = fit_mask(model, task, "add", config, seed=0, fixed_logits=fixed)
    assert list(outcome.logits) == ["0.weight", "2.weight"]  # depth order
    assert torch.equal(outcome.logits["2.weight"], fixed["2.weight"])
    assert not torch.allclose(
        outcome.logits["0.weight"], torch.full((8, 42), 2.1972, dtype=torch.float32), atol=1e-3
    )
