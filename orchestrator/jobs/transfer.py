"""The transfer job (paper E7): learn a task's target functions in sequence, record sharing.

One job per seed and setting runs the whole sequence (the tasks depend on each other, so
they are one unit of work); its config is a `TransferJobConfig`. It logs each task's
curves to MLflow under "<target>." names, stores every final mask in one safetensors
artifact (keys "<target>/<tensor>"), and writes the `transfer_sharing` table: per task
and masked tensor, shared and kept counts.
"""

from __future__ import annotations

from analysis.schema import TransferSharingRow
from orchestrator.job_types.configs import TransferJobConfig, job_config
from orchestrator.job_types.job import Job
from orchestrator.jobs.artifacts import build_task, job_device, save_tensors
from orchestrator.stores.keys import TRANSFER_MASKS_FILE, job_key
from orchestrator.stores.results import write_rows
from orchestrator.stores.store import ArtifactStore
from orchestrator.tracking.tracker import Tracker
from workloads.transfer import (
    first_layer_names,
    learn_in_sequence,
    transfer_sharing,
)


def run_transfer(job: Job, store: ArtifactStore, tracker: Tracker, run_id: str) -> dict[str, float]:
    config = job_config(job, TransferJobConfig)
    task = build_task(config.task)
    outcomes = learn_in_sequence(task, config.transfer, config.seed, job_device(job))
    for outcome in outcomes:
        tracker.log_history(run_id, outcome.history, prefix=f"{outcome.target}.")
    masks = {
        f"{outcome.target}/{name}": keep
        for outcome in outcomes
        for name, keep in outcome.mask.items()
    }
    save_tensors(store, tracker, run_id, job_key(job.sweep, job.id, TRANSFER_MASKS_FILE), masks)
    layers = list(outcomes[0].mask)
    sharing = transfer_sharing([o.mask for o in outcomes], first_layer_names(layers))
    rows = [
        TransferSharingRow(
            sweep=job.sweep,
            experiment=job.experiment,
            setting=job.setting,
            seed=job.seed,
            job_id=job.id,
            task_index=task_index,
            layer=layer,
            layer_index=layers.index(layer),
            shared=shared,
            kept=kept,
        )
        for task_index, counts in enumerate(sharing)
        for layer, (shared, kept) in counts.items()
    ]
    write_rows(store, job.sweep, "transfer_sharing", job.id, rows)
    metrics = {f"accuracy.{outcome.target}": outcome.accuracy for outcome in outcomes}
    tracker.log_metrics(run_id, metrics)
    return metrics
