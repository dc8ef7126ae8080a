"""`orchestrator`: submit, plan, status, results and analyze sweeps.

Bad input (a sweep file, a setting, a missing result) is one clear line on stderr and
exit code 2, never a traceback. A sweep with failed jobs exits 1 after its summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from orchestrator.errors import UserError
from orchestrator.plan import Plan, plan_sweep
from orchestrator.settings import Settings, load_settings, redacted
from orchestrator.spec import load_sweep

EXIT_FAILED_JOBS = 1
EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console()
    try:
        settings = load_settings()
        return args.handler(args, settings, console)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        print(
            f"error: settings: {field}: {first['msg']} (check ORCHESTRATOR_* variables)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchestrator", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

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
    plan.set_defaults(handler=cmd_plan)

    analyze = commands.add_parser("analyze", help="write the report of a sweep from its results")
    analyze.add_argument("sweep")
    analyze.set_defaults(handler=cmd_analyze)
    return parser


def cmd_plan(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    plan = plan_sweep(load_sweep(args.sweep_file))
    if args.format == "json":
        print(json.dumps([job_summary(job, plan) for job in plan.jobs], indent=1))
        return 0
    table = Table(title=f"{plan.sweep}: {len(plan.jobs)} jobs")
    for column in ("id", "kind", "experiment", "varying", "depends on"):
        table.add_column(column)
    for job in plan.jobs:
        row = job_summary(job, plan)
        table.add_row(
            row["id"],
            row["kind"],
            row["experiment"],
            json.dumps(row["varying"]),
            " ".join(row["depends_on"]),
        )
    console.print(table)
    for experiment, counts in plan.counts().items():
        console.print(f"{experiment}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return 0


def job_summary(job, plan: Plan) -> dict:
    varying = dict(job.varying)
    if job.kind == "fit":
        varying["target_function"] = job.config["target_function"]
    return {
        "id": job.id,
        "kind": job.kind,
        "experiment": job.experiment,
        "varying": varying,
        "depends_on": list(job.depends_on),
    }


def cmd_submit(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from orchestrator.submit import submit

    plan = plan_sweep(load_sweep(args.sweep_file))
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
    from orchestrator.status import STATES, sweep_status

    status = sweep_status(settings, args.sweep)
    if args.format == "json":
        print(json.dumps(status, indent=1))
        return 0
    table = Table(title=f"{args.sweep}" + (" (cancelled)" if status["cancelled"] else ""))
    for column in ("id", "kind", "experiment", "state", "error"):
        table.add_column(column)
    for job in status["jobs"]:
        table.add_row(job["id"], job["kind"], job["experiment"], job["state"], job["error"] or "")
    console.print(table)
    console.print(", ".join(f"{status['counts'][state]} {state}" for state in STATES))
    return 0


def cmd_cancel(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from orchestrator.control import load_plan, set_cancelled
    from orchestrator.store import open_store

    store = open_store(settings.artifact_root)
    load_plan(store, args.sweep)  # refuses a sweep that was never submitted
    set_cancelled(store, args.sweep, True)
    console.print(
        f"{args.sweep}: cancel requested; running jobs checkpoint and stop within seconds, "
        f"pending ones will not start. Resume with: orchestrator submit <sweep file>"
    )
    return 0


def cmd_analyze(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from orchestrator.analyze import analyze

    report = analyze(settings, args.sweep)
    console.print(f"Report: {report}")
    console.print(
        f"MLflow: {redacted(settings.mlflow_tracking_uri)}  (mlflow ui --backend-store-uri {redacted(settings.mlflow_tracking_uri)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
