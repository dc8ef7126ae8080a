"""Changes made to a trained base model before its masks are fitted, by name.

A sweep names one in `mask_fit.before_masking`; the fit and evaluation jobs apply it to
the loaded base model, so the masks and every accuracy see the changed network.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from workloads.data.double_add import copy_pair_weights

BEFORE_MASKING: dict[str, Callable[[nn.Module], None]] = {}

BEFORE_MASKING["copy_pair_weights"] = copy_pair_weights  # E2 copyweight control


def apply_before_masking(name: str | None, model: nn.Module) -> nn.Module:
    """`model` changed in place by the named transform (unchanged for None)."""
    if name is not None:
        BEFORE_MASKING[name](model)
    return model
