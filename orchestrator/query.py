"""`orchestrator results`: rows of a sweep's tables, filtered, for people and scripts."""

from __future__ import annotations

import operator
import re

import pandas as pd

from orchestrator.errors import UserError

OPERATORS = {
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    "=": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|>=|<=|=|>|<)\s*(.*?)\s*$")


def filter_rows(frame: pd.DataFrame, conditions: list[str]) -> pd.DataFrame:
    """Apply `column<op>value` conditions (op: = != < <= > >=); values are typed by column."""
    for condition in conditions:
        match = CONDITION.match(condition)
        if match is None:
            raise UserError(f"--where {condition!r}: write column=value (or != < <= > >=)")
        column, symbol, raw = match.groups()
        if column not in frame.columns:
            raise UserError(
                f"--where {condition!r}: no column {column!r}; columns: {', '.join(frame.columns)}"
            )
        value: object = raw
        if pd.api.types.is_numeric_dtype(frame[column]):
            try:
                value = float(raw)
            except ValueError:
                raise UserError(
                    f"--where {condition!r}: column {column!r} is numeric, {raw!r} is not"
                ) from None
        frame = frame[OPERATORS[symbol](frame[column], value)]
    return frame


def render(frame: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":
        return frame.to_json(orient="records", indent=1)
    with pd.option_context(
        "display.max_rows", 500, "display.max_columns", 50, "display.width", 200
    ):
        return frame.to_string(index=False)
