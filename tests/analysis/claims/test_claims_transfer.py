"""E7's claim C16 (analysis/claims/transfer.py) on hand-made transfer sharing."""

from __future__ import annotations

from support.claim_rows import transfer

from analysis.claims.transfer import claim_c16


def test_c16_holds_when_lower_fresh_logits_share_more():
    verdict = claim_c16(*transfer({2.0: 0.2, 0.0: 0.4, -1.0: 0.6}))
    assert verdict.verdict == "holds", verdict.reason
    assert "layers.1: logit 0 minus 2: +20.0 ± " in verdict.numbers
    assert "layers.0:" not in verdict.numbers


def test_c16_does_not_hold_when_lower_fresh_logits_share_less():
    assert claim_c16(*transfer({2.0: 0.6, 0.0: 0.4, -1.0: 0.2})).verdict == "does not hold"


def test_c16_not_run_without_fresh_logit_minus_one():
    verdict = claim_c16(*transfer({2.0: 0.2, 0.0: 0.4}))
    assert verdict.verdict == "not run"
    assert "fresh logit -1" in verdict.reason
