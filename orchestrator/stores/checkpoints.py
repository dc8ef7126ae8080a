"""A job's resumable state in the artifact store: `<sweep>/jobs/<job_id>/checkpoint/`.

One safetensors object holds the loop's tensors (parameters, optimizer moments, generator
states) and, in its header, JSON metadata (step, metric history, optimizer settings). One
object means one atomic put: a reader sees the previous checkpoint or the new one, never a
mix. Nothing is unpickled on load.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import torch

from orchestrator.errors import StoreError
from orchestrator.job_types.job import Job
from orchestrator.stores.control import cancel_requested, stop_signal_received
from orchestrator.stores.keys import checkpoint_key
from orchestrator.stores.store import ArtifactStore
from workloads.checkpoint import (
    CorruptTensorFile,
    metadata_from_bytes,
    tensors_from_bytes,
    tensors_to_bytes,
)
from workloads.resume import Checkpointer, LoopState

FORMAT = "1"
CANCEL_CHECK_EVERY_S = 2.0


def state_to_bytes(job: Job, state: LoopState) -> bytes:
    tensors = {f"parameters/{name}": t for name, t in state.parameters.items()}
    for index, entries in state.optimizer["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{index}/{name}"] = value
    tensors.update({f"generators/{name}": t for name, t in state.generators.items()})
    metadata = {
        "format": FORMAT,
        "job_id": job.id,
        "kind": job.kind,
        "step": str(state.step),
        "history": json.dumps(state.history),
        "optimizer_param_groups": json.dumps(state.optimizer["param_groups"]),
    }
    return tensors_to_bytes(tensors, metadata)


def state_from_bytes(job: Job, data: bytes, where: str) -> LoopState:
    """Parse a checkpoint; any damage is a StoreError naming the file and the fix."""
    try:
        tensors = tensors_from_bytes(data)
        metadata = metadata_from_bytes(data)
        if metadata.get("format") != FORMAT or metadata.get("job_id") != job.id:
            raise CorruptTensorFile(
                f"written for job {metadata.get('job_id')!r} (format {metadata.get('format')!r})"
            )
        optimizer_state: dict[int, dict[str, Any]] = {}
        parameters, generators = {}, {}
        for name, tensor in tensors.items():
            group, _, rest = name.partition("/")
            if group == "parameters":
                parameters[rest] = tensor
            elif group == "generators":
                generators[rest] = tensor
            else:
                index, _, entry = rest.partition("/")
                optimizer_state.setdefault(int(index), {})[entry] = tensor
        return LoopState(
            step=int(metadata["step"]),
            parameters=parameters,
            optimizer={
                "state": optimizer_state,
                "param_groups": json.loads(metadata["optimizer_param_groups"]),
            },
            generators=generators,
            history=json.loads(metadata["history"]),
        )
    except (CorruptTensorFile, KeyError, ValueError) as error:
        raise StoreError(
            f"{where}: unreadable checkpoint ({error}); delete it to restart the job from step 0"
        ) from None


def save_checkpoint(store: ArtifactStore, job: Job, state: LoopState) -> None:
    store.put_bytes(checkpoint_key(job.sweep, job.id), state_to_bytes(job, state))


def load_checkpoint(store: ArtifactStore, job: Job) -> LoopState | None:
    key = checkpoint_key(job.sweep, job.id)
    if not store.exists(key):
        return None
    return state_from_bytes(job, store.get_bytes(key), store.uri(key))


def stop_requested(store: ArtifactStore, sweep: str) -> Callable[[], bool]:
    """True on SIGTERM or once the sweep is cancelled; the store is asked about
    cancellation at most every few seconds, not every step."""
    last_check = [time.monotonic()]

    def should_stop() -> bool:
        if stop_signal_received():
            return True
        if time.monotonic() - last_check[0] < CANCEL_CHECK_EVERY_S:
            return False
        last_check[0] = time.monotonic()
        return cancel_requested(store, sweep)

    return should_stop


def resume_arguments(store: ArtifactStore, job: Job, every: int) -> dict[str, Any]:
    """`resume_from` and `checkpointer` for a loop: its last checkpoint, and how to save more.

    The loop stops (after saving) on SIGTERM or when the sweep is cancelled.
    """
    return {
        "resume_from": load_checkpoint(store, job),
        "checkpointer": Checkpointer(
            every=every,
            save=lambda state: save_checkpoint(store, job, state),
            should_stop=stop_requested(store, job.sweep),
        ),
    }
