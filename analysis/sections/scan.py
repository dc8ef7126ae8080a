"""The report's SCAN section (E3): the share of output-layer weights each split mask removes
per output token (`analysis/class_removal.py`, `removed_per_token`).
"""

from __future__ import annotations

import pandas as pd

from analysis.class_removal import removed_per_token
from analysis.document import Heading
from analysis.sections.writer import ReportWriter
from analysis.summary import format_mean_std, spread_caption


def token_section(
    writer: ReportWriter, mask_rows: pd.DataFrame, mask_layers: pd.DataFrame, name: str
) -> None:
    if mask_rows.empty or mask_layers.empty:
        return
    control = mask_layers.loc[mask_layers["target_index"] == 0, "target_function"]
    if control.empty:
        return
    frame = removed_per_token(mask_rows, control.iloc[0])
    if frame.empty:
        return
    shown = frame.assign(
        **{
            "removed %": [
                format_mean_std(m, s, 1, 1, low, high)
                for m, s, low, high in zip(
                    frame["mean"], frame["std"], frame["low"], frame["high"], strict=True
                )
            ]
        }
    )
    writer.add(Heading("Output-layer weights removed per token", 3))
    writer.table(
        frame,
        f"{name}_removed_per_token",
        f"Share of the {control.iloc[0]} mask's kept weights in each output token's row that each split mask removes ({spread_caption(frame['seeds'])})",
        shown[["mask", "token", "removed %", "seeds"]],
    )
