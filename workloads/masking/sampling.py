"""Mask samples for a fit step: K copies of each weight times straight-through binary masks.

Training samples binary masks with the Gumbel-sigmoid and the straight-through estimator
(tau = 1): forward values w * [s > 0.5], gradients those of w * s with s = sigmoid(l + noise).
The noise comes from per-step keys (`noise.py`), the elementwise work from `kernels.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from workloads.masking.kernels import EAGER, MaskKernels, weight_gradient
from workloads.masking.masks import Masks
from workloads.masking.noise import draw_keys

MaskedCopies = dict[str, list[torch.Tensor]]  # per masked tensor, its K masked copies


class _MaskedWeights(torch.autograd.Function):
    """w * mask for K straight-through Gumbel-sigmoid mask samples, in one step.

    With logistic noise n = logit(u) and p = sigmoid(l), s = sigmoid(l + n) =
    p*u / (p*u + (1-p)*(1-u)), and s > 0.5 exactly when u > 1 - p: the forward pass needs
    one sigmoid per logit and a comparison per sample, no log or division. The kernels see
    flat tensors, so one compiled kernel serves every tensor of the same size. The uniforms u
    come from `key` (`noise.py`); the backward pass recomputes them and returns
    dL/dl = sum_k dL/d(w m_k) * w * s_k(1-s_k) without materialising the mask's gradient.
    The K copies are separate outputs, so K separate model calls use them without a copy.
    """

    @staticmethod
    def forward(ctx, logits, weight, key, samples, kernels):
        lead = logits.shape[: logits.dim() - weight.dim()]
        flat_logits, flat_weight = logits.reshape(*lead, -1), weight.reshape(-1)
        ctx.save_for_backward(flat_logits, flat_weight, key)
        ctx.kernels, ctx.shapes = kernels, (logits.shape, weight.shape)
        copies = kernels.forward(flat_logits, flat_weight, key, samples)  # K x [*lead, n]
        shape = (*lead, *weight.shape)
        return tuple(copy.view(shape) for copy in copies)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        logits, weight, key = ctx.saved_tensors
        logit_shape, weight_shape = ctx.shapes
        flat = [grad.reshape(*logits.shape[:-1], -1) for grad in grads]
        grad_logits = ctx.kernels.backward(flat, weight, logits, key).view(logit_shape)
        grad_weight = None
        if ctx.needs_input_grad[1]:  # weights trained with their mask (transfer, E7)
            grad_weight = weight_gradient(flat, weight, logits, key).view(weight_shape)
        return grad_logits, grad_weight, None, None, None


def masked_weights(
    logits: torch.Tensor,
    weight: torch.Tensor,
    key: torch.Tensor,
    samples: int,
    kernels: MaskKernels = EAGER,
) -> list[torch.Tensor]:
    """K copies of `weight` times binary masks for the noise of `key`: [*lead, *shape] each.

    `logits` is [*lead, *shape] and `key` [*lead, 2] (`noise.draw_keys`); lead
    dimensions stack the fits of a batch.
    """
    return list(_MaskedWeights.apply(logits, weight, key, samples, kernels))


def sample_masked_weights(
    logits: Mapping[str, torch.Tensor],
    weights: Mapping[str, torch.Tensor],
    samples: int,
    generator: torch.Generator,
    kernels: MaskKernels = EAGER,
) -> MaskedCopies:
    """Per masked tensor, K masked copies of its weight (tau = 1), for one step.

    Draws the step's keys from `generator`. The paper's noise, the difference of two Gumbel
    variables, is a standard logistic variable; we use logit(u) for one uniform u, the same
    distribution. Forward values are w * [s > 0.5], gradients those of w * s with
    s = sigmoid(l + noise).
    """
    return masked_copies(logits, weights, draw_keys(generator, len(logits)), samples, kernels)


def masked_copies(
    logits: Mapping[str, torch.Tensor],
    weights: Mapping[str, torch.Tensor],
    keys: torch.Tensor,
    samples: int,
    kernels: MaskKernels = EAGER,
) -> MaskedCopies:
    """`sample_masked_weights` for keys already drawn ([tensors, 2], one row per logit tensor):
    a step that may be tried two ways (vmapped, then looped) draws its keys once."""
    return {
        name: masked_weights(logit, weights[name], key, samples, kernels)
        for (name, logit), key in zip(logits.items(), keys, strict=True)
    }


def sample_masks(
    logits: Mapping[str, torch.Tensor], samples: int, generator: torch.Generator
) -> Masks:
    """K straight-through binary mask samples per logit tensor: [K, *shape] each."""
    ones = {name: torch.ones_like(logit).detach() for name, logit in logits.items()}
    copies = sample_masked_weights(logits, ones, samples, generator)
    return {name: torch.stack(masks) for name, masks in copies.items()}
