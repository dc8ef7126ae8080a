"""A report as a list of blocks, rendered to Markdown and to self-contained HTML.

One source for both formats: the HTML embeds every figure (base64 PNG) so the file opens in
a browser on its own; the Markdown links the PNG files beside it.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Figure:
    path: Path  # relative to the report folder
    caption: str


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    caption: str = ""
    csv: Path | None = None  # relative path of the same table as CSV


Block = Heading | Paragraph | Figure | Table


def to_markdown(blocks: list[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, Figure):
            lines += [
                f"![{block.path.stem}]({block.path.as_posix()})",
                "",
                f"*{block.caption}*",
                "",
            ]
        else:
            if block.caption:
                lines += [f"**{block.caption}**", ""]
            lines += [_markdown_table(block.frame), ""]
            if block.csv is not None:
                lines += [f"Table: [{block.csv.as_posix()}]({block.csv.as_posix()})", ""]
    return "\n".join(lines)


def _markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = [
        "| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])


def _cell(value: object) -> str:
    return str(value).replace("|", "/").replace("\n", " ")


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #bbb; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; }
.holds { background: #e3f4e3; } .does-not-hold { background: #fbe3e3; }
.unclear { background: #fff6d6; } .not-run { background: #eee; }
"""


def to_html(blocks: list[Block], folder: Path, title: str) -> str:
    parts = [
        "<!doctype html>",
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
    ]
    for block in blocks:
        if isinstance(block, Heading):
            anchor = "".join(c if c.isalnum() else "-" for c in block.text.lower())
            parts.append(
                f"<h{block.level} id='{anchor}'>{html.escape(block.text)}</h{block.level}>"
            )
        elif isinstance(block, Paragraph):
            parts.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Figure):
            data = base64.b64encode((folder / block.path).read_bytes()).decode()
            parts.append(
                f"<figure><img alt='{html.escape(block.caption)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(block.caption)}</figcaption></figure>"
            )
        else:
            parts.append(_html_table(block))
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_table(block: Table) -> str:
    rows = ["<table>"]
    if block.caption:
        rows.append(f"<caption><b>{html.escape(block.caption)}</b></caption>")
    rows.append(
        "<tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in block.frame.columns) + "</tr>"
    )
    for row in block.frame.itertuples(index=False):
        cells = []
        for value in row:
            text = str(value)
            css = (
                text.replace(" ", "-")
                if text in ("holds", "does not hold", "unclear", "not run")
                else ""
            )
            cells.append(
                f"<td class='{css}'>{html.escape(text)}</td>"
                if css
                else f"<td>{html.escape(text)}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append("</table>")
    if block.csv is not None:
        rows.append(
            f"<p><a href='{html.escape(block.csv.as_posix())}'>{html.escape(block.csv.as_posix())}</a></p>"
        )
    return "\n".join(rows)
