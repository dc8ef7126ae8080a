"""E6's claim C13 (analysis/claims/mask_stability.py) on hand-made overlaps of masks fitted
with different data orders."""

from __future__ import annotations

from support.claim_rows import stability

from analysis.claims.mask_stability import claim_c13


def test_c13_holds_when_two_data_orders_give_overlapping_masks():
    verdict = claim_c13(stability(400))
    assert verdict.verdict == "holds"
    # p = q = 0.5: random masks' IoU = 0.25 / 0.75
    assert "random masks' IoU: 0.333" in verdict.numbers


def test_c13_does_not_hold_when_masks_overlap_less_than_random_ones():
    assert claim_c13(stability(100)).verdict == "does not hold"


def test_c13_not_run_without_data_order_masks():
    assert claim_c13(stability(400, "all", "easy")).verdict == "not run"
