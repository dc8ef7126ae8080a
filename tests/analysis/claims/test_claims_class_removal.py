"""E5's claims C11 and C12 (analysis/claims/class_removal.py) on hand-made CIFAR-10 confusions."""

from __future__ import annotations

from support.claim_rows import SINKS, confusions

from analysis.claims.class_removal import claim_c11, claim_c12


def test_c11_holds_when_removal_hurts_only_the_removed_class():
    verdict = claim_c11(confusions())
    assert verdict.verdict == "holds", verdict.reason
    # mean over seeds s of 0.6 / (0.8 + s / 1000)
    assert "cat: relative drop: +74.8 ± " in verdict.numbers


def test_c11_does_not_hold_when_other_classes_drop_too():
    verdict = claim_c11(confusions(others_diagonal=0.4))
    assert verdict.verdict == "does not hold"
    assert "cat: 10% minus largest other/target" in verdict.reason


def test_c11_not_run_without_removal_masks():
    frame = confusions()
    assert claim_c11(frame[frame["mask_target"] == "all"]).verdict == "not run"


def test_c12_holds_when_cat_goes_to_dog_and_automobile_to_truck():
    verdict = claim_c12(confusions())
    assert verdict.verdict == "holds"
    # cat's row: dog +0.45, the others +0.05; seeds shift only the diagonal
    assert "without cat: increase at dog minus largest other: +40.0 ± " in verdict.numbers


def test_c12_does_not_hold_when_cat_goes_to_bird():
    verdict = claim_c12(confusions({**SINKS, "cat": "bird"}))
    assert verdict.verdict == "does not hold"
    assert "without cat: increase at dog" in verdict.reason


def test_c12_not_run_without_the_similar_classes():
    frame = confusions()
    assert claim_c12(frame[frame["mask_target"].isin(["all", "without_bird"])]).verdict == "not run"
