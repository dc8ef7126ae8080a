"""Fused (torch.compile) and eager mask kernels compute the same masked weights and gradients."""

from __future__ import annotations

import pytest
import torch

from workloads.masking import masked_weights
from workloads.masking.kernels import EAGER, MaskKernels, kernels_for
from workloads.masking.noise import draw_keys


def values_and_gradient(kernels: MaskKernels, lead: tuple[int, ...] = (), samples: int = 3):
    """Masked copies and logit gradient for [*lead, 16, 12] logits (lead = fits of a batch)."""
    generator = torch.Generator().manual_seed(0)
    logit = torch.randn((*lead, 16, 12), generator=generator, requires_grad=True)
    weight = torch.randn((16, 12), generator=generator)
    keys = draw_keys(generator, lead[0] if lead else 1)
    key = keys if lead else keys[0]
    upstream = torch.randn((samples, *lead, 16, 12), generator=generator)
    masked = torch.stack(masked_weights(logit, weight, key, samples, kernels))
    (masked * upstream).sum().backward()
    return masked.detach(), logit.grad


def test_fused_kernels_match_eager_ones():
    fused = MaskKernels(fused=True)
    for lead in ((), (2,)):
        eager_values, eager_grad = values_and_gradient(EAGER, lead)
        fused_values, fused_grad = values_and_gradient(fused, lead)
        assert fused.fused, "torch.compile fell back to eager on this machine"
        assert torch.equal(fused_values, eager_values), lead
        assert torch.allclose(fused_grad, eager_grad, atol=1e-5), lead


def test_a_batch_of_fits_gets_what_each_fit_gets_alone():
    batched_values, batched_grad = values_and_gradient(EAGER, (2,))
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn((2, 16, 12), generator=generator)
    weight = torch.randn((16, 12), generator=generator)
    keys = draw_keys(generator, 2)
    for fit in range(2):
        alone = torch.stack(masked_weights(logits[fit], weight, keys[fit], 3))
        assert torch.equal(alone, batched_values[:, fit])


def test_auto_fuses_only_long_fits():
    assert kernels_for("auto", 100) is EAGER
    assert kernels_for("auto", 20_000).fused
    assert kernels_for("off", 20_000) is EAGER


def test_a_failed_compile_turns_only_that_loops_kernels_eager(monkeypatch):
    def no_compiler(*args, **kwargs):
        raise RuntimeError("no compiler here")

    with monkeypatch.context() as patched:
        patched.setattr(torch, "compile", no_compiler)
        failed = kernels_for("on", 10)
        with pytest.warns(UserWarning, match="using eager ones"):
            values, grad = values_and_gradient(failed)
    assert not failed.fused
    assert kernels_for("on", 10).fused  # the next loop tries again: no process-wide switch
    eager_values, eager_grad = values_and_gradient(EAGER)
    assert torch.equal(values, eager_values) and torch.equal(grad, eager_grad)
