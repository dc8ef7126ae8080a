"""The report's writer and the names its sections share: collects blocks and saves the files
behind them; slugs and labels of experiments and settings; one experiment and setting's rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.document import Block, Figure, Table


def slug(*parts: str) -> str:
    text = "_".join(parts)
    return (
        "".join(c if c.isalnum() or c in "-_" else "-" for c in text).strip("-")[:80] or "default"
    )


def setting_label(setting: str) -> str:
    values = json.loads(setting) if setting else {}
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "default setting"


class ReportWriter:
    """Collects blocks and the files behind them while sections are added."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.blocks: list[Block] = []
        self.files: list[Path] = []
        for sub in ("figures", "tables"):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def table(
        self, frame: pd.DataFrame, name: str, caption: str, shown: pd.DataFrame | None = None
    ) -> None:
        """Show `shown` (or `frame`); save `frame` as CSV and Parquet."""
        csv = Path("tables") / f"{name}.csv"
        frame.to_csv(self.folder / csv, index=False)
        frame.to_parquet(self.folder / "tables" / f"{name}.parquet", index=False)
        self.files += [self.folder / csv, self.folder / "tables" / f"{name}.parquet"]
        self.add(Table(shown if shown is not None else frame, caption, csv))

    def figure(self, path: Path, caption: str) -> None:
        self.files.append(path)
        self.add(Figure(path.relative_to(self.folder), caption))


def scoped(frame: pd.DataFrame, experiment: str, setting: str) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame[(frame["experiment"] == experiment) & (frame["setting"] == setting)]
