"""What a finished job leaves in the store, by kind: a `done` job missing any of it is not done.

`submit` runs such a job again (so deleting a corrupt part or mask and submitting again
recomputes it instead of skipping the job), and `analyze` refuses while a done job's rows
are missing. Every job of a kind writes all of its tables, empty ones included. The resume
checkpoint is not an output: without it a rerun merely starts from step 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from orchestrator.stores.keys import (
    MASK_FILE,
    MODEL_FILE,
    TRANSFER_MASKS_FILE,
    job_key,
    jobs_prefix,
    part_key,
    results_prefix,
)
from orchestrator.stores.store import ArtifactStore

TABLES_WRITTEN: dict[str, tuple[str, ...]] = {
    "train": (),
    "fit": ("mask_layers", "fit_curves", "keep_probability_mass"),
    "evaluate": (
        "confusions",
        "mask_rows",
        "mask_sharing",
        "op_confusion",
        "evaluations",
        "mask_overlaps",
    ),
    "transfer": ("transfer_sharing",),
    "search": ("search_trials",),
}
ARTIFACTS_WRITTEN: dict[str, tuple[str, ...]] = {
    "train": (MODEL_FILE,),
    "fit": (MASK_FILE,),
    "transfer": (TRANSFER_MASKS_FILE,),
    "search": (MASK_FILE,),  # the best trial's mask
}


def expected_outputs(sweep: str, job_id: str, kind: str, artifacts: bool = True) -> list[str]:
    """The store keys a done job of `kind` has written besides its `runs` row."""
    keys = [part_key(sweep, table, job_id) for table in TABLES_WRITTEN.get(kind, ())]
    if artifacts:
        keys += [job_key(sweep, job_id, name) for name in ARTIFACTS_WRITTEN.get(kind, ())]
    return keys


def missing_outputs(
    store: ArtifactStore,
    sweep: str,
    done: Iterable[tuple[str, str]],
    artifacts: bool = True,
    exists: Callable[[str], bool] | None = None,
) -> dict[str, list[str]]:
    """{job id: its missing keys} of the (job id, kind) pairs recorded done; none if complete.

    Without `exists`, the sweep's folders are listed once (cheaper than a look-up per key
    on S3 for a whole sweep); pass `store.exists` to check a job or two.
    """
    if exists is None:
        present = set(store.list(results_prefix(sweep)))
        if artifacts:
            present |= set(store.list(jobs_prefix(sweep)))
        exists = present.__contains__
    missing = {
        job_id: [key for key in expected_outputs(sweep, job_id, kind, artifacts) if not exists(key)]
        for job_id, kind in done
    }
    return {job_id: keys for job_id, keys in missing.items() if keys}
