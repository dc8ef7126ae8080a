"""Parquet result tables: folders any reader takes as they are, damage named by file."""

from __future__ import annotations

import hashlib

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from analysis.schema import MaskLayerRow, RunRow, to_arrow
from orchestrator.errors import StoreError
from orchestrator.stores.results import read_part, read_table, write_rows
from orchestrator.stores.store import LocalStore


def run_row(job_id: str, seed: int = 1) -> RunRow:
    return RunRow(
        sweep="sw",
        job_id=job_id,
        kind="train",
        experiment="e",
        setting="{}",
        seed=seed,
        status="done",
        config_json="{}",
    )


def mask_layer_row() -> MaskLayerRow:
    return MaskLayerRow(
        sweep="sw",
        experiment="e",
        setting="{}",
        seed=1,
        train_job_id="t",
        mask_job_id="m",
        target_function="add",
        target_index=1,
        layer="0.weight",
        layer_index=0,
        kept=3,
        total=8,
    )


@pytest.fixture
def store(tmp_path) -> LocalStore:
    store = LocalStore(tmp_path / "artifacts")
    write_rows(store, "sw", "runs", "a", [run_row("a", 1)])
    write_rows(store, "sw", "runs", "b", [run_row("b", 2)])
    write_rows(store, "sw", "runs", "c", [])  # a job with no rows still leaves its part
    return store


def runs_folder(store: LocalStore):
    return store.path / "sw" / "results" / "runs"


def test_a_table_folder_holds_only_parts_and_pandas_and_pyarrow_read_it(store):
    folder = runs_folder(store)
    assert sorted(p.name for p in folder.iterdir()) == ["a.parquet", "b.parquet", "c.parquet"]
    assert sorted(pd.read_parquet(folder)["seed"]) == [1, 2]
    assert ds.dataset(folder).to_table().num_rows == 2


def test_duckdb_reads_a_table_folder_by_glob(store):
    duckdb = pytest.importorskip("duckdb")  # in the `test` extra
    query = f"select sum(seed) from read_parquet('{runs_folder(store)}/*')"
    assert duckdb.connect().execute(query).fetchone() == (3,)


def test_a_corrupt_part_is_named_with_what_to_do(store):
    part = runs_folder(store) / "a.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 4] ^= 0x01  # inside the column data, before the footer
    part.write_bytes(bytes(data))
    with pytest.raises(StoreError) as error:
        read_table(store, "sw", "runs")
    message = str(error.value)
    assert str(part) in message and "checksum mismatch" in message
    assert "delete it and submit the sweep again" in message and "\n" not in message


def test_every_damaged_byte_is_named_or_harmless(store):
    part = runs_folder(store) / "a.parquet"
    original, rows = part.read_bytes(), read_part(store, "sw", "runs", "a")
    for position in range(0, len(original), 5):  # every fifth byte: data, footer and tail
        data = bytearray(original)
        data[position] ^= 0x01
        part.write_bytes(bytes(data))
        try:
            # a flip in the checksum's key leaves the rows intact: read, and rewritten
            assert read_part(store, "sw", "runs", "a") == rows, position
        except StoreError as error:
            assert str(part) in str(error), position


def test_a_truncated_part_is_named(store):
    part = runs_folder(store) / "b.parquet"
    part.write_bytes(part.read_bytes()[:-20])
    with pytest.raises(StoreError, match=r"b\.parquet: unreadable Parquet part"):
        read_part(store, "sw", "runs", "b")


def test_a_part_of_another_table_is_an_error_not_null_rows(store):
    write_rows(store, "sw", "mask_layers", "m", [mask_layer_row()])
    foreign = runs_folder(store) / "m.parquet"
    foreign.write_bytes((store.path / "sw/results/mask_layers/m.parquet").read_bytes())
    with pytest.raises(StoreError) as error:
        read_table(store, "sw", "runs")
    assert str(foreign) in str(error.value)
    assert "not a part of table 'runs' (it has columns train_job_id" in str(error.value)


def test_a_column_of_the_wrong_type_is_an_error_naming_it(store):
    table = to_arrow("runs", [run_row("d")])
    table = table.set_column(table.schema.get_field_index("seed"), "seed", [["one"]])
    pq.write_table(table, runs_folder(store) / "d.parquet")
    with pytest.raises(StoreError, match=r"d\.parquet: column 'seed' is string, table 'runs' has"):
        read_table(store, "sw", "runs")


def test_a_missing_required_column_is_an_error_naming_it(store):
    pq.write_table(
        to_arrow("runs", [run_row("d")]).drop(["status"]), runs_folder(store) / "d.parquet"
    )
    with pytest.raises(StoreError, match=r"d\.parquet: no column 'status' of table 'runs'"):
        read_table(store, "sw", "runs")


def test_a_part_from_before_a_column_was_added_reads_it_as_its_default(store):
    row = mask_layer_row()
    older = to_arrow("mask_layers", [row]).drop(["job_id"])  # written before job_id existed
    folder = store.path / "sw" / "results" / "mask_layers"
    folder.mkdir(parents=True)
    pq.write_table(older, folder / "fit1.parquet")
    (read,) = read_part(store, "sw", "mask_layers", "fit1")
    assert read == {**row.model_dump(), "job_id": "fit1"}


def legacy_part(store: LocalStore, job_id: str, seed: int) -> tuple:
    """A part as written before checksums moved into the footer: a `.sha256` file beside it."""
    part = runs_folder(store) / f"{job_id}.parquet"
    pq.write_table(to_arrow("runs", [run_row(job_id, seed)]), part)
    checksum = part.with_name(part.name + ".sha256")
    checksum.write_text(hashlib.sha256(part.read_bytes()).hexdigest())
    return part, checksum


def test_an_old_folder_with_checksum_files_is_verified_then_readable_by_every_tool(store):
    part, checksum = legacy_part(store, "old", 7)
    gone, orphan = legacy_part(store, "gone", 9)
    gone.unlink()  # deleted by hand, as older versions' errors said to
    with pytest.raises(pa.ArrowInvalid):
        pd.read_parquet(runs_folder(store))  # the checksum files break other readers
    assert sorted(read_table(store, "sw", "runs")["seed"].to_pylist()) == [1, 2, 7]
    assert not checksum.exists() and not orphan.exists()  # moved into the footer; dropped
    assert sorted(pd.read_parquet(runs_folder(store))["seed"]) == [1, 2, 7]
    data = bytearray(part.read_bytes())
    data[len(data) // 4] ^= 0x01
    part.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="checksum mismatch"):  # still verified
        read_table(store, "sw", "runs")


def test_an_old_part_that_no_longer_matches_its_checksum_file_is_named(store):
    part, _ = legacy_part(store, "old", 7)
    part.write_bytes(part.read_bytes()[:-1] + b"X")
    with pytest.raises(StoreError, match=r"old\.parquet: checksum mismatch"):
        read_table(store, "sw", "runs")


def test_rewriting_an_old_part_drops_its_checksum_file(store):
    part, checksum = legacy_part(store, "old", 7)
    write_rows(store, "sw", "runs", "old", [run_row("old", 8)])
    assert not checksum.exists()
    assert read_part(store, "sw", "runs", "old")[0]["seed"] == 8
