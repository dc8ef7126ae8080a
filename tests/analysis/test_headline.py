"""The claims headline counts claims, not claim-by-setting rows."""

from __future__ import annotations

from analysis.document import to_markdown
from analysis.headline import claim_outcomes, headline
from analysis.sections.claims import claims_held, claims_section
from analysis.sections.writer import ReportWriter
from analysis.verdicts import SHORT_STATEMENTS, STATEMENTS, ClaimVerdict


def row(claim: str, verdict: str, experiment: str = "e", reason: str = "") -> ClaimVerdict:
    return ClaimVerdict(
        claim=claim,
        statement=STATEMENTS[claim],
        verdict=verdict,
        numbers="",
        reason=reason or verdict,
        seeds=3,
        experiment=experiment,
    )


VERDICTS = [
    # C1 on three settings, all hold; C2: one of two settings does not hold.
    *(row("C1", "holds", f"beta{i}") for i in range(3)),
    row("C2", "holds", "a"),
    row("C2", "does not hold", "b", "95% t-interval below 0 for: not-add"),
    row("C3", "holds"),
    row("C4", "holds", "a"),
    row("C4", "incomplete", "b", "incomplete (2 of 3 seeds)"),
    row("C5", "unclear"),
    row("C6", "incomplete"),
    row("C7", "not run"),
    row("C17", "holds"),
    row("C17", "unclear", "scan"),
    row("C17", "incomplete", "lstm"),
]


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


def test_claims_held_tag_counts_claims_not_rows():
    assert claims_held(VERDICTS) == "2/8"
    assert claims_held([row("C1", "holds", f"beta{i}") for i in range(50)]) == "1/1"


def test_report_opens_with_the_headline_and_short_statements_beside_verdicts(tmp_path):
    writer = ReportWriter(tmp_path)
    claims_section(writer, VERDICTS)
    text = to_markdown(writer.blocks)
    assert "2 of 8 claims hold, 1 does not hold, 5 cannot be judged yet" in text
    assert "one-sided test at the 2.5% level" in text and "Student-t" in text
    assert SHORT_STATEMENTS["C4"] in text
    assert "cannot be judged yet (incomplete)" in text


def test_short_statements_fit_a_terminal_column():
    assert set(SHORT_STATEMENTS) == set(STATEMENTS)
    assert max(len(s) for s in SHORT_STATEMENTS.values()) <= 60
