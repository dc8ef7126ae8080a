"""The hashed mask noise: uniform, independent across samples, weights and steps, reproducible."""

from __future__ import annotations

import torch

from workloads.masking.noise import UNIFORM_BITS, draw_keys, mask_uniforms


def uniforms_of(seed: int, shape=(300, 400), samples: int = 4) -> list[torch.Tensor]:
    key = draw_keys(torch.Generator().manual_seed(seed), 1)[0]
    return mask_uniforms(key, torch.Size(shape), samples)


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.flatten().double(), b.flatten().double()
    return float(torch.corrcoef(torch.stack([a, b]))[0, 1])


def test_uniforms_are_uniform_on_the_open_unit_interval():
    values = torch.cat([u.flatten() for u in uniforms_of(0)])  # 480,000 numbers
    assert float(values.min()) > 0.0 and float(values.max()) < 1.0
    counts = torch.histc(values, bins=20, min=0.0, max=1.0)
    expected = values.numel() / 20
    chi_square = float(((counts - expected) ** 2 / expected).sum())
    assert chi_square < 43.8, f"chi-square {chi_square:.1f} over 19 degrees of freedom (p=0.001)"
    assert abs(float(values.mean()) - 0.5) < 0.002


def test_keep_frequency_is_the_keep_probability():
    for keep in (0.02, 0.5, 0.9, 0.999):
        kept = torch.stack(uniforms_of(1)) > 1.0 - keep
        assert abs(float(kept.float().mean()) - keep) < 0.003, keep


def test_samples_weights_and_steps_are_uncorrelated():
    generator = torch.Generator().manual_seed(2)
    step_one, step_two = (
        mask_uniforms(key, torch.Size((600, 800)), 4) for key in draw_keys(generator, 2)
    )
    pairs = {
        "sample 0 vs 1 (one hash, two halves)": (step_one[0], step_one[1]),
        "sample 0 vs 2 (two hashes)": (step_one[0], step_one[2]),
        "neighbouring weights": (step_one[0][:, 1:], step_one[0][:, :-1]),
        "next step, same weight": (step_one[0], step_two[0]),
        "next step, next weight": (step_one[0][:, 1:], step_two[0][:, :-1]),
    }
    for name, (a, b) in pairs.items():
        assert abs(correlation(a, b)) < 0.006, name  # 480,000 pairs: sd of r is 0.0014


def test_same_key_gives_the_same_noise_and_another_seed_other_noise():
    assert all(torch.equal(a, b) for a, b in zip(uniforms_of(3), uniforms_of(3), strict=True))
    assert not torch.equal(uniforms_of(3)[0], uniforms_of(4)[0])


def test_stacked_keys_give_each_fit_its_own_noise():
    keys = torch.stack([draw_keys(torch.Generator().manual_seed(s), 1)[0] for s in (5, 6)])
    stacked = mask_uniforms(keys, torch.Size((7, 9)), 3)  # 3 x [2, 7, 9]
    for fit, seed in enumerate((5, 6)):
        alone = uniforms_of(seed, (7, 9), 3)
        assert all(torch.equal(s[fit], a) for s, a in zip(stacked, alone, strict=True))


def test_resolution_is_sixteen_bits():
    values = torch.cat([u.flatten() for u in uniforms_of(7)])
    scaled = values * 2**UNIFORM_BITS - 0.5
    assert torch.equal(scaled, scaled.round())
