"""`orchestrator`: submit, plan, status, results and analyze sweeps.

Exit codes, each failure one line on stderr and never a traceback:
0 done; 1 a sweep had failed jobs (after its summary); 2 bad input (a sweep file, a
setting, an unusable workspace or tracking server, a missing result); 130 interrupted
(Ctrl-C: finished jobs are kept, submitting again resumes); 141 the reader of stdout went
away (`results ... | head`): the rest of the output is dropped silently, as a shell tool
killed by SIGPIPE would.
Heavy libraries (torch, pandas, MLflow, Ray) are imported inside the commands, so a Ctrl-C
at any moment, startup included, gets the same one line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.errors import UserError

if TYPE_CHECKING:
    from rich.console import Console

    from orchestrator.job_types.job import Plan
    from orchestrator.settings import Settings

EXIT_FAILED_JOBS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a Ctrl-C'd command
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE
WRITES = ("submit", "check-method", "analyze")  # commands that write to the workspace
TRACKS = ("submit", "check-method", "analyze", "status")  # commands that talk to MLflow


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        code = run_command(args)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
        return code
    except KeyboardInterrupt:
        resume = " (finished jobs are kept: submit again to resume)" if _submits(argv) else ""
        print(f"error: interrupted{resume}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLOSED_PIPE


def _submits(argv: Sequence[str] | None) -> bool:
    words = sys.argv[1:] if argv is None else list(argv)
    return bool(words) and words[0] in ("submit", "check-method")


def run_command(args: argparse.Namespace) -> int:
    """Run the chosen command; turn every kind of bad input into one line and exit 2."""
    from pydantic import ValidationError

    from orchestrator.cli.preflight import check_tracking_server, check_writable_places
    from orchestrator.settings import load_settings

    try:
        settings = load_settings()
        if args.command in WRITES:
            check_writable_places(settings)
        if args.command in TRACKS:
            check_tracking_server(settings.mlflow_tracking_uri)
        return args.handler(args, settings, _console())
    except UserError as error:
        return _refuse(str(error))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        return _refuse(f"settings: {field}: {first['msg']} (check ORCHESTRATOR_* variables)")
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            raise
        where = f": {error.filename}" if error.filename else ""
        return _refuse(
            f"{error.strerror or error}{where} (check ORCHESTRATOR_WORKSPACE and "
            "ORCHESTRATOR_ARTIFACT_ROOT)"
        )
    except Exception as error:
        mlflow_errors = sys.modules.get("mlflow.exceptions")
        if mlflow_errors is None or not isinstance(error, mlflow_errors.MlflowException):
            raise
        lines = str(error).strip().splitlines() or [type(error).__name__]
        return _refuse(f"MLflow: {lines[0]} (check MLFLOW_TRACKING_URI)")


def _console() -> Console:
    """rich's console, except that a closed stdout ends the command as `main` says (141)."""
    from rich.console import Console

    class PipeAwareConsole(Console):
        def on_broken_pipe(self) -> None:  # rich's own handler exits 1
            raise BrokenPipeError

    return PipeAwareConsole()


def _refuse(message: str) -> int:
    from orchestrator.settings import redacted

    print(f"error: {redacted(' '.join(message.split()))}", file=sys.stderr)
    return EXIT_BAD_INPUT


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line naming the command's --help (exit 2)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def cpus(text: str) -> float:
    """--cpus: a finite number above 0 (the cost line divides by it)."""
    return _cluster_size(text, allow_zero=False)


def gpus(text: str) -> float:
    """--gpus: a finite number, 0 or more."""
    return _cluster_size(text, allow_zero=True)


