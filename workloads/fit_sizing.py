"""How many mask fits of one base model one process should step together (`fit.fit_masks`)."""

from __future__ import annotations

# Measured (benchmarks/mask_speed.py, docs/performance.md): on the 2-core CPU, M fits of the
# 4x800 FNN, the LSTM or the CNN batched in one process ran 2-3x slower per fit-step than
# the same fits as one-fit processes; on a GPU, batching is what fills the device.
GPU_FITS_PER_JOB = 16


def default_fits_per_job(device_type: str) -> int:
    """How many fits of one base model one process should step together on this device."""
    return GPU_FITS_PER_JOB if device_type == "cuda" else 1


def fit_memory_mb(model_size: int, samples: int = 4) -> float:
    """Rough memory of one fit's step (float32): logits, their gradient and 2 Adam moments,
    and per mask sample the masked weights and their gradient. The noise is never stored
    (`masking.noise`); activations are left out (small next to weights at mask batch sizes)."""
    return (4 + 2 * samples) * model_size * 4 / 2**20


def fits_per_batch(model_size: int, memory_budget_mb: float, samples: int = 4) -> int:
    """How many fits of this size one process can step together within the budget (>= 1)."""
    return max(1, int(memory_budget_mb // fit_memory_mb(model_size, samples)))
