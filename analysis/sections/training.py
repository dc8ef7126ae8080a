"""The results page's "did the models learn and the masks converge?" section
(`analysis/training_check.py`), and each experiment's status line.
"""

from __future__ import annotations

import pandas as pd

from analysis.document import Heading, Paragraph, Table
from analysis.sections.writer import ReportWriter, setting_label
from analysis.training_check import NEAR_FULL


def training_section(
    writer: ReportWriter, trained: pd.DataFrame, checks: set[str], check_label: str
) -> None:
    """The table of every experiment and setting; `checks` (pipeline checks) are labelled."""
    if trained.empty:
        return
    shown = trained.copy()
    shown["setting"] = [setting_label(setting) for setting in shown["setting"]]
    shown["experiment"] = [
        f"{name} ({check_label})" if name in checks else name for name in shown["experiment"]
    ]
    writer.add(
        Heading("Did the models learn and the masks converge?"),
        Paragraph(
            f"A base model counts as trained at {NEAR_FULL:.0%} accuracy or more on each of "
            "its target functions (the paper's are near 100%); a mask fit has converged "
            "when its kept fraction fell by less than the report's threshold over the last "
            '10% of its steps (docs/method.md). Verdicts of a row that is not "ok" are '
            "judged on models or masks the paper would not use: read them with that row."
        ),
        Table(shown, "Per experiment and setting"),
    )


def status_of(trained: pd.DataFrame, experiment: str) -> str:
    """One experiment's statuses in a line, each setting named when there are several."""
    if trained.empty:
        return ""
    mine = trained[trained["experiment"] == experiment]
    return "; ".join(
        f"{label}: {status}" if label else status
        for label, status in zip(
            (setting_label(s) if len(mine) > 1 else "" for s in mine["setting"]),
            mine["status"],
            strict=True,
        )
    )
