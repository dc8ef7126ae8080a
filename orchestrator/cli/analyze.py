"""`orchestrator analyze`: Parquet tables -> report folder, logged to the sweep's MLflow run."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analysis.attribution import attribute
from analysis.claims import ClaimVerdict, check_claims
from analysis.publish import Provenance, write_page
from analysis.report import write_report
from analysis.schema import TABLES
from analysis.sections.claims import claims_held
from orchestrator.errors import UserError
from orchestrator.settings import Settings
from orchestrator.stores.outputs import missing_outputs
from orchestrator.stores.results import read_table
from orchestrator.stores.store import open_store
from orchestrator.tracking.tracker import Tracker


def load_tables(settings: Settings, sweep: str) -> dict[str, pd.DataFrame]:
    """Every table of the sweep; rows of a job that serves several experiments (a composed
    sweep) appear under each of them (`analysis.attribution`)."""
    store = open_store(settings.artifact_uri)
    return attribute({name: read_table(store, sweep, name).to_pandas() for name in TABLES})


def refuse_lost_rows(settings: Settings, sweep: str, runs: pd.DataFrame) -> None:
    """A done job whose rows are gone would silently drop out of every claim: refuse."""
    done = runs[runs["status"] == "done"]
    kinds = dict(zip(done["job_id"], done["kind"], strict=True))
    store = open_store(settings.artifact_uri)
    lost = missing_outputs(store, sweep, kinds.items(), artifacts=False)
    if lost:
        named = ", ".join(
            f"{kinds[job_id]} {job_id} ({', '.join(key.rsplit('/', 2)[-2] for key in keys)})"
            for job_id, keys in list(lost.items())[:3]
        )
        more = f" and {len(lost) - 3} more" if len(lost) > 3 else ""
        raise UserError(
            f"sweep {sweep!r}: rows of {len(lost)} done job{'s' * (len(lost) > 1)} are missing: "
            f"{named}{more}; submit the sweep again to recompute them, then analyze"
        )


def report_folder(settings: Settings, sweep: str) -> Path:
    return settings.workspace / "reports" / sweep


def code_commit() -> str:
    """The checked-out git commit of this code, or "unknown" outside a git checkout."""
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return found.stdout.strip() if found.returncode == 0 and found.stdout.strip() else "unknown"


def analyze(
    settings: Settings, sweep: str, publish: Path | None = None
) -> tuple[Path, list[ClaimVerdict]]:
    """Write the report (and, with `publish`, the results page at that path and its
    figures beside it) and log the report to the sweep's MLflow run."""
    tables = load_tables(settings, sweep)
    if tables["runs"].empty:
        raise UserError(
            f"sweep {sweep!r} has no results under {settings.artifact_root}; run `orchestrator submit` first"
        )
    refuse_lost_rows(settings, sweep, tables["runs"])
    out_dir = report_folder(settings, sweep)
    verdicts = check_claims(tables)
    files = write_report(tables, out_dir, sweep, verdicts)
    if publish is not None:
        provenance = Provenance(
            commit=code_commit(),
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            command=f"orchestrator analyze {sweep} --publish {publish}",
        )
        write_page(tables, publish, sweep, provenance, verdicts)
    tracker = Tracker(settings.tracking_uri)
    parent = tracker.latest_submission(sweep)
    if parent is not None:
        tracker.set_tags(parent, {"claims_held": claims_held(verdicts)})
        for path in files:
            tracker.log_artifact(
                parent, path, f"report/{path.parent.relative_to(out_dir)}".rstrip("/.")
            )
    return out_dir / "report.md", verdicts
