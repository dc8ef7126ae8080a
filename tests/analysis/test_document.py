"""The report document renders the same blocks to Markdown and self-contained HTML."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.document import Figure, Heading, Paragraph, Table, to_html, to_markdown

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def blocks(tmp_path: Path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "f.png").write_bytes(PNG)
    frame = pd.DataFrame({"claim": ["C1"], "verdict": ["holds"], "note": ["a|b"]})
    return [
        Heading("Report", 1),
        Paragraph("Seeds: 2."),
        Figure(Path("figures/f.png"), "A figure"),
        Table(frame, "Claims", Path("tables/c.csv")),
    ]


def test_markdown_links_figures_and_escapes_table_cells(tmp_path):
    text = to_markdown(blocks(tmp_path))
    assert "# Report" in text and "![f](figures/f.png)" in text
    assert "| C1 | holds | a/b |" in text and "tables/c.csv" in text


def test_html_embeds_figures_and_marks_verdicts(tmp_path):
    page = to_html(blocks(tmp_path), tmp_path, "Report")
    assert page.count("data:image/png;base64,") == 1 and "figures/f.png" not in page
    assert "<td class='holds'>holds</td>" in page and "a|b" in page
