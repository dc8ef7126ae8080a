"""The report: claims first, then per experiment and setting the paper's figures, the
tables behind them and the controls the paper lacks.

Input: the sweep's Parquet tables as DataFrames. Output, in one folder: `report.md`,
`report.html` (figures embedded), `figures/*.png`, `tables/*.csv` and `tables/*.parquet`.
Returns every file written, for logging to MLflow.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.accuracy import accuracy_over_seeds
from analysis.attribution import stale_jobs
from analysis.claims import ClaimVerdict, check_claims
from analysis.document import Heading, Paragraph, to_html, to_markdown
from analysis.sections.accuracy import accuracy_section, controls_section
from analysis.sections.addmul import op_confusion_section
from analysis.sections.claims import claims_section
from analysis.sections.class_removal import class_removal_section
from analysis.sections.half_mask import half_mask_section
from analysis.sections.mask_fit import convergence_section, histogram_section
from analysis.sections.planted import planted_section
from analysis.sections.scan import token_section
from analysis.sections.search import search_section
from analysis.sections.sharing import shared_proportion_section, sharing_section
from analysis.sections.transfer import transfer_section
from analysis.sections.trends import trend_section
from analysis.sections.writer import ReportWriter, scoped, setting_label, slug


def write_report(
    tables: dict[str, pd.DataFrame],
    out_dir: Path,
    sweep: str,
    verdicts: list[ClaimVerdict] | None = None,
) -> list[Path]:
    """Write the report folder; `verdicts` default to `check_claims(tables)`."""
    writer = ReportWriter(out_dir)
    stale = stale_jobs(tables)
    runs = tables["runs"]
    runs = runs[~runs["job_id"].isin(stale)]
    done = int((runs["status"] == "done").sum()) if not runs.empty else 0
    failed = int((runs["status"] == "failed").sum()) if not runs.empty else 0
    writer.add(Heading(f"Report: {sweep}", 1), Paragraph(f"Jobs: {done} done, {failed} failed."))
    if stale:
        writer.add(
            Paragraph(
                f"Left out: the results of {len(stale)} jobs that the latest submission's plan "
                "does not list (an earlier sweep file or code version under this sweep name)."
            )
        )
    verdicts = check_claims(tables) if verdicts is None else verdicts
    claims_section(writer, verdicts)
    planted_section(writer, tables["mask_overlaps"])
    evaluations = tables["evaluations"]
    searches = tables.get("search_trials", pd.DataFrame())
    if evaluations.empty and searches.empty:
        writer.add(
            Paragraph(
                "No evaluations yet: run `orchestrator submit` until the evaluation jobs finish."
            )
        )
    accuracy = accuracy_over_seeds(evaluations) if not evaluations.empty else pd.DataFrame()
    for (experiment, setting), group in evaluations.groupby(["experiment", "setting"], sort=False):
        name = slug(experiment, setting_label(setting))
        writer.add(
            Heading(f"{experiment} ({setting_label(setting)})"),
            Paragraph(
                f"Seeds: {group['seed'].nunique()}. Accuracy is exact match (%); ± is the sample std over seeds."
            ),
        )
        scope = {
            key: scoped(frame, experiment, setting)
            for key, frame in tables.items()
            if key != "runs"
        }
        sharing_section(writer, scope, experiment, name)
        shared_proportion_section(
            writer, scope.get("mask_sharing", pd.DataFrame()), experiment, name
        )
        accuracy_section(writer, accuracy, experiment, setting, name)
        op_confusion_section(writer, scope.get("op_confusion", pd.DataFrame()), name)
        half_mask_section(writer, scope["evaluations"], name)
        targets = [
            t
            for t in group["mask_target"].dropna().unique()
            if t in set(group["evaluated_function"])
        ]
        controls_section(writer, scope["evaluations"], targets, name)
        convergence_section(writer, scope["fit_curves"], name)
        histogram_section(writer, scope["keep_probability_mass"], experiment, name)
        class_removal_section(writer, scope.get("confusions", pd.DataFrame()), name)
        token_section(writer, scope.get("mask_rows", pd.DataFrame()), scope["mask_layers"], name)
    for experiment in evaluations["experiment"].unique():
        trend_section(writer, tables, experiment)
    transfer_section(writer, tables.get("transfer_sharing", pd.DataFrame()))
    search_section(writer, searches)
    (out_dir / "report.md").write_text(to_markdown(writer.blocks))
    (out_dir / "report.html").write_text(to_html(writer.blocks, out_dir, f"Report: {sweep}"))
    claims = pd.DataFrame([v.model_dump() for v in verdicts])
    claims.to_json(out_dir / "claims.json", orient="records", indent=1)
    return [out_dir / "report.md", out_dir / "report.html", out_dir / "claims.json", *writer.files]
