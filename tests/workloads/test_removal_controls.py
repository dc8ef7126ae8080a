"""Control masks beside the inverse test, on hand-made masks with known answers."""

from __future__ import annotations

import torch

from workloads.controls import io_kept, random_removal
from workloads.masking import invert

# a CIFAR-style mask with masked biases: input layer, hidden layer, output layer
NAMES = ["fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias", "out.weight", "out.bias"]


def full_mask() -> dict[str, torch.Tensor]:
    return {
        name: torch.ones(3, 2 if name.endswith("weight") else 1, dtype=torch.bool) for name in NAMES
    }


def test_io_kept_keeps_the_first_and_last_layers_whole_weights_and_biases_alike():
    kept = io_kept(invert(full_mask()))  # the inverse of a keep-all mask removes everything
    for name in ["fc0.weight", "fc0.bias", "out.weight", "out.bias"]:
        assert kept[name].all(), name
    assert not kept["fc1.weight"].any() and not kept["fc1.bias"].any()


def test_random_removal_io_kept_keeps_whole_io_layers_and_removes_as_many_hidden_weights():
    mask = full_mask()
    random = random_removal(mask, torch.Generator().manual_seed(0))
    assert all(int((~random[name]).sum()) == mask[name].numel() for name in NAMES)
    kept = io_kept(random)
    assert all(kept[name].all() for name in ["fc0.weight", "fc0.bias", "out.weight", "out.bias"])
    assert not kept["fc1.weight"].any()
