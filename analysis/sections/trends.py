"""The report's section across the settings of one experiment: the beta (E8) and size (E9)
sweeps' headline numbers per setting (`analysis/trends.py`).
"""

from __future__ import annotations

import pandas as pd

from analysis.document import Heading
from analysis.sections.writer import ReportWriter, slug
from analysis.trends import beta_figure, setting_trends


def trend_section(writer: ReportWriter, tables: dict[str, pd.DataFrame], experiment: str) -> None:
    trends = setting_trends(tables, experiment)
    if trends.empty:
        return
    writer.add(Heading(f"{experiment}: across settings"))
    path = beta_figure(
        tables, experiment, writer.folder / "figures" / f"{slug(experiment)}_beta.png"
    )
    if path is not None:
        writer.figure(
            path,
            "Control-mask accuracy and density against the regularization weight beta (mean ± std over seeds).",
        )
    writer.table(trends, f"{slug(experiment)}_trends", "Per setting (mean ± std over seeds)")
