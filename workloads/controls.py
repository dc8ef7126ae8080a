"""Control masks the paper lacks: is removing a module worse than removing any weights?

`random_removal` removes, in every tensor, as many weights as the inverted mask of f
removes (the weights f's mask keeps), but chosen at random: "random-f" beside "not-f".
`io_kept` leaves the first and last masked tensors whole, so an inverse test measures the
hidden module without cutting the input and output weights every function needs.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from workloads.masking import Masks


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
    """The same mask with its first and last tensors (depth order) kept whole."""
    names = list(mask)
    result = dict(mask)
    for name in {names[0], names[-1]}:
        result[name] = torch.ones_like(mask[name], dtype=torch.bool)
    return result