def _cluster_size(text: str, allow_zero: bool) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a finite number {'of 0 or more' if allow_zero else 'above 0'}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="orchestrator", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND", dest="command")

    submit = commands.add_parser("submit", help="run a sweep (skips finished jobs)")
    submit.add_argument("sweep_file")
    submit.add_argument(
        "--executor",
        choices=["ray", "local"],
        default="ray",
        help="local: in process, for debugging",
    )
    submit.add_argument(
        "--retry-failed",
        action="store_true",
        help="rerun jobs that failed earlier and their dependents (otherwise they are skipped)",
    )
    submit.set_defaults(handler=cmd_submit)

    status = commands.add_parser("status", help="done / running / failed / pending jobs of a sweep")
    status.add_argument("sweep")
    status.add_argument("--format", choices=["table", "json"], default="table")
    status.set_defaults(handler=cmd_status)

    cancel = commands.add_parser(
        "cancel", help="stop a sweep: running jobs checkpoint and stop, pending ones never start"
    )
    cancel.add_argument("sweep")
    cancel.set_defaults(handler=cmd_cancel)

    plan = commands.add_parser("plan", help="print a sweep's jobs without running anything")
    plan.add_argument("sweep_file")
    plan.add_argument("--format", choices=["table", "json"], default="table")
    plan.add_argument(
        "--cpus",
        type=cpus,
        default=float(os.cpu_count() or 1),
        help="cluster CPUs for the cost line",
    )
    plan.add_argument("--gpus", type=gpus, default=0.0, help="cluster GPUs for the cost line")
    plan.set_defaults(handler=cmd_plan)

    results = commands.add_parser("results", help="print rows of a sweep's result tables")
    results.add_argument("sweep")
    results.add_argument("--table", default="runs", help="runs, evaluations, mask_layers, ...")
    results.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE")
    results.add_argument("--columns", help="comma-separated columns to show")
    results.add_argument("--format", choices=["table", "csv", "json"], default="table")
    results.add_argument(
        "--claims", action="store_true", help="print the paper's claims with verdicts"
    )
    results.add_argument(
        "--wide",
        action="store_true",
        help="with --claims: every column (full statement, setting, numbers, reason)",
    )
    results.set_defaults(handler=cmd_results)

    search = commands.add_parser(
        "search-result", help="the values a sweep's mask-fit searches chose, for a sweep file"
    )
    search.add_argument("sweep")
    search.add_argument("--experiment", help="only this experiment's search")
    search.add_argument(
        "--write",
        type=Path,
        metavar="FILE",
        help="write a sweep file with one experiment per search, using the chosen values, "
        "for a follow-up sweep to `include:`",
    )
    search.add_argument(
        "--seeds",
        metavar="N,N,...",
        help="with --write: a grid over these base-model seeds (default: the search's seed)",
    )
    search.set_defaults(handler=cmd_search_result)

    check = commands.add_parser(
        "check-method", help="run the planted-modules sweep and print its verdicts"
    )
    check.add_argument("--sweep-file", default="sweeps/planted.yaml")
    check.add_argument("--executor", choices=["ray", "local"], default="ray")
    check.set_defaults(handler=cmd_check_method)

    analyze = commands.add_parser("analyze", help="write the report of a sweep from its results")
    analyze.add_argument("sweep")
    analyze.add_argument(
        "--publish",
        type=Path,
        metavar="PAGE",
        help="also write the results page (Markdown) at PAGE, its figures in PAGE's folder "
        "without the suffix (docs/results.md -> docs/results/figures/)",
    )
    analyze.set_defaults(handler=cmd_analyze)
    return parser


