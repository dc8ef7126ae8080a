"""Differentiable binary weight masks on any `torch.nn.Module`, without porting it.

A mask is one logit per masked weight. Training samples binary masks with the
Gumbel-sigmoid and the straight-through estimator; the final mask keeps a weight iff its
logit is positive. The masked network is run through `torch.func.functional_call`, which
swaps `w` for `w * mask` for one call and leaves the module untouched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn
from torch.func import functional_call

from workloads.mask_kernels import EAGER, MaskKernels

Masks = dict[str, torch.Tensor]
Params = dict[str, torch.Tensor]

_NEVER_MASKED = (nn.Embedding, nn.EmbeddingBag)
_NORMS = (nn.LayerNorm, nn.GroupNorm)
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def maskable_parameter_names(model: nn.Module, mask_biases: bool) -> list[str]:
    """The paper's mask filter, in definition (= depth) order.

    Every weight matrix and conv kernel is masked; biases only when `mask_biases`;
    LayerNorm gain and bias always; BatchNorm weight and bias only with `mask_biases`;
    embeddings (and an output layer tied to one) never.
    """
    owner: dict[int, nn.Module] = {}
    for module in model.modules():
        for param in module.parameters(recurse=False):
            owner.setdefault(id(param), module)
    names = []
    for name, param in model.named_parameters():  # tied parameters appear once
        module = owner[id(param)]
        leaf = name.rsplit(".", 1)[-1]
        if isinstance(module, _NEVER_MASKED):
            continue
        if isinstance(module, _NORMS):
            names.append(name)
        elif isinstance(module, _BATCH_NORMS) or leaf.startswith("bias"):
            if mask_biases:
                names.append(name)
        else:
            names.append(name)
    return names


def logit_of(keep_probability: float) -> float:
    if not 0.0 < keep_probability < 1.0:
        raise ValueError(f"keep probability must be in (0, 1), got {keep_probability}")
    return math.log(keep_probability / (1.0 - keep_probability))


def initial_logits(model: nn.Module, names: list[str], keep_probability: float) -> Params:
    params = dict(model.named_parameters())
    value = logit_of(keep_probability)
    return {
        name: torch.full_like(params[name], value, requires_grad=True).detach().requires_grad_()
        for name in names
    }


class _MaskedWeights(torch.autograd.Function):
    """w * mask for K straight-through Gumbel-sigmoid mask samples, in one step.

    With logistic noise n = logit(u) and p = sigmoid(l), s = sigmoid(l + n) =
    p*u / (p*u + (1-p)*(1-u)), and s > 0.5 exactly when u > 1 - p: the forward pass needs
    one sigmoid per logit and a comparison per sample, no log or division. The backward pass
    recomputes s from the saved uniforms and returns dL/dl = sum_k dL/d(w m_k) * w * s_k(1-s_k)
    without materialising the gradient of the mask itself.
    """

    @staticmethod
    def forward(
        ctx, logits: torch.Tensor, weight: torch.Tensor, uniform: torch.Tensor, kernels: MaskKernels
    ) -> torch.Tensor:
        # p < 1 keeps the backward's denominator p*u + (1-p)*(1-u) positive for u in [0, 1)
        keep = torch.sigmoid(logits).clamp_(max=1.0 - 1e-7)  # [*shape] or [M, 1, *shape]
        ctx.save_for_backward(keep, weight, uniform)
        ctx.logit_shape = logits.shape
        ctx.kernels = kernels
        return kernels.forward(keep, weight, uniform)  # [.., K, *shape]

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        keep, weight, uniform = ctx.saved_tensors
        per_sample = ctx.kernels.backward(grad_output, weight, keep, uniform)
        grad_logits = per_sample.sum_to_size(ctx.logit_shape)
        grad_weight = None
        if ctx.needs_input_grad[1]:  # weights trained with their mask (transfer, E7)
            grad_weight = (grad_output * (uniform > (1.0 - keep))).sum_to_size(weight.shape)
        return grad_logits, grad_weight, None, None


def masked_weights(
    logits: torch.Tensor, weight: torch.Tensor, uniform: torch.Tensor, kernels: MaskKernels = EAGER
) -> torch.Tensor:
    """`weight` times binary masks for the given noise; `logits` broadcast against `uniform`."""
    return _MaskedWeights.apply(logits, weight, uniform, kernels)


def sample_masked_weights(
    logits: Mapping[str, torch.Tensor],
    weights: Mapping[str, torch.Tensor],
    samples: int,
    generator: torch.Generator,
    kernels: MaskKernels = EAGER,
) -> Params:
    """Per masked tensor, K masked copies of its weight: [K, *shape] each (tau = 1).

    The paper's noise, the difference of two Gumbel variables, is a standard logistic
    variable; we use logit(u) for one uniform u, the same distribution. Forward values are
    w * [s > 0.5], gradients those of w * s with s = sigmoid(l + noise).
    """
    masked = {}
    for name, logit in logits.items():
        uniform = torch.empty((samples, *logit.shape), device=logit.device)
        noise = fill_mask_noise(uniform, generator)
        masked[name] = masked_weights(logit, weights[name], noise, kernels)
    return masked


def sample_masks(
    logits: Mapping[str, torch.Tensor], samples: int, generator: torch.Generator
) -> Masks:
    """K straight-through binary mask samples per logit tensor: [K, *shape] each."""
    ones = {name: torch.ones_like(logit).detach() for name, logit in logits.items()}
    return sample_masked_weights(logits, ones, samples, generator)


def fill_mask_noise(uniform: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Fill `uniform` in place with the mask noise of one logit tensor and return it.

    Uniforms in [0, 1); batched fits fill their slice of a stacked buffer with their own
    generator.
    """
    return torch.rand(uniform.shape, generator=generator, device=uniform.device, out=uniform)


