"""Differentiable binary weight masks on any `torch.nn.Module`, without porting it.

- `masks.py`: masks as data (which weights, logits, the final mask, invert, counts).
- `sampling.py`: K straight-through Gumbel-sigmoid mask samples per fit step.
- `kernels.py`: the textbook Gumbel-sigmoid and the fast (optionally fused) kernels held to it.
- `noise.py`: the samples' uniform noise, a hash of each weight's position under a step key.

The names most callers need are importable from `workloads.masking` itself.
"""

from workloads.masking.kernels import reference_sample
from workloads.masking.masks import (
    Masks,
    Params,
    call_with,
    final_mask,
    initial_logits,
    invert,
    io_tensor_names,
    keep_probability_summary,
    layer_counts,
    maskable_parameter_names,
    masked_parameters,
    module_of,
    overlap_counts,
    shared_counts,
)
from workloads.masking.sampling import (
    MaskedCopies,
    masked_copies,
    masked_weights,
    sample_masked_weights,
    sample_masks,
)

__all__ = [
    "MaskedCopies",
    "Masks",
    "Params",
    "call_with",
    "final_mask",
    "initial_logits",
    "invert",
    "io_tensor_names",
    "keep_probability_summary",
    "layer_counts",
    "maskable_parameter_names",
    "masked_copies",
    "masked_parameters",
    "masked_weights",
    "module_of",
    "overlap_counts",
    "reference_sample",
    "sample_masked_weights",
    "sample_masks",
    "shared_counts",
]
