"""Per-job claims, so that two drivers submitting the same sweep run each job once.

A claim is a lease object `<sweep>/jobs/<job_id>/lease/<generation>.json` made with an
atomic create-if-absent: of two jobs racing for one generation exactly one wins. The holder
renews its expiry every third of the lease time; a holder that died stops renewing and its
claim expires (at once when it ran on this host and its process is gone). An expired or
released claim is taken over by creating the next generation, again atomically.

A driver holds a lease of the same kind on its MLflow submission run
(`<sweep>/drivers/<run_id>.json`), so a later driver or `status` can tell a dead driver's
run, left RUNNING, from a live one (`submission_alive`).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

from orchestrator.errors import StoreError
from orchestrator.job_types.job import Job
from orchestrator.stores.keys import lease_prefix, submission_key
from orchestrator.stores.store import ArtifactStore

POLL_S = 0.5


def _record(owner: str, ttl_s: float, released: bool = False) -> bytes:
    return json.dumps(
        {
            "owner": owner,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "expires_at": 0.0 if released else time.time() + ttl_s,
        }
    ).encode()


def is_live(lease: dict) -> bool:
    if lease["expires_at"] <= time.time():
        return False
    if lease["host"] == socket.gethostname():
        try:
            os.kill(lease["pid"], 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    return True


def latest_lease(store: ArtifactStore, job: Job) -> tuple[int, dict | None]:
    """The newest generation and its record (None when it is being written right now)."""
    keys = store.list(lease_prefix(job.sweep, job.id))
    if not keys:
        return -1, None
    key = max(keys)
    try:
        return int(key.rsplit("/", 1)[-1].split(".")[0]), json.loads(store.get_bytes(key))
    except (StoreError, ValueError):
        return int(key.rsplit("/", 1)[-1].split(".")[0]), None


def claim_states(store: ArtifactStore, jobs: list[Job]) -> tuple[set[str], set[str]]:
    """(ids with a live claim, ids ever claimed) for `orchestrator status`."""
    live, claimed = set(), set()
    for job in jobs:
        generation, lease = latest_lease(store, job)
        if generation >= 0:
            claimed.add(job.id)
        if lease is not None and is_live(lease):
            live.add(job.id)
    return live, claimed


def try_claim(store: ArtifactStore, job: Job, owner: str, ttl_s: float) -> str | None:
    """The key of a fresh lease for `owner`, or None while someone else holds a live one."""
    generation, lease = latest_lease(store, job)
    if lease is None and generation >= 0:
        return None
    if lease is not None and is_live(lease):
        return None
    key = f"{lease_prefix(job.sweep, job.id)}/{generation + 1:08d}.json"
    return key if store.create_if_absent(key, _record(owner, ttl_s)) else None


@contextlib.contextmanager
def claim(
    store: ArtifactStore, job: Job, owner: str, ttl_s: float, finished: Callable[[], bool]
) -> Iterator[bool]:
    """Hold the job's claim while the block runs: yields True, or False once `finished()`.

    While another live holder runs the job this waits; when that holder's result appears
    (`finished()`) it yields False and the caller reads the result instead of running it.
    """
    if not hasattr(store, "create_if_absent"):
        yield True  # a store without atomic create cannot arbitrate; each driver runs its jobs
        return
    while True:
        if finished():  # before claiming: a released claim may mean the work is done
            yield False
            return
        if (key := try_claim(store, job, owner, ttl_s)) is not None:
            break
        time.sleep(POLL_S)
    with _renewed(store, key, owner, ttl_s):
        yield True


@contextlib.contextmanager
def _renewed(store: ArtifactStore, key: str, owner: str, ttl_s: float) -> Iterator[None]:
    """Renew the lease at `key` every third of `ttl_s` while the block runs; release it after."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl_s / 3):
            store.put_bytes(key, _record(owner, ttl_s))

    heartbeat = threading.Thread(target=renew, name=f"lease-{key}", daemon=True)
    heartbeat.start()
    try:
        yield
    finally:
        stop.set()
        heartbeat.join()
        store.put_bytes(key, _record(owner, ttl_s, released=True))


@contextlib.contextmanager
def hold_submission(store: ArtifactStore, sweep: str, run_id: str, ttl_s: float) -> Iterator[None]:
    """Keep the submission run `run_id` marked as driven by this live process; the lease is
    deleted after the block (the run has ended, or lacks a lease and so counts as dead)."""
    key = submission_key(sweep, run_id)
    store.put_bytes(key, _record(run_id, ttl_s))
    try:
        with _renewed(store, key, run_id, ttl_s):
            yield
    finally:
        store.delete(key)


def submission_alive(
    store: ArtifactStore, sweep: str, run_id: str, started_at: float, ttl_s: float
) -> bool:
    """Whether the driver of a RUNNING submission run may still be running it.

    A run with no lease is alive for `ttl_s` after it started (its driver writes the lease
    just after creating the run); older, it was left by a driver that died before writing
    one, or by a version that wrote none.
    """
    key = submission_key(sweep, run_id)
    if not store.exists(key):
        return time.time() - started_at < ttl_s
    try:
        return is_live(json.loads(store.get_bytes(key)))
    except (StoreError, ValueError):
        return True  # being rewritten right now: its holder renews it
