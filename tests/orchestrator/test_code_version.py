"""CODE_VERSION guard: result-shaping sources match the hash recorded beside the version."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator import CODE_VERSION
from orchestrator.planning.code_version import (
    RECORD_COMMAND,
    Record,
    mismatch,
    read_record,
    record,
    result_sources_hash,
    source_fingerprint,
)

SOURCE = '''"""A module docstring."""

LIMIT = 3  # a comment


def double(x):
    """Twice x."""
    return 2 * x
'''


def test_workloads_match_the_hash_recorded_for_this_code_version():
    problem = mismatch(read_record(), Record(CODE_VERSION, result_sources_hash()))
    assert problem is None, problem


def test_comments_docstrings_and_formatting_do_not_change_the_fingerprint():
    reworded = (
        SOURCE.replace("A module docstring.", "Says something else.")
        .replace("# a comment", "# another comment, longer")
        .replace('"""Twice x."""', '"""Two times x,\n    over two lines."""\n')
        .replace("2 * x", "2*x")
    )
    without_docs = "LIMIT = 3\n\ndef double(x):\n    return 2 * x\n"
    assert source_fingerprint(reworded) == source_fingerprint(SOURCE)
    assert source_fingerprint(without_docs) == source_fingerprint(SOURCE)


@pytest.mark.parametrize(
    "edit", [("2 * x", "3 * x"), ("LIMIT = 3", "LIMIT = 4"), ("def double(x)", "def double(y)")]
)
def test_a_code_edit_changes_the_fingerprint(edit):
    assert source_fingerprint(SOURCE.replace(*edit)) != source_fingerprint(SOURCE)


def test_the_hash_covers_every_python_file_by_path(tmp_path: Path):
    package = tmp_path / "workloads"
    (package / "models").mkdir(parents=True)
    (package / "models" / "tiny.py").write_text(SOURCE)
    (package / "notes.txt").write_text("not code")
    before = result_sources_hash(tmp_path)

    (package / "notes.txt").write_text("other words")
    assert result_sources_hash(tmp_path) == before
    (package / "models" / "tiny.py").rename(package / "tiny.py")
    assert result_sources_hash(tmp_path) != before


def test_the_mismatch_message_is_one_line_naming_the_record_command():
    recorded = Record("1.0.0", "a" * 64)
    assert mismatch(recorded, recorded) is None
    for current in (Record("1.0.0", "b" * 64), Record("1.0.1", "a" * 64)):
        message = mismatch(recorded, current)
        assert message is not None and "\n" not in message and RECORD_COMMAND in message


def test_recording_changed_sources_needs_a_bump_or_keep_version(tmp_path: Path):
    path = tmp_path / "code_version.toml"
    record(Record("1.0.0", "a" * 64), path)
    with pytest.raises(SystemExit, match="bump it"):
        record(Record("1.0.0", "b" * 64), path)
    assert read_record(path) == Record("1.0.0", "a" * 64)

    record(Record("1.0.0", "b" * 64), path, keep_version=True)
    assert read_record(path) == Record("1.0.0", "b" * 64)
    record(Record("1.0.1", "c" * 64), path)
    assert read_record(path) == Record("1.0.1", "c" * 64)
