"""The report's claims section: the headline, one verdict per claim, the verdicts per
experiment and setting, and what each claim says (docs/method.md, section 6); and the
MLflow tag counting the claims that hold.
"""

from __future__ import annotations

import pandas as pd

from analysis.document import Heading, Paragraph, Table
from analysis.headline import claim_outcomes, headline
from analysis.sections.writer import ReportWriter, setting_label
from analysis.verdicts import ClaimVerdict


def claims_held(verdicts: list[ClaimVerdict]) -> str:
    """The MLflow tag, e.g. "4/9": claims that hold (all their rows hold) out of the claims
    in the table, counted per claim as the headline counts them."""
    outcomes = claim_outcomes(verdicts)
    return f"{sum(o.outcome == 'holds' for o in outcomes)}/{len(outcomes)}"


def claims_section(writer: ReportWriter, verdicts: list[ClaimVerdict]) -> None:
    """The headline (per claim), then one row per claim, experiment and setting with the
    short statement beside the verdict, then the claims' full statements."""
    statements = {v.claim: v.statement for v in verdicts}
    frame = pd.DataFrame(
        [
            {
                "claim": v.claim,
                "statement": v.short,
                "experiment": v.experiment,
                "setting": setting_label(v.setting) if v.setting.startswith("{") else v.setting,
                "verdict": v.verdict,
                "seeds": v.seeds,
                "our numbers (mean ± std [95% t-interval])": v.numbers,
                "reason": v.reason,
            }
            for v in verdicts
        ]
    )
    outcomes = pd.DataFrame(
        [
            {
                "claim": o.claim,
                "statement": o.short,
                "verdict": o.outcome + (f" ({o.why})" if o.why else ""),
                "why": o.reason,
            }
            for o in claim_outcomes(verdicts)
        ]
    )
    writer.add(
        Heading("The paper's claims"),
        Paragraph(
            f"{headline(verdicts)}. A claim holds when every experiment and setting that judges "
            "it holds, and does not hold when any does not. Each comparison is a one-sided test "
            "at the 2.5% level on the seed means: the 95% Student-t interval of the per-seed "
            "margin (t quantile with seeds - 1 degrees of freedom) lies above 0 (holds) or below "
            "0 (does not hold); otherwise unclear. One seed never gives a verdict, and an "
            "experiment with fewer finished seeds than planned is incomplete. A claim that does "
            "not hold is shown like one that does."
        ),
    )
    writer.add(Table(outcomes, "One verdict per claim"))
    writer.table(frame, "claims", "Verdicts per experiment and setting")
    writer.add(
        Table(
            pd.DataFrame(
                {
                    "claim": list(statements),
                    "statement (docs/method.md)": list(statements.values()),
                }
            ),
            "What each claim says",
        )
    )
