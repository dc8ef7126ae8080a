"""The published results page: one Markdown file plus its figures, for readers of the repo.

Unlike the report (`analysis/report.py`: every table, CSV and Parquet beside it, for the
person running the sweep), the page is short and self-explaining: the headline and the
claims table, then per experiment what the paper states beside what we found, what our
run changed against the paper and why, and the wall time it took. The page links its
figures in a folder named after it (`docs/results.md` -> `docs/results/figures/*.png`).
The caller passes the commit and date (this module never shells out or reads a clock).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from PIL import Image

from analysis.accuracy import accuracy_over_seeds
from analysis.attribution import SERVES, experiment_descriptions, stale_jobs
from analysis.claims import ClaimVerdict, check_claims
from analysis.document import Block, Figure, Heading, Paragraph, Table, to_markdown
from analysis.roles import ROLES, claims_of
from analysis.sections import (
    ReportWriter,
    accuracy_section,
    claims_section,
    planted_section,
    scoped,
    setting_label,
    sharing_section,
    slug,
    token_section,
    transfer_section,
    trend_section,
)
from analysis.sections_extra import half_mask_section
from analysis.training_check import NEAR_FULL, training_check
from analysis.verdicts import STATEMENTS

PIPELINE_CHECK = "pipeline check, not a result"
SHARING_ROLES = ("addmul", "double_add", "double_add_copyweight", "mask_stability", "size_sweep")
ACROSS_SETTINGS_ROLES = ("beta_sweep", "size_sweep")


@dataclass(frozen=True)
class Provenance:
    """Where the page's numbers come from: the code's commit and the day it was made."""

    commit: str
    generated: str  # e.g. "2026-12-01 18:30 UTC"
    command: str  # the command that regenerates the page


class PageWriter(ReportWriter):
    """A ReportWriter for the page: tables are shown, not saved (the report keeps the CSVs),
    so the page's folder holds only its figures."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.blocks: list[Block] = []
        self.files: list[Path] = []
        (folder / "figures").mkdir(parents=True, exist_ok=True)

    def table(
        self, frame: pd.DataFrame, name: str, caption: str, shown: pd.DataFrame | None = None
    ) -> None:
        self.add(Table(shown if shown is not None else frame, caption))


def write_page(
    tables: dict[str, pd.DataFrame],
    page: Path,
    sweep: str,
    provenance: Provenance,
    verdicts: list[ClaimVerdict] | None = None,
) -> list[Path]:
    """Write `page` and its figures (in `page.with_suffix('')`/figures, emptied first);
    return every file written."""
    folder = page.with_suffix("")
    for old in (folder / "figures").glob("*.png"):
        old.unlink()  # a figure of an earlier page must not linger in the repo
    writer = PageWriter(folder)
    described = experiment_descriptions(tables)
    checks = set(described.index[described["pipeline_check"]])
    verdicts = check_claims(tables) if verdicts is None else verdicts
    writer.add(
        Heading(f"Results: {sweep}", 1),
        Paragraph(
            f"Generated {provenance.generated} from commit `{provenance.commit}` by "
            f"`{provenance.command}`; do not edit by hand. The method, statistics and claims "
            "are in docs/method.md. The paper's exact figure values were not available to us "
            "(docs/method.md): each claim below is the paper's qualitative statement in our "
            "words, judged on our numbers."
        ),
    )
    if checks:
        writer.add(
            Paragraph(
                f"Experiments marked **{PIPELINE_CHECK}** ran on tiny stand-in data or too "
                "few steps to learn their task: they show the pipeline works, and their "
                f"verdicts say nothing about the paper: "
                f"{', '.join(sorted(checks))}."
            )
        )
    claims_section(writer, [v for v in verdicts if v.experiment not in checks])
    checked = [_labelled(v, checks) for v in verdicts if v.experiment in checks]
    if checked:
        writer.add(
            Table(
                pd.DataFrame(
                    [
                        {
                            "claim": v.claim,
                            "statement": v.short,
                            "experiment": v.experiment,
                            "verdict": v.verdict,
                            "reason": v.reason,
                        }
                        for v in checked
                    ]
                ),
                f"Verdicts of the {PIPELINE_CHECK} experiments (not counted above)",
            )
        )
    trained = training_check(tables)
    training_section(writer, trained, checks)
    cost_section(writer, tables, described)
    evaluations = tables["evaluations"]
    accuracy = accuracy_over_seeds(evaluations) if not evaluations.empty else pd.DataFrame()
    for experiment, row in described.iterrows():
        experiment_section(writer, tables, accuracy, verdicts, str(experiment), row)
        status = _status_of(trained, str(experiment))
        if status:
            writer.add(Paragraph(f"Did it learn and converge? {status}."))
    for figure in writer.files:
        shrink_png(figure)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(to_markdown(_beside(writer.blocks, folder.name)))
    return [page, *writer.files]


