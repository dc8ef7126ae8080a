"""The claims section: the headline first, short statements beside verdicts, the held tag."""

from __future__ import annotations

from support.verdict_rows import VERDICTS, row

from analysis.document import to_markdown
from analysis.sections.claims import claims_held, claims_section
from analysis.sections.writer import ReportWriter
from analysis.verdicts import SHORT_STATEMENTS


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
