"""The report's CIFAR-10 class-removal section (E5): does removing a class's weights hurt only
that class (`analysis/class_removal.py`)?
"""

from __future__ import annotations

import pandas as pd

from analysis.class_removal import class_removal, class_removal_summary
from analysis.document import Heading, Paragraph
from analysis.sections.writer import ReportWriter


def class_removal_section(writer: ReportWriter, confusions: pd.DataFrame, name: str) -> None:
    if confusions.empty:
        return
    per_seed = class_removal(confusions)
    if per_seed.empty:
        return
    writer.add(
        Heading("Class removal: does removing a class's weights hurt only that class?", 3),
        Paragraph(
            "Relative drop: how much the removed class's accuracy falls under its removal mask, "
            "relative to the control mask (large and positive expected). Largest other/target: "
            "the worst other class's relative drop as a % of the removed class's (below 10 expected)."
        ),
    )
    writer.table(
        per_seed,
        f"{name}_class_removal",
        "Per removed class (mean ± std over seeds)",
        class_removal_summary(per_seed),
    )
