"""The evaluate job: the base model and its fitted masks, measured; records become rows.

What is measured, and in which order, is `workloads.evaluation.evaluate_all`; this module
loads the model and the masks, adds each record's sweep keys and fit job id, writes the
tables and logs every evaluation's accuracy to MLflow.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel

from analysis.schema import (
    ConfusionRow,
    EvaluationRow,
    MaskOverlapRow,
    MaskRowRow,
    MaskSharingRow,
    OpConfusionRow,
)
from orchestrator.job_types.configs import EvaluateJobConfig, job_config
from orchestrator.job_types.job import Job
from orchestrator.jobs.artifacts import build_task, load_base_model, load_final_mask, row_keys
from orchestrator.stores.results import write_rows
from orchestrator.stores.store import ArtifactStore
from orchestrator.tracking.tracker import Tracker
from workloads.evaluation.evaluate_all import evaluate_all
from workloads.evaluation.records import EvaluationRecord, EvaluationRecords

# Table -> its row type, in the order the job writes them.
TABLE_ROWS: dict[str, type[BaseModel]] = {
    "confusions": ConfusionRow,
    "mask_rows": MaskRowRow,
    "mask_sharing": MaskSharingRow,
    "op_confusion": OpConfusionRow,
    "evaluations": EvaluationRow,
    "mask_overlaps": MaskOverlapRow,
}


def run_evaluate(job: Job, store: ArtifactStore, tracker: Tracker, run_id: str) -> dict[str, float]:
    config = job_config(job, EvaluateJobConfig)
    task = build_task(config.task)
    model = load_base_model(store, job, config, task)
    masks = {
        label: load_final_mask(store, job.sweep, fit_id, model)
        for label, fit_id in config.fit_jobs.items()
    }
    records = evaluate_all(model, task, masks, config.evaluation, job.seed)
    for table, rows in table_rows(records, row_keys(job), config.fit_jobs).items():
        write_rows(store, job.sweep, table, job.id, rows)
    metrics = accuracy_metrics(records.evaluations)
    tracker.log_metrics(run_id, metrics)
    return metrics


def table_rows(
    records: EvaluationRecords, keys: dict[str, Any], fit_jobs: dict[str, str]
) -> dict[str, list[BaseModel]]:
    """Each table's rows: a record with the job's keys and, where the table has the column,
    the fit job of the record's mask (None for the unmasked model)."""
    tables: dict[str, list[BaseModel]] = {}
    for table, row_type in TABLE_ROWS.items():
        rows = []
        for record in getattr(records, table):
            data = dataclasses.asdict(record)
            if "mask_job_id" in row_type.model_fields:
                label = data.get("mask_target", data.get("target_function"))
                data["mask_job_id"] = None if label is None else fit_jobs[label]
            rows.append(row_type(**keys, **data))
        tables[table] = rows
    return tables


def accuracy_metrics(evaluations: list[EvaluationRecord]) -> dict[str, float]:
    """`accuracy.<variant>.<mask or base>.on.<function>[.draw<n>]` of every evaluation."""
    return {
        f"accuracy.{e.mask_variant}.{e.mask_target or 'base'}.on.{e.evaluated_function}"
        + (f".draw{e.draw}" if e.mask_variant.startswith("random") else ""): e.accuracy
        for e in evaluations
    }
