"""The report's permuted-MNIST transfer section (E7): per task and layer, the share of its kept
weights that earlier tasks' masks kept (`analysis/transfer.py`).
"""

from __future__ import annotations

import pandas as pd

from analysis.document import Heading
from analysis.sections.writer import ReportWriter, setting_label, slug
from analysis.summary import format_mean_std, spread_caption
from analysis.transfer import transfer_figure, transfer_sharing_table


def transfer_section(writer: ReportWriter, rows: pd.DataFrame) -> None:
    for experiment, part in rows.groupby("experiment", sort=False) if not rows.empty else []:
        summary = transfer_sharing_table(part)
        if summary.empty:
            continue
        path = writer.folder / "figures" / f"{slug(experiment)}_transfer.png"
        transfer_figure(summary, f"{experiment}: reuse of earlier tasks' weights", path)
        writer.add(Heading(f"{experiment}: transfer sharing"))
        writer.figure(
            path,
            "Per layer (first layer excluded: never shared), share of task p's kept weights that earlier tasks' masks kept.",
        )
        shown = summary.assign(
            setting=[setting_label(s) for s in summary["setting"]],
            **{"sharing %": [summarise_row(r) for r in summary.itertuples()]},
        )[["setting", "task", "layer_number", "layer", "sharing %", "seeds"]]
        writer.table(
            summary,
            f"{slug(experiment)}_transfer_sharing",
            f"Transfer sharing per task and layer ({spread_caption(summary['seeds'])})",
            shown,
        )


def summarise_row(row) -> str:
    return format_mean_std(row.mean, row.std, 100, 1, row.low, row.high)
