"""The claims headline counts claims, not claim-by-setting rows."""

from __future__ import annotations

from support.verdict_rows import VERDICTS

from analysis.headline import claim_outcomes, headline


def test_headline_counts_each_claim_once_with_why_the_rest_cannot_be_judged():
    # C1, C3 hold; C2 does not; C4, C6, C17 incomplete (C17: incomplete before unclear);
    # C5 unclear; C7 not run.
    assert headline(VERDICTS) == (
        "2 of 8 claims hold, 1 does not hold, 5 cannot be judged yet "
        "(3 incomplete, 1 unclear, 1 not run)"
    )


def test_headline_without_claims_says_why():
    assert headline([]).startswith("No claims judged")


def test_a_claim_does_not_hold_when_any_row_does_not_and_says_where():
    outcomes = {o.claim: o for o in claim_outcomes(VERDICTS)}
    assert [o.claim for o in claim_outcomes(VERDICTS)][-1] == "C17"  # numeric claim order
    assert outcomes["C2"].outcome == "does not hold"
    assert outcomes["C2"].reason == "b: 95% t-interval below 0 for: not-add"
    assert (outcomes["C4"].outcome, outcomes["C4"].why) == ("cannot be judged yet", "incomplete")
    assert outcomes["C4"].reason == "b: incomplete (2 of 3 seeds)"
