"""The local artifact store: atomic, checksummed objects under a root they cannot leave."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from orchestrator.errors import StoreError
from orchestrator.stores.store import LocalStore, check_key, open_store, sha256


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "root")


def test_an_object_round_trips_with_its_sha256_beside_it(store):
    store.put_bytes("s/jobs/j1/mask.safetensors", b"weights")
    assert store.get_bytes("s/jobs/j1/mask.safetensors") == b"weights"
    checksum = store.path / "s/jobs/j1/mask.safetensors.sha256"
    assert checksum.read_text() == sha256(b"weights")
    assert store.exists("s/jobs/j1/mask.safetensors") and not store.exists("s/jobs/j1/other")


def test_a_file_changed_behind_the_stores_back_is_refused_by_name(store):
    store.put_bytes("s/model.safetensors", b"weights")
    (store.path / "s/model.safetensors").write_bytes(b"weigh")  # truncated
    with pytest.raises(StoreError, match="model.safetensors: checksum mismatch"):
        store.get_bytes("s/model.safetensors")


def test_a_missing_object_is_a_store_error_naming_it(store):
    with pytest.raises(StoreError, match="nothing.json: not found"):
        store.get_bytes("s/nothing.json")


def test_parquet_parts_carry_no_checksum_file(store):
    store.put_bytes("s/results/evaluations/j1.parquet", b"PAR1")
    assert not (store.path / "s/results/evaluations/j1.parquet.sha256").exists()
    assert store.list("s/results") == ["s/results/evaluations/j1.parquet"]


def test_list_gives_keys_under_a_prefix_without_checksums_or_temporary_files(store):
    for key in ("s/jobs/a/x", "s/jobs/b/y", "t/z"):
        store.put_bytes(key, b"1")
    (store.path / "s/jobs/.tmp-half-written").write_bytes(b"")
    assert store.list("s/jobs") == ["s/jobs/a/x", "s/jobs/b/y"]
    assert store.list("nowhere") == []


def test_delete_removes_the_object_and_its_checksum(store):
    store.put_bytes("s/a", b"1")
    store.delete("s/a")
    store.delete("s/a")  # deleting what is gone is no error
    assert not store.exists("s/a") and list(store.path.rglob("*.sha256")) == []


def test_create_if_absent_lets_exactly_one_of_racing_writers_win(store):
    wins: list[bytes] = []
    barrier = threading.Barrier(8)

    def write(data: bytes) -> None:
        barrier.wait()
        if store.create_if_absent("s/lease/0.json", data):
            wins.append(data)

    threads = [threading.Thread(target=write, args=(bytes([n]),)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    assert (store.path / "s/lease/0.json").read_bytes() == wins[0]
    assert not any(path.name.startswith(".tmp-") for path in store.path.rglob("*"))


@pytest.mark.parametrize("key", ["../outside", "/etc/passwd", "a/../../b", "a\\..\\b", ""])
def test_artifact_keys_cannot_escape_the_store_root(tmp_path, key):
    store = LocalStore(tmp_path / "root")
    with pytest.raises(StoreError, match="relative path inside the store root"):
        check_key(key)
    with pytest.raises(StoreError):
        store.put_bytes(key, b"x")
    assert not (tmp_path / "outside").exists()


def test_open_store_picks_the_store_by_scheme_and_refuses_others(tmp_path):
    local = open_store(tmp_path.as_uri())
    assert isinstance(local, LocalStore) and local.path == tmp_path
    assert local.uri("s/a") == (tmp_path / "s/a").as_uri()
    with pytest.raises(StoreError, match="unsupported scheme"):
        open_store("ftp://host/root")
