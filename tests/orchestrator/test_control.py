"""Signals between drivers, jobs and `status`/`cancel`: the cancel flag, the saved plan, SIGTERM."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from orchestrator.errors import StoreError, UserError
from orchestrator.stores.control import (
    cancel_key,
    cancel_requested,
    load_plan,
    on_sigterm,
    set_cancelled,
    stop_on_sigterm,
    stop_signal_received,
)
from orchestrator.stores.store import LocalStore


@pytest.fixture
def store(tmp_path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def test_cancel_is_off_until_set_and_a_new_submission_resets_it(store):
    assert not cancel_requested(store, "s")
    set_cancelled(store, "s", True)
    assert cancel_requested(store, "s") and not cancel_requested(store, "other")
    set_cancelled(store, "s", False)
    assert not cancel_requested(store, "s")


def test_a_cancel_flag_being_rewritten_reads_as_not_cancelled(store):
    store.put_bytes(cancel_key("s"), b'{"cancel')
    assert not cancel_requested(store, "s")


def test_a_sweep_without_a_saved_plan_is_a_user_error_saying_to_submit(store):
    with pytest.raises(UserError, match="sweep 's' has no saved plan .*submit it first"):
        load_plan(store, "s")


def test_an_unreadable_plan_is_a_store_error_saying_to_resubmit(store):
    store.put_bytes("s/plan.json", b"{}")
    with pytest.raises(StoreError, match="(?s)plan.json: unreadable plan .*resubmit the sweep"):
        load_plan(store, "s")


def test_sigterm_while_a_job_runs_sets_the_stop_flag_and_the_old_handler_returns():
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_sigterm():
        assert not stop_signal_received()
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop_signal_received()
    assert signal.getsignal(signal.SIGTERM) == before
    with stop_on_sigterm():  # each job starts with the flag down
        assert not stop_signal_received()


def test_outside_the_main_thread_sigterm_handling_is_left_alone():
    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []

    def in_thread() -> None:
        with on_sigterm(lambda *_: None):
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert seen == [before]
