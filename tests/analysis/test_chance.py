from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.chance import (
    CHANCE,
    chance_iomin,
    chance_iou,
    chance_shared_of_a,
    with_chance,
)
from analysis.schema import MaskOverlapRow
from analysis.sharing import layer_sharing

LAYER_WEIGHTS = 200_000


def random_mask(generator: np.random.Generator, density: float) -> np.ndarray:
    """A mask keeping exactly round(density * n) weights at random positions."""
    mask = np.zeros(LAYER_WEIGHTS, dtype=bool)
    mask[generator.permutation(LAYER_WEIGHTS)[: round(density * LAYER_WEIGHTS)]] = True
    return mask


def overlap_row(layer_index: int, mask_a: np.ndarray, mask_b: np.ndarray) -> dict:
    return MaskOverlapRow(
        sweep="s",
        experiment="addmul_ff",
        setting="{}",
        seed=1,
        train_job_id="t",
        function_a="add",
        function_b="mul",
        layer=f"{2 * layer_index}.weight",
        layer_index=layer_index,
        kept_a=int(mask_a.sum()),
        kept_b=int(mask_b.sum()),
        both=int((mask_a & mask_b).sum()),
        total=mask_a.size,
    ).model_dump()


DENSITIES = [(0.9, 0.9), (0.5, 0.2), (0.1, 0.7), (0.05, 0.05), (1.0, 0.3), (0.4, 1.0)]


def test_chance_levels_match_independent_random_masks():
    generator = np.random.default_rng(7)
    rows = [
        overlap_row(i, random_mask(generator, p), random_mask(generator, q))
        for i, (p, q) in enumerate(DENSITIES)
    ]
    frame = with_chance(layer_sharing(pd.DataFrame(rows)))
    for stat in CHANCE:
        assert frame[f"{stat}_chance"].to_numpy() == pytest.approx(
            frame[stat].to_numpy(), abs=0.01
        ), stat
        assert frame[f"{stat}_over_chance"].dropna().to_numpy() == pytest.approx(1.0, abs=0.1)


def test_shared_share_of_a_matches_random_masks():
    generator = np.random.default_rng(3)
    for p, q in DENSITIES:
        a, b = random_mask(generator, p), random_mask(generator, q)
        assert (a & b).sum() / a.sum() == pytest.approx(chance_shared_of_a(p, q), abs=0.01)


@pytest.mark.parametrize("q", [0.0, 0.3, 1.0])
def test_full_mask_a_gives_b_density(q):
    assert chance_iomin(1.0, q) == 1.0
    assert chance_shared_of_a(1.0, q) == q
    if q > 0:
        assert chance_iou(1.0, q) == pytest.approx(q)


@pytest.mark.parametrize("p", [0.2, 0.9])
def test_full_mask_b_gives_a_density(p):
    assert chance_iou(p, 1.0) == pytest.approx(p)
    assert chance_iomin(p, 1.0) == 1.0
    assert chance_shared_of_a(p, 1.0) == 1.0


@pytest.mark.parametrize("p", [0.1, 0.5, 0.88])
def test_equal_densities(p):
    assert chance_iou(p, p) == pytest.approx(p / (2 - p))
    assert chance_iomin(p, p) == pytest.approx(p)
    assert chance_shared_of_a(p, p) == pytest.approx(p)


def test_empty_masks_follow_sharing_conventions():
    assert np.isnan(chance_iou(0.0, 0.0))
    assert chance_iomin(0.0, 0.4) == 1.0
    assert np.isnan(chance_shared_of_a(0.0, 0.4))


def test_with_chance_ratio_of_known_counts():
    row = overlap_row(0, np.zeros(4, dtype=bool), np.zeros(4, dtype=bool))
    row.update(kept_a=50, kept_b=50, both=40, total=100)
    frame = with_chance(layer_sharing(pd.DataFrame([row])))
    # p = q = 0.5: chance IoU = 0.25 / 0.75 = 1/3; measured IoU = 40 / 60 = 2/3.
    assert frame["iou_chance"].iloc[0] == pytest.approx(1 / 3)
    assert frame["iou_over_chance"].iloc[0] == pytest.approx(2.0)
    assert frame["iomin_chance"].iloc[0] == pytest.approx(0.5)
    assert frame["iomin_over_chance"].iloc[0] == pytest.approx(0.8 / 0.5)
    assert frame["both_of_layer_chance"].iloc[0] == pytest.approx(0.25)
