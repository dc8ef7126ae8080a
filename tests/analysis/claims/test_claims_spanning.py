"""C15 and C17, the claims spanning several experiments (analysis/claims/spanning.py), on
hand-made add/mul rows."""

from __future__ import annotations

from support.addmul_rows import MODULAR, evaluations, masses

from analysis.claims.spanning import KEEP_PROBABILITY_MASS_TABLE, claim_c15, claim_c17


def test_c15_holds_for_bimodal_keep_probabilities():
    assert claim_c15(masses(0.5, 0.4)).verdict == "holds"


def test_c15_does_not_hold_when_most_mass_is_in_the_middle():
    assert claim_c15(masses(0.1, 0.1)).verdict == "does not hold"


def test_c15_not_run_without_masses():
    verdict = claim_c15(masses(0.5, 0.4).iloc[0:0])
    assert verdict.verdict == "not run"
    assert KEEP_PROBABILITY_MASS_TABLE in verdict.reason


def test_c17_holds_for_accurate_base_model():
    verdict = claim_c17(evaluations())
    assert verdict.verdict == "holds"
    # 98.7, 98.9, 99.1 %: std 0.2, half width 4.303 * 0.2 / sqrt(3) = 0.5
    assert "base on mul: 98.9 ± 0.2% [98.4, 99.4]" in verdict.numbers


def test_c17_does_not_hold_for_base_model_near_chance():
    verdict = claim_c17(evaluations({**MODULAR, ("none", None, "mul"): 0.3}))
    assert verdict.verdict == "does not hold"
    assert "mul, nearer 100% than chance" in verdict.reason


def test_c17_not_run_without_base_evaluations():
    frame = evaluations()
    assert claim_c17(frame[frame["mask_variant"] != "none"]).verdict == "not run"
