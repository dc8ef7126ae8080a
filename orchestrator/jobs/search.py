"""The search job: a Ray Tune run of mask fits on one trained base model (`search:`).

Each trial is an ordinary mask fit with the trial's drawn values (`workloads/search/`),
run by Tune with the fit resources of the experiment; it reports at the fit's logging
steps, so ASHA stops hopeless trials early, and leaves its mask in the store. When Tune
is done, the job writes the `search_trials` table, one MLflow child run per trial, and the
best trial's mask as its own `mask.safetensors`. The Tune run keeps its state in a folder
of the job (`tune_folder`), so a driver killed mid-search resumes it without rerunning
finished trials; a finished search job is skipped like any finished job. A cancelled sweep
(`orchestrator cancel`) stops each running trial at its next logging step, as an error
that Tune's restore runs again, and the job ends stopped, not done.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from ray import tune

from analysis.schema import SearchTrialRow
from orchestrator.job_types.configs import SearchJobConfig, job_config
from orchestrator.job_types.job import Job, Resources
from orchestrator.jobs.artifacts import build_task, load_base_model, row_keys
from orchestrator.jobs.search_tune import run_search
from orchestrator.stores.checkpoints import stop_requested
from orchestrator.stores.control import cancel_requested, stop_signal_received
from orchestrator.stores.keys import MASK_FILE, job_key, jobs_prefix, trial_mask_key
from orchestrator.stores.results import write_rows
from orchestrator.stores.store import ArtifactStore, LocalStore, open_store
from orchestrator.tracking.tracker import Tracker, TrialRun
from workloads.checkpoint import tensors_to_bytes
from workloads.evaluate import evaluate
from workloads.resume import LoopInterrupted
from workloads.search.objective import TrialResult, best_trial, draw_points, trial_id
from workloads.search.trial import run_trial, trial_config

CACHE_FOLDER = Path.home() / ".cache" / "orchestrator" / "tune"


def tune_folder(store: ArtifactStore, job: Job) -> Path:
    """Where the Tune run keeps its state: beside the job's files in a local store; for an
    object store, a local folder (a killed search then resumes on the same machine only)."""
    if isinstance(store, LocalStore):
        return store.path / jobs_prefix(job.sweep) / job.id / "tune"
    return CACHE_FOLDER / job.sweep / job.id


def run_search_job(job: Job, store: ArtifactStore, tracker: Tracker, run_id: str) -> dict:
    config = job_config(job, SearchJobConfig)
    task = build_task(config.task)
    driver = job.model_copy(update={"resources": Resources()})  # this process asked for no GPU
    model = load_base_model(store, driver, config, task)
    base_accuracy = evaluate(model, task, config.target_function).accuracy
    within = config.search.objective.within
    trial = TrialRunner(job, store.root, base_accuracy)
    max_steps = max(trial_config(config.mask_fit, p).steps for p in draw_points(config.search))
    resources = trial_resources(job.resources)
    results = run_search(
        config.search, trial, tune_folder(store, job), "tune", max_steps, resources
    )
    if cancel_requested(store, job.sweep) or stop_signal_received():
        raise LoopInterrupted(0)  # the trials stopped; submitting again resumes the search
    if not results:
        raise RuntimeError("the search ran no trial to its first report; see the Tune log")
    best, feasible = best_trial(results, base_accuracy, within)
    store.put_bytes(
        job_key(job.sweep, job.id, MASK_FILE),
        store.get_bytes(trial_mask_key(job.sweep, job.id, best.trial_id)),
    )
    write_rows(
        store,
        job.sweep,
        "search_trials",
        job.id,
        [trial_row(job, config, result, base_accuracy, best) for result in results],
    )
    tracker.log_trial_runs(
        run_id,
        job,
        [
            TrialRun(
                result.trial_id,
                {**result.values, "trial": result.trial_id},
                result.curve,
                final_metrics(result),
            )
            for result in results
        ],
    )
    tracker.set_tags(
        run_id,
        {
            "best_trial": best.trial_id,
            "best_values": json.dumps(best.values),
            "feasible": str(feasible).lower(),
        },
    )
    return {
        "base_accuracy": base_accuracy,
        "best_kept_fraction": best.kept_fraction,
        "best_masked_accuracy": float(best.masked_accuracy or 0.0),
        "best_feasible": float(feasible),
        "trials": float(len(results)),
        "trials_stopped_early": float(sum(r.stopped_early for r in results)),
        "trials_failed": float(sum(r.error is not None for r in results)),
    }


def trial_resources(resources: Resources) -> dict[str, float]:
    """`resources.fit` in the names `tune.with_resources` takes."""
    wanted = {"cpu": resources.cpus, "gpu": resources.gpus, **resources.custom}
    if resources.memory_mb:
        wanted["memory"] = resources.memory_mb * 1024 * 1024
    return wanted


class TrialRunner:
    """One trial, run by Tune in its own worker: load the model, fit, report, keep the mask.

    A class, not a closure, so what Tune ships to its workers is this small object.
    """

    def __init__(self, job: Job, store_root: str, base_accuracy: float) -> None:
        self.job = job  # its resources are the trial's: the device it fits on
        self.store_root = store_root
        self.base_accuracy = base_accuracy

    def __call__(self, index: int, point: dict[str, Any]) -> None:
        config = job_config(self.job, SearchJobConfig)
        torch.set_num_threads(max(1, int(self.job.resources.cpus)))
        store = open_store(self.store_root)
        key = trial_mask_key(self.job.sweep, self.job.id, trial_id(index))
        task = build_task(config.task)
        model = load_base_model(store, self.job, config, task)
        should_stop = stop_requested(store, self.job.sweep)

        def report(metrics: dict[str, float]) -> None:
            if should_stop():  # an errored trial: the restored search runs it again
                raise LoopInterrupted(int(metrics["step"]))
            tune.report(metrics)

        run_trial(
            model,
            task,
            config.target_function,
            trial_config(config.mask_fit, point),
            config.seed,
            self.base_accuracy,
            config.search.objective.within,
            report,
            keep=lambda logits: store.put_bytes(key, tensors_to_bytes(logits)),
        )


def final_metrics(result: TrialResult) -> dict[str, float]:
    metrics = {
        "final_kept_fraction": result.kept_fraction,
        "stopped_early": float(result.stopped_early),
    }
    if result.masked_accuracy is not None:
        metrics["masked_accuracy"] = result.masked_accuracy
    return metrics


def trial_row(
    job: Job, config: SearchJobConfig, result: TrialResult, base_accuracy: float, best: TrialResult
) -> SearchTrialRow:
    within = config.search.objective.within
    feasible = None
    if result.masked_accuracy is not None and result.finished:
        feasible = result.masked_accuracy >= base_accuracy - within
    return SearchTrialRow(
        **row_keys(job),
        search_job_id=job.id,
        target_function=config.target_function,
        trial_id=result.trial_id,
        values_json=json.dumps(result.values, sort_keys=True),
        steps=result.steps,
        stopped_early=result.stopped_early,
        error=result.error[:2000] if result.error else None,
        kept_fraction=result.kept_fraction,
        masked_accuracy=result.masked_accuracy,
        batch_accuracy=result.batch_accuracy,
        base_accuracy=base_accuracy,
        within=within,
        feasible=feasible,
        best=result.trial_id == best.trial_id,
    )
