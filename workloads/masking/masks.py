"""Masks as data: which weights are masked, their logits, the final mask, and mask algebra.

A mask is one logit per masked weight, keyed by `named_parameters()` names; the final mask
keeps a weight iff its logit is positive. The masked network is run through
`torch.func.functional_call`, which swaps `w` for `w * mask` for one call and leaves the
module untouched. Sampling masks during a fit is `sampling.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
