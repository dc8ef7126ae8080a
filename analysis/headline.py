"""The claims headline: one outcome per claim, however many experiments and settings judge it.

A claim's rows combine as a reviewer would read them: it does not hold if any row does
not hold, holds if every row holds, and otherwise cannot be judged yet, for the first of
these reasons that applies: incomplete (seeds still to finish), unclear (the interval
contains 0, or one seed), not run (the experiment or its rows are absent). The report's
headline and the MLflow tag `claims_held` (`analysis/sections/claims.py`) both count these
outcomes, not rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.verdicts import ClaimVerdict

WAITING = ("incomplete", "unclear", "not run")  # why a claim cannot be judged yet, in order


@dataclass(frozen=True)
class ClaimOutcome:
    """One claim's combined verdict: holds, does not hold or cannot be judged yet (why)."""

    claim: str
    short: str
    outcome: str
    why: str  # one of WAITING when the claim cannot be judged yet, else ""
    reason: str  # the deciding rows' experiments and reasons


def claim_outcomes(verdicts: list[ClaimVerdict]) -> list[ClaimOutcome]:
    """Per claim id (in claim order C1, C2, ...): its rows combined."""
    by_claim: dict[str, list[ClaimVerdict]] = {}
    for verdict in verdicts:
        by_claim.setdefault(verdict.claim, []).append(verdict)
    return [_combine(claim, by_claim[claim]) for claim in sorted(by_claim, key=_claim_order)]


def headline(verdicts: list[ClaimVerdict]) -> str:
    """E.g. "4 of 9 claims hold, 1 does not hold, 4 cannot be judged yet (2 incomplete,
    1 unclear, 1 not run)"."""
    outcomes = claim_outcomes(verdicts)
    if not outcomes:
        return "No claims judged: no experiment plays a role that a claim is scoped to"
    held = sum(o.outcome == "holds" for o in outcomes)
    failed = sum(o.outcome == "does not hold" for o in outcomes)
    waiting = {why: sum(o.why == why for o in outcomes) for why in WAITING}
    text = f"{held} of {len(outcomes)} claims hold, {failed} {'does' if failed == 1 else 'do'} not hold"
    open_ = sum(waiting.values())
    if open_:
        reasons = ", ".join(f"{count} {why}" for why, count in waiting.items() if count)
        text += f", {open_} cannot be judged yet ({reasons})"
    return text


def _combine(claim: str, rows: list[ClaimVerdict]) -> ClaimOutcome:
    failed = [row for row in rows if row.verdict == "does not hold"]
    if failed:
        return ClaimOutcome(claim, rows[0].short, "does not hold", "", _reasons(failed))
    if all(row.verdict == "holds" for row in rows):
        return ClaimOutcome(claim, rows[0].short, "holds", "", _reasons(rows))
    why = next(w for w in WAITING if any(row.verdict == w for row in rows))
    deciding = [row for row in rows if row.verdict == why]
    return ClaimOutcome(claim, rows[0].short, "cannot be judged yet", why, _reasons(deciding))


def _reasons(rows: list[ClaimVerdict]) -> str:
    return "; ".join(
        f"{row.experiment}: {row.reason}" if row.experiment else row.reason for row in rows
    )


def _claim_order(claim: str) -> tuple[int, str]:
    digits = "".join(c for c in claim if c.isdigit())
    return (int(digits) if digits else 0, claim)
