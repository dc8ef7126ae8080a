"""Control masks the paper lacks: is removing a module worse than removing any weights?

`random_removal` removes, in every tensor, as many weights as the inverted mask of f
removes (the weights f's mask keeps), but chosen at random: "random-f" beside "not-f".
`io_kept` leaves the first and last masked layers whole (weights and biases alike,
`masking.io_tensor_names`), so an inverse test measures the hidden module without cutting
the input and output weights every function needs.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from workloads.masking import Masks, io_tensor_names


def random_removal(mask: Mapping[str, torch.Tensor], generator: torch.Generator) -> Masks:
    """Per tensor: remove #kept(mask) uniformly chosen weights, keep the rest."""
    result = {}
    for name, keep in mask.items():
        removed = int(keep.sum())
        order = torch.randperm(keep.numel(), generator=generator)
        random_keep = torch.ones(keep.numel(), dtype=torch.bool)
        random_keep[order[:removed]] = False
        result[name] = random_keep.view_as(keep).to(keep.device)
    return result


def io_kept(mask: Mapping[str, torch.Tensor]) -> Masks:
    """The same mask with the I/O tensors (`io_tensor_names`, depth order) kept whole."""
    result = dict(mask)
    for name in io_tensor_names(list(mask)):
        result[name] = torch.ones_like(mask[name], dtype=torch.bool)
    return result
