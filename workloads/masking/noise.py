"""The uniform noise of the Gumbel-sigmoid mask samples: a hash of each weight's position.

A mask step needs one uniform number per masked weight and mask sample: K x n numbers, 8M
for the 4x800 FNN. torch's CPU generator draws them at ~150M/s on the 2-core CPU of
docs/performance.md, about 55 ms a step, three times the frozen network's own forward and backward. So the noise is not
drawn into a buffer: it is a hash of the weight's position under a per-step key, which the
fused kernels (`kernels.py`) compute inside the same loop as the mask (measured: 0.9 ms
for K=4 on a 800x800 layer, vs 15 ms for `torch.rand`), and which the backward pass
recomputes instead of saving.

- Keys: per step and masked tensor, an odd multiplier and an offset drawn from the fit's
  own mask generator (`noise_generator`), seeded from the job seed and the fit's identity
  (target function, data-order seed): the control, add and mul fits of one base model draw
  different noise, and a fit's noise depends only on its seed, identity and step, so
  batched and resumed fits see exactly the noise a lone, uninterrupted fit sees.
- Hash: position p -> lowbias32(p * multiplier + offset) (C. Wellons' integer hash, 32-bit
  wrapping arithmetic), a bijection of the 32-bit integers with full avalanche. The affine
  keying scatters positions differently every step, so no step's noise is a shifted copy of
  another's.
- Each 32-bit hash gives two 16-bit uniforms, (v + 0.5) / 2^16 in (0, 1): keep
  probabilities are resolved to 1/65536 and the logistic noise logit(u) reaches +-11.1.
  Both are far below what a mask fit can see (a weight kept with probability under 1.5e-5
  is dropped every step either way). tests/workloads/test_mask_noise.py checks uniformity
  and independence.
"""

from __future__ import annotations

import hashlib

import torch

UNIFORM_BITS = 16
_HALF = (1 << UNIFORM_BITS) - 1
_SCALE = 1.0 / (1 << UNIFORM_BITS)
# lowbias32's multipliers as signed int32 (torch has no uint32 arithmetic)
_MIX_1 = 0x7FEB352D
_MIX_2 = 0x846CA68B - (1 << 32)


def noise_generator(
    seed: int, target: str, data_seed: int | None, device: torch.device | str = "cpu"
) -> torch.Generator:
    """The mask noise generator of one fit: seeded from the job `seed` and the fit's
    identity (`target` function and, for E6, its `data_seed`), on `device`."""
    identity = f"{seed}/{target}" + ("" if data_seed is None else f"/order{data_seed}")
    digest = hashlib.blake2b(identity.encode(), digest_size=8).digest()
    return torch.Generator(device=device).manual_seed(int.from_bytes(digest, "little") >> 1)


def draw_keys(generator: torch.Generator, tensors: int) -> torch.Tensor:
    """One step's keys, [tensors, 2] int32 (odd multiplier, offset), from `generator`."""
    keys = torch.randint(
        -(2**31),
        2**31,
        (tensors, 2),
        generator=generator,
        dtype=torch.int32,
        device=generator.device,
    )
    keys[:, 0] |= 1
    return keys


def _shift_right(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of int32 (`>>` is arithmetic on signed integers)."""
    return (x >> bits) & ((1 << (32 - bits)) - 1)


def _lowbias32(x: torch.Tensor) -> torch.Tensor:
    x = x ^ _shift_right(x, 16)
    x = x * _MIX_1
    x = x ^ _shift_right(x, 15)
    x = x * _MIX_2
    return x ^ _shift_right(x, 16)


def mask_uniforms(key: torch.Tensor, shape: torch.Size, samples: int) -> list[torch.Tensor]:
    """The K uniforms of one masked tensor: K tensors [*lead, *shape], values in (0, 1).

    `key` is [*lead, 2]: lead dimensions (fits of a batch) broadcast in front of `shape`.
    Pure torch, so the same code runs eagerly and inside `torch.compile`; integer arithmetic
    is exact, so both give the same bits.
    """
    numel = 1
    for size in shape:
        numel *= size
    position = torch.arange(numel, dtype=torch.int32, device=key.device).view(shape)
    lead = key.shape[:-1]
    multiplier = key[..., 0].view(*lead, *([1] * len(shape)))
    offset = key[..., 1].view(*lead, *([1] * len(shape)))
    uniforms = []
    for pair in range((samples + 1) // 2):
        hashed = _lowbias32((position + pair * numel) * multiplier + offset)
        for half in (hashed & _HALF, _shift_right(hashed, UNIFORM_BITS)):
            uniforms.append(half.to(torch.float32) * _SCALE + 0.5 * _SCALE)
    return uniforms[:samples]
