"""Batched mask fits end where separate `fit_mask` runs with the same seeds end."""

from __future__ import annotations

import pytest
import torch

from workloads.data.addmul import AddMulConfig
from workloads.fit import FitRequest, MaskFitConfig, fit_mask, fit_masks
from workloads.fit_sizing import default_fits_per_job, fit_memory_mb, fits_per_batch
from workloads.models.fnn import build_feedforward


@pytest.fixture(scope="module")
def task():
    return AddMulConfig(train_size=2000, validation_size=100).build()


def tiny_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_feedforward(42, [16, 16], 20)


def separate_fits(task, requests):
    return [fit_mask(tiny_model(), task, r.target, r.config, r.seed) for r in requests]


CONFIG = MaskFitConfig(steps=5, batch_size=16, mask_samples_per_step=4, log_every=1)
REQUESTS = [
    FitRequest("add", CONFIG, seed=3),
    FitRequest("mul", CONFIG, seed=3),
    FitRequest("all", CONFIG.model_copy(update={"regularization_weight": 0.5}), seed=7),
]


def test_looped_batch_equals_separate_fits_exactly(task):
    batched = fit_masks(tiny_model(), task, REQUESTS, vectorize=False)
    for ours, alone in zip(batched, separate_fits(task, REQUESTS), strict=True):
        for name in alone.logits:
            assert torch.equal(ours.logits[name], alone.logits[name])
        assert ours.history == alone.history


def test_vectorized_batch_matches_separate_fits_to_float_rounding(task):
    # vmap turns the matmuls into batched ones, which may sum in another order.
    batched = fit_masks(tiny_model(), task, REQUESTS, vectorize=True)
    for ours, alone in zip(batched, separate_fits(task, REQUESTS), strict=True):
        for name in alone.logits:
            torch.testing.assert_close(ours.logits[name], alone.logits[name], atol=1e-5, rtol=0)
        assert [p["batch_accuracy"] for p in ours.history] == [
            p["batch_accuracy"] for p in alone.history
        ]


def test_gradient_clipping_is_per_fit(task):
    # A huge regularization weight gives fit 1 a huge gradient norm; if clipping were over
    # all fits together, fit 0's update would shrink and no longer match its own run.
    clipped = CONFIG.model_copy(update={"grad_clip": 0.01})
    requests = [
        FitRequest("add", clipped, seed=1),
        FitRequest("add", clipped.model_copy(update={"regularization_weight": 1e4}), seed=2),
    ]
    batched = fit_masks(tiny_model(), task, requests, vectorize=False)
    alone = separate_fits(task, requests)
    for ours, single in zip(batched, alone, strict=True):
        for name in single.logits:
            assert torch.equal(ours.logits[name], single.logits[name])


def test_official_clipping_sums_each_fits_own_frozen_gradients(task):
    # a clip that always bites: every step's logit update depends on the frozen sums
    official = CONFIG.model_copy(update={"grad_clip": 0.01, "clip_includes_frozen_gradients": True})
    requests = [FitRequest("add", official, seed=1), FitRequest("mul", official, seed=1)]
    batched = fit_masks(tiny_model(), task, requests, vectorize=True)  # runs fit by fit
    plain = separate_fits(
        task, [FitRequest("add", CONFIG.model_copy(update={"grad_clip": 0.01}), 1)]
    )
    for ours, single in zip(batched, separate_fits(task, requests), strict=True):
        assert all(torch.equal(ours.logits[n], single.logits[n]) for n in single.logits)
    assert any(not torch.equal(batched[0].logits[n], plain[0].logits[n]) for n in plain[0].logits)


class SameDataTwice:
    """add/mul's whole task under two target names: only the mask noise tells fits apart."""

    target_functions = ("all", "again")

    def __init__(self, inner) -> None:
        self.inner, self.shape = inner, inner.shape

    def train_examples(self, target):
        return self.inner.train_examples("all")

    def eval_examples(self, target):
        return self.inner.eval_examples("all")

    def step(self, call, batch, train):
        return self.inner.step(call, batch, train)


def test_fits_of_other_target_functions_draw_their_own_mask_noise(task):
    twice = SameDataTwice(task)
    requests = [FitRequest("all", CONFIG, seed=3), FitRequest("again", CONFIG, seed=3)]
    alone = separate_fits(twice, requests)
    names = list(alone[0].logits)
    assert any(not torch.equal(alone[0].logits[n], alone[1].logits[n]) for n in names)
    batched = fit_masks(tiny_model(), twice, requests, vectorize=False)
    for ours, single in zip(batched, alone, strict=True):
        assert all(torch.equal(ours.logits[n], single.logits[n]) for n in names)


def test_fits_that_differ_in_shared_settings_are_refused(task):
    other = CONFIG.model_copy(update={"learning_rate": 0.1})
    with pytest.raises(ValueError, match="learning_rate"):
        fit_masks(tiny_model(), task, [FitRequest("add", CONFIG, 1), FitRequest("add", other, 1)])


def test_gpus_batch_fits_and_the_memory_budget_bounds_a_batch():
    assert default_fits_per_job("cuda") == 16 and default_fits_per_job("cpu") == 1
    # the 4x800 FNN: 1.97M masked weights, (4 + 2K) x 4 bytes each = ~90 MB per fit
    assert fit_memory_mb(1_969_600) == pytest.approx(90.2, abs=0.1)
    assert fits_per_batch(1_969_600, 8_000) == 88
    assert fits_per_batch(1_969_600, 50) == 1  # a fit over budget still runs, alone


class ItemCallingNetwork(torch.nn.Module):
    """Calls `.item()` in its forward: runs normally, but not under vmap."""

    def __init__(self) -> None:
        super().__init__()
        self.net = tiny_model()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = 1.0 if x.sum().item() >= 0 else 1.0  # data-dependent Python: no vmap
        return self.net(x) * scale


def test_a_model_that_does_not_vmap_falls_back_to_fits_one_by_one(task):
    with pytest.warns(UserWarning, match="does not vmap"):
        batched = fit_masks(ItemCallingNetwork(), task, REQUESTS, vectorize=True)
    looped = fit_masks(ItemCallingNetwork(), task, REQUESTS, vectorize=False)
    for ours, reference in zip(batched, looped, strict=True):
        for name in reference.logits:
            assert torch.equal(ours.logits[name], reference.logits[name])
