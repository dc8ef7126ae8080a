"""The elementwise work of a mask step, eager or fused into one loop by torch.compile.

Per masked tensor and step, the K mask samples cost a few passes over K x n numbers
(threshold, multiply; in the backward the Gumbel-sigmoid derivative). Eager torch runs
each operation as its own pass; `torch.compile` fuses each direction into one pass,
measured 4-7x faster on this CPU for a 800x800 layer. Compiling costs about 10-20 s once
per process, so `auto` uses it only for fits long enough to pay it back, and any failure to
compile falls back to the eager kernels with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Literal

import torch

FusedKernels = Literal["auto", "on", "off"]
AUTO_MIN_STEPS = 1000  # compile pays back its ~15 s after a few hundred 4x800 steps


def forward_eager(keep: torch.Tensor, weight: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """w * [u > 1 - p]: the forward value of w * [sigmoid(l + logit(u)) > 0.5]."""
    return torch.gt(uniform, 1.0 - keep).to(weight.dtype).mul_(weight)


def backward_eager(
    grad: torch.Tensor, weight: torch.Tensor, keep: torch.Tensor, uniform: torch.Tensor
) -> torch.Tensor:
    """dL/dl per sample: dL/d(w m) * w * s(1-s), s = p*u / (p*u + (1-p)*(1-u))."""
    kept_part = keep * uniform
    soft = kept_part / (kept_part + (1.0 - keep) * (1.0 - uniform))
    return grad * weight * soft * (1.0 - soft)


def _forward_pure(keep: torch.Tensor, weight: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    return torch.where(uniform > 1.0 - keep, weight, torch.zeros_like(weight))


class MaskKernels:
    """Forward and backward of the masked weights; compiled on first use when `fused`."""

    def __init__(self, fused: bool) -> None:
        self.fused = fused
        self._compiled: dict[str, Callable] = {}

    def forward(
        self, keep: torch.Tensor, weight: torch.Tensor, uniform: torch.Tensor
    ) -> torch.Tensor:
        return self._call("forward", _forward_pure, forward_eager, keep, weight, uniform)

    def backward(
        self, grad: torch.Tensor, weight: torch.Tensor, keep: torch.Tensor, uniform: torch.Tensor
    ) -> torch.Tensor:
        return self._call("backward", backward_eager, backward_eager, grad, weight, keep, uniform)

    def _call(
        self, name: str, pure: Callable, eager: Callable, *tensors: torch.Tensor
    ) -> torch.Tensor:
        if self.fused:
            try:
                if name not in self._compiled:
                    self._compiled[name] = torch.compile(pure, dynamic=True)
                return self._compiled[name](*tensors)
            except Exception as error:  # no compiler, unsupported device: eager still works
                warnings.warn(
                    f"torch.compile of the mask kernels failed, using eager ones: {error}",
                    stacklevel=2,
                )
                self.fused = False
        return eager(*tensors)


EAGER = MaskKernels(fused=False)
FUSED = MaskKernels(fused=True)  # one per process: compiled once, reused by every fit


def kernels_for(choice: FusedKernels, steps: int) -> MaskKernels:
    if choice == "on" or (choice == "auto" and steps >= AUTO_MIN_STEPS):
        return FUSED
    return EAGER
