"""Claim-by-setting verdict rows with a known headline, for the headline and claims section tests."""

from __future__ import annotations

from analysis.verdicts import STATEMENTS, ClaimVerdict


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
