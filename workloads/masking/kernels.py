"""The Gumbel-sigmoid of a mask step: the textbook formula, and fast kernels that compute it.

`reference_sample` is the straight-through Gumbel-sigmoid as the paper writes it: the
readable definition the tests hold the fast kernels to. The fast kernels compute the same
masks and gradients without a log or an exp. Per masked tensor and step, the K mask samples
cost a few passes over K x n numbers: the noise (`noise.py`), the threshold and the
multiply; in the backward the noise again, the Gumbel-sigmoid derivative and the sum over
the K samples. Eager torch runs each operation as its own pass over memory;
`torch.compile` fuses each direction into one loop (measured on the CPU of docs/performance.md: 0.9 ms for the
forward of K=4 samples of a 800x800 layer, noise included, against 15 ms for `torch.rand`
alone). Compiling costs about 10-20 s once per process, so `auto` uses it only for fits
long enough to pay it back, and any failure to compile falls back to the eager kernels,
which compute the same numbers, with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Literal

import torch

from workloads.masking.noise import mask_uniforms

FusedKernels = Literal["auto", "on", "off"]
AUTO_MIN_STEPS = 1000  # compile pays back its ~15 s after a few hundred 4x800 steps


def reference_sample(logit: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """The textbook straight-through Gumbel-sigmoid (tau = 1) for uniforms u: the soft sample
    s = sigmoid(l + log(u) - log(1 - u)) forward rounded to [s > 0.5], backward that of s."""
    soft = torch.sigmoid(logit + torch.log(uniform) - torch.log1p(-uniform))
    return soft + ((soft > 0.5).to(soft.dtype) - soft).detach()


def keep_probability(logits: torch.Tensor) -> torch.Tensor:
    """sigmoid(l), below 1 so that the backward's p*u + (1-p)*(1-u) stays positive."""
    return torch.sigmoid(logits).clamp(max=1.0 - 1e-7)


def forward_kernel(
    logits: torch.Tensor, weight: torch.Tensor, key: torch.Tensor, samples: int
) -> list[torch.Tensor]:
    """K masked copies w * [u_k > 1 - p], the forward value of w * [sigmoid(l + logit(u)) > 0.5].

    logits: [*lead, n]; weight: [n]; key: [*lead, 2]. Returns K tensors [*lead, n].
    """
    threshold = 1.0 - keep_probability(logits)
    return [
        torch.where(uniform > threshold, weight, torch.zeros_like(weight))
        for uniform in mask_uniforms(key, weight.shape, samples)
    ]


def backward_kernel(
    grads: Sequence[torch.Tensor], weight: torch.Tensor, logits: torch.Tensor, key: torch.Tensor
) -> torch.Tensor:
    """dL/dl = sum_k dL/d(w m_k) * w * s_k(1 - s_k), s_k = p*u_k / (p*u_k + (1-p)*(1-u_k)).

    s_k is sigmoid(l + logit(u_k)) without a log or an exp; the noise is recomputed, not saved.
    """
    keep = keep_probability(logits)
    total = torch.zeros_like(keep)
    for grad, uniform in zip(grads, mask_uniforms(key, weight.shape, len(grads)), strict=True):
        kept_part = keep * uniform
        soft = kept_part / (kept_part + (1.0 - keep) * (1.0 - uniform))
        total = total + grad * weight * soft * (1.0 - soft)
    return total


def weight_gradient(
    grads: Sequence[torch.Tensor], weight: torch.Tensor, logits: torch.Tensor, key: torch.Tensor
) -> torch.Tensor:
    """dL/dw = sum_k dL/d(w m_k) * m_k: for weights trained with their mask (transfer, E7)."""
    threshold = 1.0 - keep_probability(logits)
    total = torch.zeros_like(weight)
    for grad, uniform in zip(grads, mask_uniforms(key, weight.shape, len(grads)), strict=True):
        total = total + (grad * (uniform > threshold)).sum_to_size(weight.shape)
    return total


# One compiled kernel per tensor size (shapes are flattened first): static sizes measured
# 1.4-1.7x faster than dynamic ones. The limit covers networks with many distinct sizes.
_RECOMPILE_LIMIT = 64


class MaskKernels:
    """Forward and backward of the masked weights on flat tensors; compiled when `fused`.

    One per fit loop: a failure to compile turns this object's kernels eager, no one
    else's. torch.compile keeps its compiled code per function, so a new object reuses
    what an earlier fit in the process compiled.
    """

    def __init__(self, fused: bool) -> None:
        self.fused = fused
        self._compiled: dict[str, Callable] = {}

    def forward(
        self, logits: torch.Tensor, weight: torch.Tensor, key: torch.Tensor, samples: int
    ) -> list[torch.Tensor]:
        return self._call(forward_kernel, logits, weight, key, samples)

    def backward(
        self,
        grads: Sequence[torch.Tensor],
        weight: torch.Tensor,
        logits: torch.Tensor,
        key: torch.Tensor,
    ) -> torch.Tensor:
        return self._call(backward_kernel, list(grads), weight, logits, key)

    def _call(self, kernel: Callable, *args: object):
        if self.fused:
            try:
                name = kernel.__name__
                if name not in self._compiled:
                    self._compiled[name] = torch.compile(kernel, dynamic=False)
                with torch._dynamo.config.patch(recompile_limit=_RECOMPILE_LIMIT):
                    return self._compiled[name](*args)
            except Exception as error:  # no compiler, unsupported device: eager still works
                warnings.warn(
                    f"torch.compile of the mask kernels failed, using eager ones: {error}",
                    stacklevel=2,
                )
                self.fused = False
        return kernel(*args)


EAGER = MaskKernels(fused=False)  # never changes: only a fused object falls back


def kernels_for(choice: FusedKernels, steps: int) -> MaskKernels:
    """The kernels of one fit loop: fused for `on`, or for `auto` when the fit is long."""
    if choice == "on" or (choice == "auto" and steps >= AUTO_MIN_STEPS):
        return MaskKernels(fused=True)
    return EAGER
