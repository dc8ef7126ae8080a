"""Extra mask variants for the paper's controls: "first full mask" (E2) and half masks (E10).

Masks here are final (boolean) masks keyed by parameter name in depth order (the model's
`named_parameters()` order), as the evaluation job holds them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import torch

from workloads.masking import Masks, invert, io_tensor_names

Rounding = Literal["ceil", "floor"]


def first_full_inverted(
    mask: Mapping[str, torch.Tensor], control: Mapping[str, torch.Tensor]
) -> Masks:
    """The inverted `mask`, except that the I/O tensors (all masked tensors of the first and
    the last masked layer, `io_tensor_names`) take the control mask: the inverse test
    without cutting input or output weights that every function needs."""
    variant = invert(mask)
    for name in io_tensor_names(list(mask)):
        variant[name] = control[name].clone()
    return variant


def early_tensor_names(
    names: Sequence[str], rounding: Rounding = "ceil", prefixes: Sequence[str] | None = None
) -> list[str]:
    """The "early" subset of masked tensors: those named by (or under) `prefixes` when
    given, else the first ceil(n/2) or floor(n/2) in depth order (docs/method.md, half-mask drop)."""
    if prefixes is not None:
        return matching_names(names, prefixes)
    half = len(names) / 2
    return list(names[: math.ceil(half) if rounding == "ceil" else math.floor(half)])


def half_masks(control: Mapping[str, torch.Tensor], early: Sequence[str]) -> dict[str, Masks]:
    """The control mask on the early tensors only ("half_early") and on the rest only
    ("half_late"); the tensors left out are unmasked (all weights kept)."""
    early_set = set(early)
    return {
        "half_early": {name: keep for name, keep in control.items() if name in early_set},
        "half_late": {name: keep for name, keep in control.items() if name not in early_set},
    }


def matching_names(names: Sequence[str], prefixes: Sequence[str]) -> list[str]:
    """The names equal to or under one of `prefixes` (`output` covers `output.weight`)."""
    return [n for n in names if any(n == p or n.startswith(f"{p}.") for p in prefixes)]
