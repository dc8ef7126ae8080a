"""Fused (torch.compile) and eager mask kernels compute the same masked weights and gradients."""

from __future__ import annotations

import torch

from workloads.mask_kernels import EAGER, MaskKernels, kernels_for
from workloads.masking import masked_weights


def values_and_gradient(kernels: MaskKernels, shape=(2, 3, 16, 12)):
    generator = torch.Generator().manual_seed(0)
    logit = torch.randn(shape[-2:], generator=generator, requires_grad=True)
    weight = torch.randn(shape[-2:], generator=generator)
    uniform = torch.rand(shape, generator=generator)
    upstream = torch.randn(shape, generator=generator)
    masked = masked_weights(logit, weight, uniform, kernels)
    (masked * upstream).sum().backward()
    return masked.detach(), logit.grad


def test_fused_kernels_match_eager_ones():
    fused = MaskKernels(fused=True)
    eager_values, eager_grad = values_and_gradient(EAGER)
    fused_values, fused_grad = values_and_gradient(fused)
    assert fused.fused, "torch.compile fell back to eager on this machine"
    assert torch.equal(fused_values, eager_values)
    assert torch.allclose(fused_grad, eager_grad, atol=1e-5)


def test_auto_fuses_only_long_fits():
    assert kernels_for("auto", 100) is EAGER
    assert kernels_for("auto", 20_000).fused
    assert kernels_for("off", 20_000) is EAGER