def shrink_png(path: Path) -> None:
    """A 64-colour palette: the page's figures go into git, and plots of a few flat colours
    lose nothing visible (about 3x smaller than matplotlib's full-colour PNG)."""
    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=64)
    palette.save(path, optimize=True)


def cost_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per experiment and in total: jobs, compute (sum of job durations) and the span from
    the first start to the last finish. A shared job counts under every experiment it
    serves and once in the total."""
    runs = tables["runs"]
    runs = runs[~runs["job_id"].isin(stale_jobs(tables))]
    serves = tables.get(SERVES, pd.DataFrame())
    if serves.empty:
        served = runs[["job_id", "experiment"]]
    else:
        served = serves[["job_id", "experiment"]].drop_duplicates()
    joined = served.merge(runs.drop(columns=["experiment"]), on="job_id", how="inner")
    groups = [(str(name), part) for name, part in joined.groupby("experiment", sort=False)]
    rows = [_cost_row(name, part) for name, part in groups]
    rows.append(_cost_row("all (each job once)", runs))
    return pd.DataFrame(rows)


def _cost_row(name: str, runs: pd.DataFrame) -> dict[str, object]:
    started = runs.loc[runs["started_at"] > 0, "started_at"]
    span = runs["finished_at"].max() - started.min() if not started.empty else 0.0
    return {
        "experiment": name,
        "jobs": len(runs),
        "failed": int((runs["status"] == "failed").sum()),
        "compute (job-minutes)": f"{runs['duration_s'].sum() / 60:.1f}",
        "wall span (minutes)": f"{span / 60:.1f}",
    }


def training_section(writer: ReportWriter, trained: pd.DataFrame, checks: set[str]) -> None:
    if trained.empty:
        return
    shown = trained.copy()
    shown["setting"] = [setting_label(setting) for setting in shown["setting"]]
    shown["experiment"] = [
        f"{name} ({PIPELINE_CHECK})" if name in checks else name for name in shown["experiment"]
    ]
    writer.add(
        Heading("Did the models learn and the masks converge?"),
        Paragraph(
            f"A base model counts as trained at {NEAR_FULL:.0%} accuracy or more on each of "
            "its target functions (the paper's are near 100%); a mask fit has converged "
            "when its kept fraction fell by less than the report's threshold over the last "
            '10% of its steps (docs/method.md). Verdicts of a row that is not "ok" are '
            "judged on models or masks the paper would not use: read them with that row."
        ),
        Table(shown, "Per experiment and setting"),
    )


def _status_of(trained: pd.DataFrame, experiment: str) -> str:
    if trained.empty:
        return ""
    mine = trained[trained["experiment"] == experiment]
    return "; ".join(
        f"{label}: {status}" if label else status
        for label, status in zip(
            (setting_label(s) if len(mine) > 1 else "" for s in mine["setting"]),
            mine["status"],
            strict=True,
        )
    )


def cost_section(
    writer: ReportWriter, tables: dict[str, pd.DataFrame], described: pd.DataFrame
) -> None:
    writer.add(
        Heading("Wall time and cost"),
        Paragraph(
            "Compute: the sum of the jobs' durations (each job held the CPUs or GPU share its "
            "sweep file asks for). Wall span: from the first job's start to the last one's "
            "finish. A job that serves several experiments (a shared base model, e.g. the "
            "add/mul FNN of the beta and size sweeps) counts under each of them, and once in "
            "the last row."
        ),
    )
    writer.add(Table(cost_table(tables), "Per experiment, from the runs table"))


def experiment_section(
    writer: ReportWriter,
    tables: dict[str, pd.DataFrame],
    accuracy: pd.DataFrame,
    verdicts: list[ClaimVerdict],
    experiment: str,
    described: pd.Series,
) -> None:
    """What the paper states, what we found (key figure and table), what differs, cost."""
    role = described["role"] if isinstance(described["role"], str) else None
    what = ROLES[role][0] if role in ROLES else "no paper role: reported, judged on no claim"
    writer.add(Heading(f"{experiment} ({role or 'no role'})"), Paragraph(f"Paper: {what}."))
    if described["pipeline_check"]:
        writer.add(
            Paragraph(
                f"**{PIPELINE_CHECK}**: this experiment ran on tiny stand-in data or too few "
                "steps to learn its task, so its numbers show only that the pipeline runs."
            )
        )
    writer.add(Table(paper_beside_ours(verdicts, experiment, role), "The paper states / we find"))
    differs = described["differs_from_paper"]
    writer.add(
        Heading("What differs from the paper and why", 3),
        Paragraph(
            differs
            if isinstance(differs, str) and differs
            else "Not stated: the sweep file gives no `differs_from_paper` for this experiment."
        ),
    )
    first = len(writer.blocks)
    key_results(writer, tables, accuracy, experiment, role)
    writer.blocks[first:] = [  # the report's top-level sections sit inside this one here
        replace(b, level=3) if isinstance(b, Heading) and b.level < 3 else b
        for b in writer.blocks[first:]
    ]


def paper_beside_ours(
    verdicts: list[ClaimVerdict], experiment: str, role: str | None
) -> pd.DataFrame:
    """One row per claim judged on the role: the statement, then our verdicts per setting."""
    rows = []
    for claim in claims_of(role):
        mine = [v for v in verdicts if v.claim == claim and v.experiment == experiment]
        rows.append(
            {
                "claim": claim,
                "the paper states (our words, docs/method.md)": STATEMENTS[claim],
                "our verdict": "; ".join(dict.fromkeys(v.verdict for v in mine)) or "not run",
                "our numbers": " / ".join(v.numbers for v in mine if v.numbers) or "-",
            }
        )
    if not rows:
        rows.append(
            {
                "claim": "-",
                "the paper states (our words, docs/method.md)": "no claim is judged on this role",
                "our verdict": "-",
                "our numbers": "-",
            }
        )
    return pd.DataFrame(rows)


def key_results(
    writer: ReportWriter,
    tables: dict[str, pd.DataFrame],
    accuracy: pd.DataFrame,
    experiment: str,
    role: str | None,
) -> None:
    """The experiment's key figure and table, chosen by its role."""
    if role in ACROSS_SETTINGS_ROLES:
        shown = len(writer.blocks)
        trend_section(writer, tables, experiment)
        if role == "beta_sweep" and len(writer.blocks) > shown:
            return  # the beta figure and table say it all; sizes add each width's sharing
    if role == "transfer":
        transfer_section(writer, scoped_all(tables, experiment)["transfer_sharing"])
        return
    evaluations = tables["evaluations"]
    settings = evaluations.loc[evaluations["experiment"] == experiment, "setting"].unique()
    for setting in settings:
        scope = {key: scoped(frame, experiment, setting) for key, frame in tables.items()}
        name = slug(experiment, setting_label(setting))
        if len(settings) > 1:
            writer.add(Heading(setting_label(setting), 3))
        if role == "planted":
            planted_section(writer, scope["mask_overlaps"])
            continue
        if role != "size_sweep":  # the trend table has its control-mask accuracy per width
            accuracy_section(writer, accuracy, experiment, setting, name)
        if role in SHARING_ROLES:
            sharing_section(writer, scope, experiment, name)
        if role == "half_mask":
            half_mask_section(writer, scope["evaluations"], name)
        if role == "scan":
            token_section(writer, scope["mask_rows"], scope["mask_layers"], name)


def scoped_all(tables: dict[str, pd.DataFrame], experiment: str) -> dict[str, pd.DataFrame]:
    return {
        key: frame[frame["experiment"] == experiment] if not frame.empty else frame
        for key, frame in tables.items()
    }


def _labelled(verdict: ClaimVerdict, checks: set[str]) -> ClaimVerdict:
    if verdict.experiment not in checks:
        return verdict
    return verdict.model_copy(update={"experiment": f"{verdict.experiment} ({PIPELINE_CHECK})"})


def _beside(blocks: list[Block], folder: str) -> list[Block]:
    """Figure paths relative to the page, which sits beside its folder."""
    return [
        replace(block, path=Path(folder) / block.path) if isinstance(block, Figure) else block
        for block in blocks
    ]
