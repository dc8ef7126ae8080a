"""MLflow: one experiment per sweep, a parent run per submission, a child run per job.

Metrics are sent in batches (one call per few hundred points), never one call per step.
A job that is resumed reuses its earlier run, so every job has exactly one MLflow run.

A job whose tracking server is unreachable keeps going: from the first failed call on, its
writes (run creation, params, metric curves, tags, artifacts by store key, the final status)
go to a journal that the job saves beside its results; the next `submit` replays every
journal once the server answers (`replay_journals`).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import requests
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from analysis.schema import RunRow
from orchestrator.settings import Settings
from orchestrator.stores.keys import JOURNAL_NAME
from orchestrator.stores.leases import submission_alive
from orchestrator.stores.results import read_part, write_rows

BATCH = 500
PARAM_VALUE_LIMIT = 6000


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """{"a": {"b": 1}} -> {"a.b": "1"}; lists become JSON."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            flat[name] = text[:PARAM_VALUE_LIMIT]
    return flat


UNREACHABLE_SIGNS = (
    "Max retries exceeded",
    "Connection refused",
    "Failed to establish",
    "ConnectionError",
)


def unreachable(error: Exception) -> bool:
    """The tracking server did not answer (as opposed to answering with an error)."""
    return isinstance(error, requests.exceptions.ConnectionError) or any(
        sign in str(error) for sign in UNREACHABLE_SIGNS
    )


class TrialRun(NamedTuple):
    """One search trial as MLflow gets it: its id, params, curve and final metrics."""

    trial: str
    params: dict[str, Any]
    history: list[dict[str, float]]
    final: dict[str, float]


