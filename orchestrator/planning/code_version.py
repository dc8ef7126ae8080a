"""Guards `CODE_VERSION`: a hash of the sources that shape results, recorded beside it.

`CODE_VERSION` is part of every job id (`orchestrator.plan.job_id`), so a sweep reuses a
finished job only while the version is unchanged. Forgetting to bump it after an edit that
changes results would silently reuse stale jobs; bumping it after a comment edit would
rerun a whole sweep for nothing. So `code_version.toml` records the version together with
a hash of the result-shaping sources, and `tests/orchestrator/test_code_version.py` fails
when the sources no longer match the record.

What is hashed: every `.py` file under `workloads/` (the models, tasks, training, mask fit
and evaluation: everything that computes a number that lands in a result row), by path and
by its syntax tree with docstrings removed. Comments, docstrings, blank lines and
formatting do not count; a renamed variable, a moved file or a changed constant does.
What is not hashed, and why:
- the orchestrator's planner: what it decides about a job (task, model, seeds, steps...)
  is the job's config, which is hashed into the job id already;
- the orchestrator's job runtime: it turns the records `workloads/` returns into Parquet
  rows and must not compute numbers itself (evaluation science lives in `workloads/`);
- `analysis/`: it reads the stored rows anew on every `orchestrator analyze`, nothing of it
  is cached under a job id;
- dependencies: torch, which changes numbers between releases, is pinned in
  `pyproject.toml`; changing that pin is a deliberate edit that bumps `CODE_VERSION` by hand.

After an edit under `workloads/`: bump `CODE_VERSION` in `orchestrator/__init__.py`, then run
`python -m orchestrator.planning.code_version --record`. For an edit that provably cannot change any
result (a rename, a module split), `--record --keep-version` records the new hash under the
same version, so finished jobs stay reusable. docs/development.md says the same for
contributors.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

import workloads
from orchestrator import CODE_VERSION

REPO_ROOT = Path(workloads.__file__).resolve().parents[1]  # wherever this module moves
RESULT_SOURCES = ("workloads",)
RECORD_FILE = Path(__file__).with_name("code_version.toml")
RECORD_COMMAND = "python -m orchestrator.planning.code_version --record"


@dataclass(frozen=True)
class Record:
    """What `code_version.toml` holds: a version and the hash its sources had."""

    code_version: str
    result_sources_hash: str


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """Drop the docstring of the module and of every class and function (in place)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = node.body[0] if node.body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            node.body = node.body[1:] or [ast.Pass()]
    return tree


def _canonical(value: object) -> str:
    """A syntax tree as text without positions, leaving out empty fields, so that the text
    is the same on every Python the project supports (3.12 adds `type_params=[]` to every
    function, which `ast.dump` would print)."""
    if isinstance(value, ast.AST):
        fields = ", ".join(
            f"{name}={_canonical(field)}"
            for name, field in ast.iter_fields(value)
            if field is not None and field != []
        )
        return f"{type(value).__name__}({fields})"
    if isinstance(value, list):
        return "[" + ", ".join(_canonical(item) for item in value) + "]"
    return repr(value)


def source_fingerprint(source: str) -> str:
    """The meaning of one Python source: its syntax tree without docstrings or positions."""
    return _canonical(_strip_docstrings(ast.parse(source)))


def result_sources_hash(root: Path = REPO_ROOT, packages: tuple[str, ...] = RESULT_SOURCES) -> str:
    """sha256 over every `.py` file under `packages` (relative path and fingerprint)."""
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(source_fingerprint(path.read_text()).encode() + b"\0")
    return digest.hexdigest()


def read_record(path: Path = RECORD_FILE) -> Record:
    data = tomllib.loads(path.read_text())
    return Record(data["code_version"], data["result_sources_hash"])


def write_record(record: Record, path: Path = RECORD_FILE) -> None:
    path.write_text(
        f"# Written by `{RECORD_COMMAND}` (see orchestrator/planning/code_version.py); do not edit.\n"
        f'code_version = "{record.code_version}"\n'
        f'result_sources_hash = "{record.result_sources_hash}"\n'
    )


def mismatch(recorded: Record, current: Record) -> str | None:
    """One line saying what to do when the record does not match the code, else None."""
    if recorded == current:
        return None
    if recorded.code_version != current.code_version:
        return (
            f"CODE_VERSION is {current.code_version} but code_version.toml records "
            f"{recorded.code_version}: run `{RECORD_COMMAND}`"
        )
    return (
        f"sources under {', '.join(RESULT_SOURCES)}/ changed since CODE_VERSION "
        f"{current.code_version} was recorded: bump CODE_VERSION in orchestrator/__init__.py "
        f"and run `{RECORD_COMMAND}` (or `{RECORD_COMMAND} --keep-version` if no result can "
        "change)"
    )


def record(current: Record, path: Path = RECORD_FILE, keep_version: bool = False) -> str:
    """Write `current` to the record; refuse changed sources under an unchanged version
    unless `keep_version` says the change cannot alter a result. Returns what was done."""
    recorded = read_record(path) if path.exists() else None
    if (
        recorded is not None
        and recorded.code_version == current.code_version
        and recorded.result_sources_hash != current.result_sources_hash
        and not keep_version
    ):
        raise SystemExit(
            f"sources changed but CODE_VERSION is still {current.code_version}: bump it in "
            "orchestrator/__init__.py first, or pass --keep-version if no result can change"
        )
    write_record(current, path)
    return f"recorded CODE_VERSION {current.code_version} with {current.result_sources_hash[:12]}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--record", action="store_true", help="write code_version.toml")
    parser.add_argument(
        "--keep-version",
        action="store_true",
        help="with --record: accept changed sources under the same CODE_VERSION",
    )
    arguments = parser.parse_args(argv)
    current = Record(CODE_VERSION, result_sources_hash())
    if arguments.record:
        print(record(current, keep_version=arguments.keep_version))
        return
    problem = mismatch(read_record(), current)
    print(problem or f"code_version.toml matches CODE_VERSION {CODE_VERSION}")
    if problem:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
