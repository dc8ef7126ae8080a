"""Signals between drivers, jobs and `orchestrator status/cancel`, kept in the artifact store.

- `<sweep>/plan.json`: the plan of the latest submission, so `status` works without the
  sweep file and after the driver died; its `job_experiments` table says which
  experiments and settings each job serves, for the analysis.
- `<sweep>/cancel.json`: `{"cancelled": true}` after `orchestrator cancel`; jobs check it
  between steps (then checkpoint and stop) and before they start. A new submission resets it.
- SIGTERM: a running job checkpoints at its next step and stops instead of dying mid-step.
"""

from __future__ import annotations

import contextlib
import json
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

from analysis.schema import JobExperimentRow
from orchestrator.errors import StoreError, UserError
from orchestrator.job_types.job import Plan
from orchestrator.stores.keys import cancel_key, plan_key
from orchestrator.stores.results import write_rows
from orchestrator.stores.store import ArtifactStore

_STOP = {"signal": False}


def save_plan(store: ArtifactStore, plan: Plan) -> None:
    """The plan, and the `job_experiments` table: every experiment each job serves."""
    store.put_bytes(plan_key(plan.sweep), plan.model_dump_json().encode())
    write_rows(store, plan.sweep, "job_experiments", "plan", job_experiment_rows(plan))


def job_experiment_rows(plan: Plan) -> list[JobExperimentRow]:
    return [
        JobExperimentRow(
            sweep=plan.sweep,
            job_id=job.id,
            kind=job.kind,
            experiment=served.experiment,
            setting=served.setting,
            seed=job.seed,
            role=served.role,
            differs_from_paper=served.differs_from_paper,
            pipeline_check=served.pipeline_check,
        )
        for job in plan.jobs
        for served in job.attributions()
    ]


def load_plan(store: ArtifactStore, sweep: str) -> Plan:
    key = plan_key(sweep)
    if not store.exists(key):
        raise UserError(
            f"sweep {sweep!r} has no saved plan in {store.root}; submit it first "
            "(or check ORCHESTRATOR_ARTIFACT_ROOT / ORCHESTRATOR_WORKSPACE)"
        )
    try:
        return Plan.model_validate_json(store.get_bytes(key))
    except ValueError as error:
        raise StoreError(
            f"{store.uri(key)}: unreadable plan ({error}); resubmit the sweep"
        ) from None


def set_cancelled(store: ArtifactStore, sweep: str, cancelled: bool) -> None:
    store.put_bytes(
        cancel_key(sweep), json.dumps({"cancelled": cancelled, "at": time.time()}).encode()
    )


def cancel_requested(store: ArtifactStore, sweep: str) -> bool:
    key = cancel_key(sweep)
    if not store.exists(key):
        return False
    try:
        return bool(json.loads(store.get_bytes(key))["cancelled"])
    except (StoreError, ValueError, KeyError, TypeError):
        return False  # being rewritten right now: the next check sees it


def stop_signal_received() -> bool:
    return _STOP["signal"]


def stop_on_sigterm() -> contextlib.AbstractContextManager[None]:
    """While a job runs, SIGTERM asks its loop to checkpoint and stop (see `resume.py`).

    Outside the main thread a handler cannot be installed; the job then dies on SIGTERM
    as before and resumes from its last periodic checkpoint.
    """
    _STOP["signal"] = False
    return on_sigterm(lambda *_: _STOP.update(signal=True))


@contextlib.contextmanager
def on_sigterm(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """While the block runs, SIGTERM calls `handler`; outside the main thread nothing changes."""
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
