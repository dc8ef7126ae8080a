"""Tensors <-> bytes with safetensors: checkpoints and masks load without pickle."""

from __future__ import annotations

import json

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save


class CorruptTensorFile(ValueError):
    """The bytes are not a complete safetensors file."""


def tensors_to_bytes(
    tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> bytes:
    return save(
        {name: t.detach().contiguous().cpu() for name, t in tensors.items()}, metadata=metadata
    )


def tensors_from_bytes(data: bytes) -> dict[str, torch.Tensor]:
    try:
        return load(data)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise CorruptTensorFile(f"not a valid safetensors file ({error})") from None


def metadata_from_bytes(data: bytes) -> dict[str, str]:
    """The string metadata stored in a safetensors header (validated by loading first)."""
    tensors_from_bytes(data)
    size = int.from_bytes(data[:8], "little")
    return dict(json.loads(data[8 : 8 + size]).get("__metadata__") or {})
