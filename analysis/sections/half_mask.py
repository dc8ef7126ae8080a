"""The report's half-mask section (E10): the control mask applied to only half of the layers
(`analysis/half_mask.py`).
"""

from __future__ import annotations

import pandas as pd

from analysis.document import Heading, Paragraph
from analysis.half_mask import half_mask_drops, half_mask_table
from analysis.sections.writer import ReportWriter


def half_mask_section(writer: ReportWriter, evaluations: pd.DataFrame, name: str) -> None:
    """Control accuracy minus half-mask accuracy (E10), per half and evaluated function."""
    drops = half_mask_drops(evaluations) if not evaluations.empty else pd.DataFrame()
    if drops.empty:
        return
    writer.add(
        Heading("Half-mask test: control mask on half of the layers", 3),
        Paragraph(
            "The control mask applied only to the early (or only to the late) masked tensors, "
            "the rest unmasked; drop = control-mask accuracy minus half-mask accuracy, in "
            "percentage points."
        ),
    )
    writer.table(
        drops, f"{name}_half_mask", "Half-mask drop (mean ± std over seeds)", half_mask_table(drops)
    )
