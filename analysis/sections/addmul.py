"""The report's add/mul section (E1): is the answer the sum, the product or neither
(`analysis/op_confusion.py`)?
"""

from __future__ import annotations

import pandas as pd

from analysis.document import Heading, Paragraph
from analysis.op_confusion import op_confusion_over_seeds, op_confusion_table
from analysis.sections.writer import ReportWriter


def op_confusion_section(writer: ReportWriter, op_confusion: pd.DataFrame, name: str) -> None:
    """Per condition and true op: is the answer the sum, the product or neither?"""
    if op_confusion.empty:
        return
    summary = op_confusion_over_seeds(op_confusion)
    writer.add(
        Heading("Op confusion: is the answer the sum, the product or neither?", 3),
        Paragraph(
            "Per true op, the % of evaluation samples whose 2-digit answer equals the sum, the "
            "product (each counted on its own: where the two coincide mod 100 a sample counts "
            "in both) or neither. A mask that solves only its op answers the other op's "
            "samples with neither, or with its own op's result."
        ),
    )
    writer.table(
        summary,
        f"{name}_op_confusion",
        "Op confusion, % (mean ± std over seeds)",
        op_confusion_table(summary),
    )
