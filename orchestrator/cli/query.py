"""`orchestrator results`: rows of a sweep's tables, filtered, for people and scripts."""

from __future__ import annotations

import operator
import re
import textwrap

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
BOOLEANS = {"true": True, "false": False, "1": True, "0": False}
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
        value: str | float | bool = raw
        if pd.api.types.is_bool_dtype(frame[column]):
            if raw.lower() not in BOOLEANS:
                raise UserError(
                    f"--where {condition!r}: column {column!r} is true/false, {raw!r} is not"
                )
            value = BOOLEANS[raw.lower()]
        elif pd.api.types.is_numeric_dtype(frame[column]):
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


# `results --claims --wide` / `--format json|csv`: every column of a claim verdict row.
CLAIM_COLUMNS = (
    "claim",
    "short",
    "statement",
    "experiment",
    "setting",
    "verdict",
    "seeds",
    "numbers",
    "reason",
)
CLAIMS_WIDTH = 100  # a terminal's columns: `results --claims` never prints a wider line
# column -> title of the narrow claims table; when the rows would be wider than
# CLAIMS_WIDTH the widest of statement, setting and experiment gives way (to these widths).
CLAIMS_COLUMNS = {
    "claim": "claim",
    "short": "statement",
    "experiment": "experiment",
    "setting": "setting",
    "verdict": "verdict",
    "seeds": "seeds",
}
SHRINKABLE = {"statement": 20, "setting": 12, "experiment": 14}


def claims_table(frame: pd.DataFrame, width: int = CLAIMS_WIDTH) -> str:
    """Claim verdict rows as lines of at most `width` characters: claim, short statement,
    experiment, setting (only where a claim has several in one experiment), verdict and
    seeds; a cell too long for its column ends in "…"."""
    columns = dict(CLAIMS_COLUMNS)
    if not frame.duplicated(["claim", "experiment"], keep=False).any():
        del columns["setting"]
    cells = {title: frame[column].astype(str).tolist() for column, title in columns.items()}
    widths = {title: max([len(title), *map(len, values)]) for title, values in cells.items()}
    budget = width - 2 * (len(widths) - 1)  # two spaces between columns
    while sum(widths.values()) > budget:  # narrow the widest column that can give way
        shrinkable = [t for t in SHRINKABLE if t in widths and widths[t] > SHRINKABLE[t]]
        if not shrinkable:
            break
        widths[max(shrinkable, key=widths.__getitem__)] -= 1

    def line(values: list[str]) -> str:
        fitted = [
            _fit(value, widths[title], right=title == "seeds")
            for title, value in zip(widths, values, strict=True)
        ]
        return "  ".join(fitted).rstrip()

    rows = zip(*cells.values(), strict=True)
    return "\n".join([line(list(widths)), *(line(list(values)) for values in rows)])


def claims_details(frame: pd.DataFrame, width: int = CLAIMS_WIDTH) -> str:
    """`results --claims --wide`: per row a title line (claim, experiment, setting, verdict,
    seeds), then its full statement, numbers and reason wrapped to `width` columns."""
    blocks = []
    for row in frame.itertuples(index=False):
        setting = f" ({row.setting})" if row.setting else ""
        lines = [f"{row.claim}  {row.experiment}{setting}: {row.verdict}, {row.seeds} seeds"]
        for label in ("statement", "numbers", "reason"):
            text = getattr(row, label)
            if text:
                lines.append(
                    textwrap.fill(
                        f"{label}: {text}",
                        width,
                        initial_indent="  ",
                        subsequent_indent="    ",
                        break_on_hyphens=False,
                    )
                )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _fit(text: str, width: int, right: bool) -> str:
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.rjust(width) if right else text.ljust(width)
