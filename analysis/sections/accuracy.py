"""The report's accuracy sections: the base model, each mask and each inverted mask per target
function, and the removal controls (is not-f more than random damage? `analysis/controls.py`).
"""

from __future__ import annotations

import pandas as pd

from analysis.accuracy import accuracy_table
from analysis.controls import specificity
from analysis.document import Heading, Paragraph
from analysis.figures import accuracy_bars
from analysis.sections.writer import ReportWriter
from analysis.summary import spread_caption


def accuracy_section(
    writer: ReportWriter, accuracy: pd.DataFrame, experiment: str, setting: str, name: str
) -> None:
    part = accuracy[(accuracy["experiment"] == experiment) & (accuracy["setting"] == setting)]
    main = part[part["mask_variant"].isin(["none", "mask", "inverted"])]
    path = writer.folder / "figures" / f"{name}_accuracy.png"
    accuracy_bars(main, f"{experiment}: accuracy of masks and inverted masks", path)
    writer.add(Heading("Accuracy of the base model, each mask and each inverted mask", 3))
    writer.figure(
        path, "Accuracy (%) per condition on each target function; error bars: std over seeds."
    )
    writer.table(
        part.drop(columns=["experiment"]),
        f"{name}_accuracy",
        f"Accuracy % ({spread_caption(part['seeds'])}); not-f removes f's weights; random-f removes as many random weights per layer",
        accuracy_table(accuracy, experiment, setting),
    )


def controls_section(
    writer: ReportWriter, evaluations: pd.DataFrame, targets: list[str], name: str
) -> None:
    frame = specificity(evaluations, targets)
    if frame.empty:
        return
    writer.add(
        Heading("Is the module more than damage? not-f against random-f", 3),
        Paragraph(
            "Extra damage: how much more f's accuracy falls under not-f than under random-f "
            f"(points, {spread_caption(frame['seeds'])}). g spared: g's accuracy under "
            "not-f minus under random-f. A module is specific when the extra damage is clearly "
            "positive (interval above 0) and g is spared at least as well; when not-f and "
            "random-f both leave f at chance (each interval of f's accuracy ends within 2 points "
            "of chance) nothing can be told."
        ),
    )
    writer.table(frame, f"{name}_specificity", "Removal controls")
