"""The report's mask-fit sections: did each mask fit converge (`analysis/controls.py`), and how
are the control mask's keep probabilities spread?
"""

from __future__ import annotations

import pandas as pd

from analysis.controls import convergence
from analysis.document import Heading, Paragraph
from analysis.figures import keep_histogram
from analysis.sections.writer import ReportWriter


def convergence_section(writer: ReportWriter, curves: pd.DataFrame, name: str) -> None:
    if curves.empty:
        return
    frame = convergence(curves)
    unconverged = int((frame["converged"] != "yes").sum())
    writer.add(
        Heading("Mask-fit convergence", 3),
        Paragraph(
            f"{unconverged} of {len(frame)} masks were still shrinking over their last 10% of steps "
            "(kept fraction falling by more than 1 point): such masks are denser and overlap more "
            "than converged ones would."
        ),
    )
    writer.table(
        frame.drop(columns=["experiment", "setting"]), f"{name}_convergence", "Per mask fit"
    )


def histogram_section(
    writer: ReportWriter, masses: pd.DataFrame, experiment: str, name: str
) -> None:
    if masses.empty:
        return
    path = writer.folder / "figures" / f"{name}_keep_histogram.png"
    keep_histogram(masses, f"{experiment}: control mask keep probabilities", path)
    writer.add(Heading("Control-mask keep probabilities", 3))
    writer.figure(
        path,
        "Histogram of sigmoid(logit) over all masked weights of the control mask (500 bins, summed over seeds).",
    )
