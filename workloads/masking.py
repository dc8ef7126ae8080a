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


class _GumbelSigmoidStraightThrough(torch.autograd.Function):
    """Binary forward, sigmoid-derivative backward, for noise given as uniforms.

    With logistic noise n = logit(u), s = sigmoid(l + n) = p*u / (p*u + (1-p)*(1-u)) where
    p = sigmoid(l): one sigmoid per logit instead of a log, log and sigmoid per sample.
    """

    @staticmethod
    def forward(ctx, logits: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
        keep = torch.sigmoid(logits)  # [*shape]
        kept_part = keep * uniform  # [K, *shape]
        soft = kept_part / (kept_part + (1.0 - keep) * (1.0 - uniform))
        ctx.save_for_backward(soft)
        ctx.logit_shape = logits.shape
        return (soft > 0.5).to(logits.dtype)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (soft,) = ctx.saved_tensors
        # Sum over the sample dimension: [K, *shape] -> [*shape], or [M, K, *shape] ->
        # [M, 1, *shape] for the stacked logits of many fits (batched_fit).
        return (grad_output * soft * (1.0 - soft)).sum_to_size(ctx.logit_shape), None


def sample_masks(
    logits: Mapping[str, torch.Tensor], samples: int, generator: torch.Generator
) -> Masks:
    """K straight-through Gumbel-sigmoid samples per logit tensor: [K, *shape] each (tau = 1).

    The paper's noise, the difference of two Gumbel variables, is a standard logistic
    variable; we use logit(u) for one uniform u, the same distribution. Forward values are
    0/1 (s > 0.5), gradients those of s = sigmoid(l + noise).
    """
    masks = {}
    for name, logit in logits.items():
        uniform = torch.empty((samples, *logit.shape), device=logit.device)
        masks[name] = straight_through(logit, fill_mask_noise(uniform, generator))
    return masks


def fill_mask_noise(uniform: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Fill `uniform` in place with the mask noise of one logit tensor and return it.

    Uniforms in (0, 1), clamped away from 0 and 1 so that no sample is exactly 0 or 1;
    batched fits fill their slice of a stacked buffer with their own generator.
    """
    torch.rand(uniform.shape, generator=generator, device=uniform.device, out=uniform)
    return uniform.clamp_(1e-10, 1.0 - 1e-7)


def straight_through(logits: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Binary masks for the given noise; `logits` broadcast against `uniform` [.., K, *shape]."""
    return _GumbelSigmoidStraightThrough.apply(logits, uniform)


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
