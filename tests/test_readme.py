"""The README documents what users rely on: the two commands and every result column."""

from __future__ import annotations

from pathlib import Path

from analysis.schema import TABLES

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_shows_the_two_commands():
    assert "make run" in README and "make test" in README


def test_readme_documents_every_table_and_column_of_the_schema_module():
    for table, row_model in TABLES.items():
        line = next((row for row in README.splitlines() if row.startswith(f"- `{table}`:")), None)
        assert line is not None, f"README lacks table {table}"
        start = README.index(line)
        columns_line = README[start:].splitlines()[1]
        documented = [c.strip(" `") for c in columns_line.split(":", 1)[1].split(",")]
        assert documented == list(row_model.model_fields), (
            f"README columns of {table} differ from the schema"
        )