class Tracker:
    """A thin owner of an MlflowClient bound to one tracking URI.

    `journal` is None while the server answers; a list of the writes not yet sent after it
    stopped answering.
    """

    def __init__(self, tracking_uri: str) -> None:
        self.client = MlflowClient(tracking_uri=tracking_uri)
        self.journal: list[dict[str, Any]] | None = None

    def _send(self, op: dict[str, Any]) -> Any:
        """Apply one write now, or journal it once the server has stopped answering."""
        if self.journal is not None:
            self.journal.append(op)
            return op.get("placeholder")
        try:
            return self.apply(op)
        except Exception as error:
            if not unreachable(error):
                raise
            self.journal = [op]
            return op.get("placeholder")

    def apply(self, op: dict[str, Any], ids: dict[str, str] | None = None) -> Any:
        """Send one journalled write; `ids` maps placeholder run ids to real ones."""
        ids = ids or {}
        run_id = ids.get(op.get("run_id", ""), op.get("run_id", ""))
        if op["op"] == "create_run":
            run = self.client.create_run(
                op["experiment_id"], run_name=op["run_name"], tags=op["tags"]
            )
            return run.info.run_id
        if op["op"] == "log_batch":
            self.client.log_batch(
                run_id,
                metrics=[Metric(**metric) for metric in op.get("metrics", [])],
                params=[Param(k, v) for k, v in op.get("params", {}).items()],
                tags=[RunTag(k, v) for k, v in op.get("tags", {}).items()],
            )
        elif op["op"] == "update_run":
            self.client.update_run(run_id, status=op["status"])
        elif op["op"] == "set_terminated":
            self.client.set_terminated(run_id, status=op["status"])
        elif op["op"] == "log_artifact":
            self.client.log_artifact(run_id, op["path"], op.get("artifact_path"))
        return None

    def ensure_experiment(self, sweep: str, settings: Settings) -> str:
        existing = self.client.get_experiment_by_name(sweep)
        if existing is not None:
            return existing.experiment_id
        location = None
        if settings.mlflow_tracking_uri and settings.mlflow_tracking_uri.startswith("sqlite:"):
            location = (Path(settings.workspace) / "mlartifacts" / sweep).as_uri()
        try:
            return self.client.create_experiment(sweep, artifact_location=location)
        except Exception:
            existing = self.client.get_experiment_by_name(sweep)  # another driver made it
            if existing is None:
                raise
            return existing.experiment_id

    def start_parent(self, experiment_id: str, sweep: str, tags: dict[str, str]) -> str:
        run = self.client.create_run(
            experiment_id,
            run_name=f"{sweep}-{time.strftime('%Y%m%d-%H%M%S')}",
            tags={"kind": "submission", **tags},
        )
        return run.info.run_id

    def kill_submission(self, experiment_id: str, run_id: str) -> None:
        """Mark a submission KILLED, with its job runs still RUNNING: nobody will end them."""
        children = self.client.search_runs(
            [experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{run_id}' and attributes.status = 'RUNNING'",
            max_results=5000,
        )
        for child in children:
            self.client.set_terminated(child.info.run_id, status="KILLED")
        self.client.set_terminated(run_id, status="KILLED")

    def close_dead_submissions(self, store, sweep: str, ttl_s: float) -> int:
        """KILLED for every RUNNING submission run of the sweep whose driver is gone (its lease
        lapsed, `leases.submission_alive`); a live concurrent driver's run is left alone."""
        experiment = self.client.get_experiment_by_name(sweep)
        if experiment is None:
            return 0
        running = self.client.search_runs(
            [experiment.experiment_id],
            filter_string="tags.kind = 'submission' and attributes.status = 'RUNNING'",
            max_results=5000,
        )
        dead = [
            run.info.run_id
            for run in running
            if not submission_alive(
                store, sweep, run.info.run_id, run.info.start_time / 1000, ttl_s
            )
        ]
        for run_id in dead:
            self.kill_submission(experiment.experiment_id, run_id)
        return len(dead)

    def latest_submission(self, sweep: str) -> str | None:
        experiment = self.client.get_experiment_by_name(sweep)
        if experiment is None:
            return None
        runs = self.client.search_runs(
            [experiment.experiment_id],
            filter_string="tags.kind = 'submission'",
            order_by=["start_time DESC"],
            max_results=1,
        )
        return runs[0].info.run_id if runs else None

    def find_job_run(self, experiment_id: str, job_id: str) -> str | None:
        runs = self.client.search_runs(
            [experiment_id], filter_string=f"tags.job_id = '{job_id}'", max_results=1
        )
        return runs[0].info.run_id if runs else None

    def start_job_run(self, experiment_id: str, parent_run_id: str, job: Any) -> str:
        """The job's run: the one an interrupted attempt left, or a new child of the submission."""
        try:
            run_id = None if self.journal is not None else self.find_job_run(experiment_id, job.id)
        except Exception as error:
            if not unreachable(error):
                raise
            self.journal, run_id = [], None
        tags = {
            "mlflow.parentRunId": parent_run_id,
            "job_id": job.id,
            "kind": job.kind,
            "experiment": job.experiment,
            "seed": str(job.seed),
            "setting": job.setting,
        }
        if run_id is None:
            run_id = self._send(
                {
                    "op": "create_run",
                    "experiment_id": experiment_id,
                    "run_name": f"{job.kind}-{job.id}",
                    "tags": tags,
                    "placeholder": f"offline-{job.id}",
                }
            )
            params = flatten({**job.config.as_data(), "varying": job.varying})
            self._send({"op": "log_batch", "run_id": run_id, "params": params})
        else:
            self._send({"op": "update_run", "run_id": run_id, "status": "RUNNING"})
            self._send({"op": "log_batch", "run_id": run_id, "tags": tags})
        return run_id

    def log_trial_runs(self, job_run_id: str, job: Any, trials: list[TrialRun]) -> None:
        """Each search trial as a child run of its search job's run (itself a child of the
        submission): params, curves and final metrics. Trials logged by an earlier,
        interrupted attempt of the job are not logged twice. Nothing while MLflow is down
        (the trials are in Parquet all the same)."""
        try:
            experiment_id = self.client.get_run(job_run_id).info.experiment_id
            logged = {
                run.data.tags.get("trial")
                for run in self.client.search_runs(
                    [experiment_id],
                    filter_string=f"tags.search_job = '{job.id}'",
                    max_results=5000,
                )
            }
        except Exception as error:
            if not unreachable(error):
                raise
            return
        for trial in trials:
            if trial.trial not in logged:
                self._log_trial_run(experiment_id, job_run_id, job, trial)

    def _log_trial_run(
        self, experiment_id: str, job_run_id: str, job: Any, trial: TrialRun
    ) -> None:
        tags = {
            "mlflow.parentRunId": job_run_id,
            "kind": "trial",
            "search_job": job.id,
            "trial": trial.trial,
            "experiment": job.experiment,
            "setting": job.setting,
        }
        run_id = self._send(
            {
                "op": "create_run",
                "experiment_id": experiment_id,
                "run_name": f"{trial.trial}-{job.id}",
                "tags": tags,
                "placeholder": f"offline-{job.id}-{trial.trial}",
            }
        )
        self._send({"op": "log_batch", "run_id": run_id, "params": flatten(trial.params)})
        self.log_history(run_id, trial.history)
        last_step = int(trial.history[-1]["step"]) if trial.history else 0
        self.log_metrics(run_id, trial.final, step=last_step)
        self.finish(run_id)

    def log_history(self, run_id: str, history: list[dict[str, float]], prefix: str = "") -> None:
        timestamp = int(time.time() * 1000)
        metrics = [
            Metric(f"{prefix}{name}", value, timestamp, int(point["step"]))
            for point in history
            for name, value in point.items()
            if name != "step"
        ]
        self._send_metrics(run_id, metrics)

    def _send_metrics(self, run_id: str, metrics: list[Metric]) -> None:
        for start in range(0, len(metrics), BATCH):
            chunk = [
                {"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step}
                for m in metrics[start : start + BATCH]
            ]
            self._send({"op": "log_batch", "run_id": run_id, "metrics": chunk})

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int = 0) -> None:
        timestamp = int(time.time() * 1000)
        self._send_metrics(
            run_id, [Metric(k, float(v), timestamp, step) for k, v in metrics.items()]
        )

    def log_artifact(
        self,
        run_id: str,
        path: Path,
        artifact_path: str | None = None,
        store_key: str | None = None,
    ) -> None:
        """Log a file; offline, a file that is also in the artifact store (`store_key`) is
        journalled by its key and logged from the store on replay."""
        self._send(
            {
                "op": "log_artifact",
                "run_id": run_id,
                "path": str(path),
                "artifact_path": artifact_path,
                "store_key": store_key,
            }
        )

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        self._send({"op": "log_batch", "run_id": run_id, "tags": tags})

    def stop(self, run_id: str, step: int) -> None:
        """A run interrupted on purpose (cancel, SIGTERM): KILLED until it is resumed."""
        self.set_tags(run_id, {"stopped_at_step": str(step)})
        self._send({"op": "set_terminated", "run_id": run_id, "status": "KILLED"})

    def finish(self, run_id: str, failed: bool = False) -> None:
        self._send(
            {"op": "set_terminated", "run_id": run_id, "status": "FAILED" if failed else "FINISHED"}
        )


def replay_journal(tracker: Tracker, ops: list[dict[str, Any]], store) -> str | None:
    """Send one job's journalled writes in order; returns the job's real run id."""
    ids: dict[str, str] = {}
    run_id = None
    with tempfile.TemporaryDirectory() as folder:
        for op in ops:
            if op["op"] == "log_artifact":
                if not op.get("store_key"):
                    continue  # a temporary file that no store holds: nothing to send
                path = Path(folder) / op["store_key"].rsplit("/", 1)[-1]
                path.write_bytes(store.get_bytes(op["store_key"]))
                op = {**op, "path": str(path)}
            result = tracker.apply(op, ids)
            if op["op"] == "create_run":
                ids[op["placeholder"]] = result
            run_id = (
                ids.get(op.get("run_id", ""), op.get("run_id"))
                if op["op"] != "create_run"
                else result
            )
    return run_id


def replay_journals(tracker: Tracker, store, sweep: str) -> tuple[int, int]:
    """Send every saved journal of the sweep; (replayed, still pending). A replayed job's
    `runs` row gets its real MLflow run id and its journal is deleted."""
    keys = [key for key in store.list(sweep) if key.endswith("/" + JOURNAL_NAME)]
    replayed = 0
    for index, key in enumerate(keys):
        ops = json.loads(store.get_bytes(key))
        try:
            run_id = replay_journal(tracker, ops, store)
        except Exception as error:
            if not unreachable(error):
                raise
            return replayed, len(keys) - index
        parts = key.split("/")
        if len(parts) == 4 and parts[1] == "jobs" and run_id:  # <sweep>/jobs/<job id>/journal
            rows = read_part(store, sweep, "runs", parts[2])
            if rows:
                write_rows(
                    store, sweep, "runs", parts[2], [RunRow(**{**rows[0], "mlflow_run_id": run_id})]
                )
        store.delete(key)
        replayed += 1
    return replayed, 0
