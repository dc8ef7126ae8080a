"""S3Store against a real S3-compatible HTTP server (moto) on loopback."""

from __future__ import annotations

import hashlib
import socket
import time
import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto.server import ThreadedMotoServer

from analysis.schema import RunRow
from orchestrator.errors import StoreError
from orchestrator.stores.results import read_table, write_rows
from orchestrator.stores.s3store import S3Store
from orchestrator.stores.store import open_store


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def use_endpoint(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket per test on the shared server, so tests never see each other's keys."""
    use_endpoint(monkeypatch, s3_endpoint)
    name = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def test_round_trip_records_sha256(bucket: str) -> None:
    store = S3Store(bucket, "sweeps")
    store.put_bytes("smoke/jobs/j1/model.safetensors", b"\x00weights\xff")
    assert store.get_bytes("smoke/jobs/j1/model.safetensors") == b"\x00weights\xff"
    assert store.exists("smoke/jobs/j1/model.safetensors")
    assert not store.exists("smoke/jobs/j2/model.safetensors")
    assert store.root == f"s3://{bucket}/sweeps"
    assert store.uri("a/b") == f"s3://{bucket}/sweeps/a/b"
    head = boto3.client("s3").head_object(
        Bucket=bucket, Key="sweeps/smoke/jobs/j1/model.safetensors"
    )
    assert head["Metadata"]["sha256"] == hashlib.sha256(b"\x00weights\xff").hexdigest()
    store.put_bytes("smoke/jobs/j1/model.safetensors", b"v2")  # an overwrite replaces it
    assert store.get_bytes("smoke/jobs/j1/model.safetensors") == b"v2"


def test_missing_object_is_a_store_error_naming_it(bucket: str) -> None:
    store = S3Store(bucket)
    with pytest.raises(StoreError, match=f"s3://{bucket}/nothing/here: not found"):
        store.get_bytes("nothing/here")


def test_list_is_by_folder_and_relative_to_the_root(bucket: str) -> None:
    store = S3Store(bucket, "root")
    for key in ("s/results/runs/b.parquet", "s/results/runs/a.parquet", "s/results/runsx/c"):
        store.put_bytes(key, b"x")
    boto3.client("s3").put_object(Bucket=bucket, Key="elsewhere/s/results/runs/z", Body=b"x")
    assert store.list("s/results/runs") == ["s/results/runs/a.parquet", "s/results/runs/b.parquet"]
    assert store.list("s/results/runs/") == store.list("s/results/runs")
    assert store.list("s/results/none") == []
    assert S3Store(bucket).list("root/s/results/runsx") == ["root/s/results/runsx/c"]


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "/absolute", "a\\b", ""])
def test_keys_cannot_escape_the_root(bucket: str, key: str) -> None:
    store = S3Store(bucket, "root")
    for operation in (lambda: store.put_bytes(key, b"x"), lambda: store.get_bytes(key)):
        with pytest.raises(StoreError, match="relative path inside the store root"):
            operation()
    assert boto3.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_object_replaced_behind_the_stores_back_is_reported(bucket: str) -> None:
    store = S3Store(bucket, "root")
    store.put_bytes("sweep/jobs/j/mask.safetensors", b"the mask")
    client = boto3.client("s3")
    old = client.head_object(Bucket=bucket, Key="root/sweep/jobs/j/mask.safetensors")["Metadata"]
    client.put_object(
        Bucket=bucket, Key="root/sweep/jobs/j/mask.safetensors", Body=b"the masX", Metadata=old
    )
    with pytest.raises(StoreError, match=f"s3://{bucket}/root/sweep/jobs/j/mask.safetensors"):
        store.get_bytes("sweep/jobs/j/mask.safetensors")


def test_transient_failures_are_retried(bucket: str) -> None:
    store = S3Store(bucket, attempts=3, backoff_s=0.01)
    real_put = store.client.put_object
    calls = []

    def flaky_put(**kwargs):
        calls.append(kwargs["Key"])
        if len(calls) < 3:
            raise EndpointConnectionError(endpoint_url=store.endpoint)
        return real_put(**kwargs)

    store.client.put_object = flaky_put
    store.put_bytes("k", b"data")
    assert len(calls) == 3
    assert store.get_bytes("k") == b"data"


def test_unreachable_endpoint_fails_after_bounded_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    use_endpoint(monkeypatch, f"http://127.0.0.1:{port}")
    store = S3Store("bucket", "root", attempts=3, backoff_s=0.05, connect_timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(StoreError) as raised:
        store.put_bytes("sweep/jobs/j/model.safetensors", b"computed")
    assert time.monotonic() - started < 30
    message = str(raised.value)
    assert f"http://127.0.0.1:{port}" in message
    assert "s3://bucket/root/sweep/jobs/j/model.safetensors" in message
    assert "3 attempts" in message
    assert "nothing was lost" in message


def test_parquet_tables_round_trip_through_s3(bucket: str) -> None:
    store = open_store(f"s3://{bucket}/artifacts")
    assert isinstance(store, S3Store)
    rows = [
        RunRow(
            sweep="smoke",
            job_id=f"job{i}",
            kind="train",
            experiment="addmul_ff",
            setting="{}",
            seed=i,
            status="done",
            config_json="{}",
            duration_s=1.5 * i,
        )
        for i in range(3)
    ]
    write_rows(store, "smoke", "runs", "job0", rows[:1])
    write_rows(store, "smoke", "runs", "job12", rows[1:])
    table = read_table(store, "smoke", "runs")
    assert sorted(table.column("job_id").to_pylist()) == ["job0", "job1", "job2"]
    assert sorted(table.column("duration_s").to_pylist()) == [0.0, 1.5, 3.0]
    assert read_table(store, "other", "runs").num_rows == 0


def test_create_if_absent_lets_exactly_one_writer_win(bucket: str) -> None:
    store = S3Store(bucket, "sweeps")
    assert store.create_if_absent("s/jobs/j1/lease/0.json", b"first")
    assert not store.create_if_absent("s/jobs/j1/lease/0.json", b"second")
    assert store.get_bytes("s/jobs/j1/lease/0.json") == b"first"
