"""Permuted MNIST transfer (E7) on tiny random digits: freezing, re-initialising, sharing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from support.data_files import write_idx

from workloads.data.permuted_mnist import PermutedMnistConfig
from workloads.transfer import (
    TransferConfig,
    initial_transfer_logits,
    learn_in_sequence,
    transfer_sharing,
)

TINY = {
    "hidden_sizes": [16, 16],
    "steps_per_task": 6,
    "batch_size": 16,
    "mask_samples_per_step": 4,
    "log_every": 3,
}


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 64)
    write_idx(folder / "train-images-idx3-ubyte", rng.integers(0, 256, (64, 28, 28)))
    write_idx(folder / "train-labels-idx1-ubyte", labels)
    write_idx(folder / "t10k-images-idx3-ubyte", rng.integers(0, 256, (16, 28, 28)))
    write_idx(folder / "t10k-labels-idx1-ubyte", labels[:16])
    return PermutedMnistConfig(path=str(folder), tasks=3).build()


@pytest.fixture(scope="module")
def outcomes(task):
    return learn_in_sequence(task, TransferConfig(**TINY, fresh_logit=0.0), seed=0)


def test_one_final_mask_per_task_on_weights_and_biases(outcomes):
    assert [o.target for o in outcomes] == ["task_0", "task_1", "task_2"]
    names = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    for outcome in outcomes:
        assert list(outcome.mask) == names
        assert outcome.mask["0.weight"].shape == (16, 784)
        assert outcome.mask["0.weight"].dtype == torch.bool
        assert 0.0 <= outcome.accuracy <= 1.0
        assert [point["step"] for point in outcome.history] == [3, 6]


def test_weights_kept_by_earlier_masks_stay_bit_identical(outcomes):
    for later in (1, 2):
        for earlier in range(later):
            for name in ("2.weight", "2.bias", "4.weight", "4.bias"):
                kept = outcomes[earlier].mask[name]
                assert kept.any()
                before = outcomes[earlier].weights[name][kept]
                assert torch.equal(outcomes[later].weights[name][kept], before)


def test_weights_no_mask_kept_are_reinitialised(outcomes):
    unused = ~outcomes[0].mask["2.weight"]
    assert unused.any()
    changed = outcomes[1].weights["2.weight"][unused] != outcomes[0].weights["2.weight"][unused]
    assert changed.all()


def test_the_first_layer_is_reinitialised_and_never_shared(outcomes):
    kept = outcomes[0].mask["0.weight"]
    assert kept.any()
    after = outcomes[1].weights["0.weight"][kept]
    assert (after != outcomes[0].weights["0.weight"][kept]).all()
    sharing = transfer_sharing([o.mask for o in outcomes], never_shared={"0.weight", "0.bias"})
    assert all(counts["0.weight"][0] == 0 for counts in sharing)
    assert sharing[1]["2.weight"][0] > 0


def test_initial_logits_are_reused_where_used_and_fresh_elsewhere():
    used = {"w": torch.tensor([[True, False], [False, True]])}
    for fresh in (2.0, 0.0, -1.0):
        logits = initial_transfer_logits(used, reused_logit=2.0, fresh_logit=fresh)
        assert torch.equal(logits["w"], torch.tensor([[2.0, fresh], [fresh, 2.0]]))
        assert logits["w"].requires_grad


def test_lower_fresh_logits_start_the_first_task_with_fewer_weights(task):
    config = {**TINY, "steps_per_task": 1, "learning_rate": 1e-9}
    kept = {}
    for fresh in (2.0, -1.0):
        (outcome,) = learn_in_sequence(
            task, TransferConfig(**config, tasks=1, fresh_logit=fresh), 0
        )
        kept[fresh] = sum(int(mask.sum()) for mask in outcome.mask.values())
    total = sum(mask.numel() for mask in outcome.mask.values())
    assert kept == {2.0: total, -1.0: 0}


def test_transfer_sharing_on_a_hand_made_case():
    masks = [
        {"a": torch.tensor([True, True, False, False]), "b": torch.tensor([True, False])},
        {"a": torch.tensor([True, False, True, False]), "b": torch.tensor([True, True])},
        {"a": torch.tensor([True, True, True, True]), "b": torch.tensor([False, False])},
    ]
    sharing = transfer_sharing(masks, never_shared={"b"})
    assert sharing[0] == {"a": (0, 2), "b": (0, 1)}
    assert sharing[1] == {"a": (1, 2), "b": (0, 2)}
    assert sharing[2] == {"a": (3, 4), "b": (0, 0)}  # task 2: a's first three were kept before


def test_batch_must_split_into_equal_mask_slices():
    with pytest.raises(ValueError, match="multiple of mask_samples_per_step 8"):
        TransferConfig(batch_size=100)
