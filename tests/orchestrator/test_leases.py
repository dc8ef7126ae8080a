"""Job claims: one live holder per job, taken over once it expires or is released."""

from __future__ import annotations

import json
import subprocess
import time
from types import SimpleNamespace

import pytest

from orchestrator.stores import leases
from orchestrator.stores.leases import (
    claim,
    claim_states,
    hold_submission,
    is_live,
    latest_lease,
    submission_alive,
    submission_key,
    try_claim,
)
from orchestrator.stores.store import LocalStore

JOB = SimpleNamespace(sweep="s", id="j1")  # a lease needs only the job's sweep and id


@pytest.fixture
def store(tmp_path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def test_the_first_claim_wins_and_a_live_claim_refuses_the_next(store):
    assert try_claim(store, JOB, "driver-a", ttl_s=60) == "s/jobs/j1/lease/00000000.json"
    assert try_claim(store, JOB, "driver-b", ttl_s=60) is None
    generation, lease = latest_lease(store, JOB)
    assert generation == 0 and lease is not None and lease["owner"] == "driver-a"


def test_an_expired_claim_is_taken_over_by_the_next_generation(store):
    assert try_claim(store, JOB, "driver-a", ttl_s=0.01) is not None
    time.sleep(0.05)
    assert try_claim(store, JOB, "driver-b", ttl_s=60) == "s/jobs/j1/lease/00000001.json"
    assert latest_lease(store, JOB)[1]["owner"] == "driver-b"


def test_a_lease_being_written_counts_as_held(store):
    store.put_bytes("s/jobs/j1/lease/00000000.json", b"{not json yet")
    assert latest_lease(store, JOB) == (0, None)
    assert try_claim(store, JOB, "driver-b", ttl_s=60) is None


def test_a_lease_of_a_gone_process_on_this_host_is_dead_before_it_expires():
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: no process has its pid now
    lease = json.loads(leases._record("driver-a", ttl_s=3600))
    assert is_live(lease)
    assert not is_live({**lease, "pid": gone.pid})
    assert not is_live({**lease, "expires_at": time.time() - 1})


def test_a_claim_is_held_while_the_block_runs_and_released_after(store):
    with claim(store, JOB, "driver-a", ttl_s=60, finished=lambda: False) as run:
        assert run
        assert is_live(latest_lease(store, JOB)[1])
        assert try_claim(store, JOB, "driver-b", ttl_s=60) is None
    assert not is_live(latest_lease(store, JOB)[1])
    assert try_claim(store, JOB, "driver-b", ttl_s=60) == "s/jobs/j1/lease/00000001.json"


def test_a_claim_yields_false_without_a_lease_once_the_result_exists(store):
    with claim(store, JOB, "driver-a", ttl_s=60, finished=lambda: True) as run:
        assert not run
    assert latest_lease(store, JOB) == (-1, None)


def test_a_waiting_claim_reads_the_holders_result_instead_of_running(store, monkeypatch):
    monkeypatch.setattr(leases, "POLL_S", 0.01)
    assert try_claim(store, JOB, "driver-a", ttl_s=60) is not None
    answers = iter([False, False, True])  # the holder finishes while we wait
    with claim(store, JOB, "driver-b", ttl_s=60, finished=lambda: next(answers)) as run:
        assert not run
    assert latest_lease(store, JOB)[1]["owner"] == "driver-a"


def test_claim_states_tell_live_claims_from_ever_claimed_jobs(store):
    other = SimpleNamespace(sweep="s", id="j2")
    never = SimpleNamespace(sweep="s", id="j3")
    try_claim(store, JOB, "driver-a", ttl_s=60)
    try_claim(store, other, "driver-a", ttl_s=0.01)
    time.sleep(0.05)
    assert claim_states(store, [JOB, other, never]) == ({"j1"}, {"j1", "j2"})


def test_a_held_submission_is_alive_and_its_lease_is_deleted_after(store):
    started = time.time()
    with hold_submission(store, "s", "run-1", ttl_s=60):
        assert store.exists(submission_key("s", "run-1"))
        assert submission_alive(store, "s", "run-1", started, ttl_s=60)
    assert not store.exists(submission_key("s", "run-1"))


def test_a_submission_without_a_lease_is_alive_only_for_one_lease_time(store):
    assert submission_alive(store, "s", "run-1", started_at=time.time(), ttl_s=60)
    assert not submission_alive(store, "s", "run-1", started_at=time.time() - 61, ttl_s=60)