def reference_sample(logit: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """The textbook straight-through Gumbel-sigmoid for the same uniforms (used by tests)."""
    soft = torch.sigmoid(logit + torch.log(uniform) - torch.log1p(-uniform))
    return soft + ((soft > 0.5).to(soft.dtype) - soft).detach()


def final_mask(logits: Mapping[str, torch.Tensor]) -> Masks:
    """The deterministic mask every evaluation uses: keep iff logit > 0."""
    return {name: (logit > 0).detach() for name, logit in logits.items()}


def invert(mask: Mapping[str, torch.Tensor]) -> Masks:
    """Remove what the mask keeps, keep what it removes (on every masked tensor)."""
    return {name: ~keep for name, keep in mask.items()}


def masked_parameters(model: nn.Module, mask: Mapping[str, torch.Tensor]) -> Params:
    """The model's parameters with each masked tensor multiplied by its mask."""
    params = {name: p.detach() for name, p in model.named_parameters()}
    for name, keep in mask.items():
        params[name] = params[name] * keep.to(params[name].dtype)
    return params


def call_with(model: nn.Module, params: Mapping[str, torch.Tensor]):
    """A callable that runs `model` with `params` swapped in (buffers kept)."""

    def call(*args, **kwargs):
        return functional_call(model, dict(params), args, kwargs, strict=False)

    return call


def keep_probability_summary(
    logits: Mapping[str, torch.Tensor], bins: int = 500
) -> dict[str, object]:
    """Shares of sigmoid(l) in [0, 0.1], (0.1, 0.9), [0.9, 1] and a histogram on [0, 1]."""
    keep = torch.cat(
        [torch.sigmoid(logit.detach().float()).flatten().cpu() for logit in logits.values()]
    )
    total = keep.numel()
    return {
        "mass_low": float((keep <= 0.1).sum()) / total,
        "mass_high": float((keep >= 0.9).sum()) / total,
        "mass_middle": float(((keep > 0.1) & (keep < 0.9)).sum()) / total,
        "histogram": torch.histc(keep, bins=bins, min=0.0, max=1.0).long().tolist(),
    }


def layer_counts(mask: Mapping[str, torch.Tensor]) -> dict[str, tuple[int, int]]:
    """Per masked tensor: (weights kept, weights in the tensor)."""
    return {name: (int(keep.sum()), keep.numel()) for name, keep in mask.items()}


def overlap_counts(
    mask_a: Mapping[str, torch.Tensor], mask_b: Mapping[str, torch.Tensor]
) -> dict[str, dict[str, int]]:
    """Per masked tensor: kept by A, kept by B, kept by both, total."""
    return {
        name: {
            "kept_a": int(mask_a[name].sum()),
            "kept_b": int(mask_b[name].sum()),
            "both": int((mask_a[name] & mask_b[name]).sum()),
            "total": mask_a[name].numel(),
        }
        for name in mask_a
    }
