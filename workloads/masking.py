"""Differentiable binary weight masks on any `torch.nn.Module`, without porting it.

A mask is one logit per masked weight. Training samples binary masks with the
Gumbel-sigmoid and the straight-through estimator; the final mask keeps a weight iff its
logit is positive. The masked network is run through `torch.func.functional_call`, which
swaps `w` for `w * mask` for one call and leaves the module untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torch.func import functional_call

from workloads.mask_kernels import EAGER, MaskKernels, weight_gradient
from workloads.mask_noise import draw_keys

Masks = dict[str, torch.Tensor]
Params = dict[str, torch.Tensor]
MaskedCopies = dict[str, list[torch.Tensor]]  # per masked tensor, its K masked copies

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


def module_of(name: str) -> str:
    """The module that owns a parameter: `layers.0` for `layers.0.weight`."""
    return name.rsplit(".", 1)[0] if "." in name else ""


def io_tensor_names(names: Sequence[str]) -> list[str]:
    """The I/O tensors: every masked tensor of the first and of the last masked module.

    `names` are masked tensors in depth order. A layer's weight and bias go together, so a
    model with masked biases keeps (or inverts) its input and output layers whole: FNN the
    first and last linear, LSTM the layer-0 input matrix and the output projection, CNN the
    first convolution and the output layer.
    """
    if not names:
        return []
    ends = {module_of(names[0]), module_of(names[-1])}
    return [name for name in names if module_of(name) in ends]


def initial_logits(model: nn.Module, names: list[str], logit: float) -> Params:
    """Fresh trainable logits, all `logit`, for the named parameters."""
    params = dict(model.named_parameters())
    return {name: torch.full_like(params[name], logit).requires_grad_() for name in names}


class _MaskedWeights(torch.autograd.Function):
    """w * mask for K straight-through Gumbel-sigmoid mask samples, in one step.

    With logistic noise n = logit(u) and p = sigmoid(l), s = sigmoid(l + n) =
    p*u / (p*u + (1-p)*(1-u)), and s > 0.5 exactly when u > 1 - p: the forward pass needs
    one sigmoid per logit and a comparison per sample, no log or division. The kernels see
    flat tensors, so one compiled kernel serves every tensor of the same size. The uniforms u
    come from `key` (`mask_noise`); the backward pass recomputes them and returns
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

    `logits` is [*lead, *shape] and `key` [*lead, 2] (`mask_noise.draw_keys`); lead
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
    keys = draw_keys(generator, len(logits))
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


def shared_counts(
    masks: Mapping[str, Mapping[str, torch.Tensor]],
) -> dict[str, dict[str, tuple[int, int, int]]]:
    """Per mask A and tensor j: (#M_A,j, #(M_A,j and union of M_B,j over B != A), total).

    The paper's shared proportion per layer is shared / kept; `masks` holds only the masks
    to compare (callers leave the control mask out). Pairwise overlaps cannot give this
    union once there are three or more masks.
    """
    result = {}
    for label, mask in masks.items():
        others = [other for name, other in masks.items() if name != label]
        counts = {}
        for name, keep in mask.items():
            union = torch.zeros_like(keep)
            for other in others:
                union |= other[name]
            counts[name] = (int(keep.sum()), int((keep & union).sum()), keep.numel())
        result[label] = counts
    return result