def cmd_plan(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from rich.table import Table

    from orchestrator.planning.estimate import estimate
    from orchestrator.planning.plan import plan_sweep
    from orchestrator.sweep.spec import load_sweep

    plan = plan_sweep(load_sweep(args.sweep_file, settings))
    cost = estimate(plan, cpus=args.cpus, gpus=args.gpus)
    if args.format == "json":
        jobs = [job_summary(job, plan) for job in plan.jobs]
        print(json.dumps({"sweep": plan.sweep, "jobs": jobs, "estimate": cost.model_dump()}))
        return 0
    table = Table(title=f"{plan.sweep}: {len(plan.jobs)} jobs")
    for column in ("id", "kind", "experiments", "varying", "depends on"):
        table.add_column(column)
    for job in plan.jobs:
        row = job_summary(job, plan)
        table.add_row(
            row["id"],
            row["kind"],
            served_label(row["serves"]),
            json.dumps(row["varying"]),
            " ".join(row["depends_on"]),
        )
    console.print(table)
    for experiment, counts in plan.counts().items():
        console.print(f"{experiment}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    console.print(cost.line())
    return 0


def job_summary(job, plan: Plan) -> dict:
    varying = dict(job.varying)
    if job.kind == "fit":
        varying["target_function"] = job.config.target_function
    return {
        "id": job.id,
        "kind": job.kind,
        "experiment": job.experiment,
        "varying": varying,
        "serves": job.served(),
        "depends_on": list(job.depends_on),
    }


def served_label(serves: list[dict]) -> str:
    """`addmul_ff, beta_sweep {"mask_fit.regularization_weight":0.0001}`: each experiment,
    with its setting where it has one."""
    return ", ".join(
        s["experiment"] + (f" {s['setting']}" if s["setting"] != "{}" else "") for s in serves
    )


def cmd_submit(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from orchestrator.execution.submit import submit
    from orchestrator.planning.plan import plan_sweep
    from orchestrator.settings import redacted
    from orchestrator.sweep.spec import load_sweep

    plan = plan_sweep(load_sweep(args.sweep_file, settings))
    summary = submit(plan, settings, args.executor, retry_failed=args.retry_failed)
    for outcome in summary.failed:
        console.print(f"failed {outcome.kind} {outcome.job_id}: {outcome.error}", markup=False)
    console.print(
        f"{plan.sweep}: {summary.done} done, {len(summary.failed)} failed, {summary.skipped} skipped (finished earlier)"
        + (f", {summary.cancelled} cancelled" if summary.cancelled else "")
        + (
            f" ({summary.failed_earlier} of them failed: --retry-failed reruns them)"
            if summary.failed_earlier
            else ""
        )
    )
    console.print(f"MLflow: {redacted(settings.mlflow_tracking_uri)} (experiment {plan.sweep!r})")
    console.print(f"Results: {redacted(settings.artifact_root)}/{plan.sweep}/results")
    if summary.dashboard_url:
        console.print(f"Ray dashboard (while Ray runs): http://{summary.dashboard_url}")
    console.print(f"Next: orchestrator analyze {plan.sweep}")
    return 0 if summary.ok else EXIT_FAILED_JOBS


def cmd_status(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from rich.table import Table

    from orchestrator.cli.status import STATES, sweep_status

    status = sweep_status(settings, args.sweep)
    if args.format == "json":
        print(json.dumps(status, indent=1))
        return 0
    table = Table(title=f"{args.sweep}" + (" (cancelled)" if status["cancelled"] else ""))
    for column in ("id", "kind", "experiments", "state", "error"):
        table.add_column(column)
    for job in status["jobs"]:
        table.add_row(
            job["id"], job["kind"], served_label(job["serves"]), job["state"], job["error"] or ""
        )
    console.print(table)
    console.print(", ".join(f"{status['counts'][state]} {state}" for state in STATES))
    return 0


def cmd_cancel(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from orchestrator.stores.control import load_plan, set_cancelled
    from orchestrator.stores.store import open_store

    store = open_store(settings.artifact_uri)
    load_plan(store, args.sweep)  # refuses a sweep that was never submitted
    set_cancelled(store, args.sweep, True)
    console.print(
        f"{args.sweep}: cancel requested; running jobs checkpoint and stop within seconds, "
        f"pending ones will not start. Resume with: orchestrator submit <sweep file>"
    )
    return 0


def cmd_results(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    import pandas as pd

    from analysis.claims import check_claims
    from analysis.headline import headline
    from analysis.schema import TABLES
    from orchestrator.cli.analyze import load_tables
    from orchestrator.cli.query import (
        CLAIM_COLUMNS,
        claims_details,
        claims_table,
        filter_rows,
        render,
    )

    if args.table not in TABLES:
        raise UserError(f"--table {args.table!r}: unknown table; tables: {', '.join(TABLES)}")
    tables = load_tables(settings, args.sweep)
    if tables["runs"].empty:
        raise UserError(f"sweep {args.sweep!r} has no results under {settings.artifact_root}")
    verdicts = check_claims(tables) if args.claims else []
    if args.claims:
        frame = pd.DataFrame([v.model_dump() for v in verdicts], columns=list(CLAIM_COLUMNS))
    else:
        frame = tables[args.table]
    frame = filter_rows(frame, args.where)
    if args.claims and args.format == "table" and not args.columns:
        print(claims_details(frame) if args.wide else claims_table(frame))
        print(headline([verdicts[i] for i in frame.index]))
        return 0
    if args.columns:
        wanted = [c.strip() for c in args.columns.split(",")]
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise UserError(
                f"--columns: no column {', '.join(missing)}; columns: {', '.join(frame.columns)}"
            )
        frame = frame[wanted]
    print(render(frame, args.format))
    return 0


def cmd_search_result(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from orchestrator.cli.analyze import load_tables
    from orchestrator.cli.search_result import includable, render, write_includable

    tables = load_tables(settings, args.sweep)
    if tables["runs"].empty:
        raise UserError(f"sweep {args.sweep!r} has no results under {settings.artifact_root}")
    print(render(tables["search_trials"], args.experiment))
    if args.write is not None:
        seeds = _seed_list(args.seeds) if args.seeds else None
        data = includable(tables["search_trials"], tables["runs"], args.experiment, seeds)
        write_includable(args.write, data, args.sweep)
        print(
            f"wrote {args.write}: include it from a sweep file to use these values", file=sys.stderr
        )
    return 0


def _seed_list(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise UserError(
            f"--seeds {text!r}: give whole numbers separated by commas, e.g. 1,2,3"
        ) from None
    if any(seed < 0 for seed in seeds):
        raise UserError(f"--seeds {text!r}: seeds are 0 or more")
    return seeds


def cmd_check_method(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Does the mask method recover structure planted by construction, on this machine?"""
    from analysis.planted import planted_verdicts
    from orchestrator.cli.analyze import analyze, load_tables
    from orchestrator.cli.query import render
    from orchestrator.execution.submit import submit
    from orchestrator.planning.plan import plan_sweep
    from orchestrator.sweep.spec import load_sweep

    plan = plan_sweep(load_sweep(args.sweep_file, settings))
    summary = submit(plan, settings, args.executor)
    if summary.failed:
        console.print(
            f"{len(summary.failed)} planted jobs failed; see `orchestrator results {plan.sweep}`"
        )
        return EXIT_FAILED_JOBS
    verdicts = planted_verdicts(load_tables(settings, plan.sweep)["mask_overlaps"])
    print(render(verdicts.drop(columns=["setting"]), "table"))
    console.print(f"Report: {analyze(settings, plan.sweep)[0]}")
    return 0 if (verdicts["verdict"] == "recovered").all() else EXIT_FAILED_JOBS


def cmd_analyze(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from rich.table import Table

    from analysis.headline import headline
    from analysis.sections.writer import setting_label
    from orchestrator.cli.analyze import analyze
    from orchestrator.settings import redacted

    report, verdicts = analyze(settings, args.sweep, args.publish)
    claims = Table(title="The paper's claims (numbers: the report, or `results --claims`)")
    for column in ("claim", "experiment", "setting", "verdict", "seeds", "reason"):
        claims.add_column(column, overflow="fold")
    for verdict in verdicts:
        claims.add_row(
            verdict.claim,
            verdict.experiment,
            setting_label(verdict.setting) if verdict.setting.startswith("{") else verdict.setting,
            verdict.verdict,
            str(verdict.seeds),
            verdict.reason,
        )
    console.print(claims)
    console.print(headline(verdicts))
    console.print(f"Report: {report} (and report.html)")
    if args.publish is not None:
        console.print(f"Results page: {args.publish} (figures in {args.publish.with_suffix('')})")
    console.print(
        f"MLflow: {redacted(settings.mlflow_tracking_uri)}  (mlflow ui --backend-store-uri {redacted(settings.mlflow_tracking_uri)})"
    )
    return 0
