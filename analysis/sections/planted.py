"""The report's planted-structure section: does the method recover networks built with a
known structure (`analysis/planted.py`)?
"""

from __future__ import annotations

import pandas as pd

from analysis.document import Heading, Paragraph
from analysis.planted import planted_layers, planted_verdicts
from analysis.sections.writer import ReportWriter


def planted_section(writer: ReportWriter, overlaps: pd.DataFrame) -> None:
    verdicts = planted_verdicts(overlaps) if not overlaps.empty else pd.DataFrame()
    if verdicts.empty:
        return
    writer.add(
        Heading("Planted against recovered structure"),
        Paragraph(
            "Networks built with a known structure (disjoint towers, a shared trunk, a nested "
            "path): the masks for A and B must recover it before results on other networks are trusted."
        ),
    )
    writer.table(verdicts, "planted_verdicts", "Verdict per planted network")
    writer.table(
        planted_layers(overlaps),
        "planted_layers",
        "Per layer: IoU and IoMin of the A and B masks (mean over seeds)",
    )
