"""E4's claim C10 (analysis/claims/mathematics.py) on hand-made Mathematics Dataset rows."""

from __future__ import annotations

from support.claim_rows import evaluations

from analysis.claims.mathematics import claim_c10


def test_c10_holds_when_easy_mask_fails_on_hard():
    math = {("mask", "all", "hard"): 0.6, ("mask", "easy", "hard"): 0.1}
    verdict = claim_c10(evaluations(math))
    assert verdict.verdict == "holds"
    assert "control minus easy-only: +50.0 ± " in verdict.numbers


def test_c10_does_not_hold_when_easy_mask_solves_hard():
    math = {("mask", "all", "hard"): 0.6, ("mask", "easy", "hard"): 0.7}
    assert claim_c10(evaluations(math)).verdict == "does not hold"


def test_c10_not_run_without_easy_mask():
    assert claim_c10(evaluations({("mask", "all", "hard"): 0.6})).verdict == "not run"
