"""MLflow: one experiment per sweep, a parent run per submission, a child run per job.

Metrics are sent in batches (one call per few hundred points), never one call per step.
A job that is resumed reuses its earlier run, so every job has exactly one MLflow run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from orchestrator.settings import Settings

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


class Tracker:
    """A thin owner of an MlflowClient bound to one tracking URI."""

    def __init__(self, tracking_uri: str) -> None:
        self.client = MlflowClient(tracking_uri=tracking_uri)

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
        run_id = self.find_job_run(experiment_id, job.id)
        tags = {
            "mlflow.parentRunId": parent_run_id,
            "job_id": job.id,
            "kind": job.kind,
            "experiment": job.experiment,
            "seed": str(job.seed),
            "setting": job.setting,
        }
        if run_id is None:
            run_id = self.client.create_run(
                experiment_id, run_name=f"{job.kind}-{job.id}", tags=tags
            ).info.run_id
            params = flatten({**job.config, "varying": job.varying})
            self.client.log_batch(run_id, params=[Param(k, v) for k, v in params.items()])
        else:
            self.client.update_run(run_id, status="RUNNING")
            self.client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
        return run_id

    def log_history(self, run_id: str, history: list[dict[str, float]], prefix: str = "") -> None:
        timestamp = int(time.time() * 1000)
        metrics = [
            Metric(f"{prefix}{name}", value, timestamp, int(point["step"]))
            for point in history
            for name, value in point.items()
            if name != "step"
        ]
        for start in range(0, len(metrics), BATCH):
            self.client.log_batch(run_id, metrics=metrics[start : start + BATCH])

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int = 0) -> None:
        timestamp = int(time.time() * 1000)
        entries = [Metric(k, float(v), timestamp, step) for k, v in metrics.items()]
        for start in range(0, len(entries), BATCH):
            self.client.log_batch(run_id, metrics=entries[start : start + BATCH])

    def log_artifact(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        self.client.log_artifact(run_id, str(path), artifact_path)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        self.client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])

    def stop(self, run_id: str, step: int) -> None:
        """A run interrupted on purpose (cancel, SIGTERM): KILLED until it is resumed."""
        self.set_tags(run_id, {"stopped_at_step": str(step)})
        self.client.set_terminated(run_id, status="KILLED")

    def finish(self, run_id: str, failed: bool = False) -> None:
        self.client.set_terminated(run_id, status="FAILED" if failed else "FINISHED")
