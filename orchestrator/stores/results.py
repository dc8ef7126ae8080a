"""Parquet result tables in the artifact store: one part file per job and table.

A job writes its rows as `<sweep>/results/<table>/<job_id>.parquet`; rewriting a job
replaces its part, so a table never holds two copies of one job's rows. Reading a table
concatenates its parts.

A table's folder holds its parts and nothing else, so any Parquet reader takes the folder
as it is (`pandas.read_parquet(folder)`, `pyarrow.dataset.dataset(folder)`, DuckDB's
`read_parquet('folder/*')`). Each part carries its own checksum in its footer's key-value
metadata (`CHECKSUM_KEY`: the SHA-256 of the file, hashed with `UNSET` in the checksum's
place). Reading verifies it and the part's columns, so a corrupt, truncated or foreign
part is named in one line instead of read as wrong or all-null rows.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from analysis.schema import TABLES, arrow_schema, to_arrow
from orchestrator.errors import StoreError
from orchestrator.stores.keys import part_key, table_prefix
from orchestrator.stores.store import ArtifactStore, sha256

CHECKSUM_KEY = b"orchestrator.sha256"
UNSET = b"0" * 64  # the checksum's place while the file is hashed
REWRITE = "delete it and submit the sweep again: its job runs again and rewrites it"


def write_rows(
    store: ArtifactStore, sweep: str, table: str, part: str, rows: Sequence[BaseModel]
) -> None:
    store.put_bytes(part_key(sweep, table, part), part_bytes(to_arrow(table, rows, job_id=part)))


def part_bytes(table: pa.Table) -> bytes:
    """`table` as a Parquet file whose footer holds the SHA-256 of the whole file (taken
    with `UNSET` where the checksum goes)."""
    buffer = io.BytesIO()
    with pq.ParquetWriter(buffer, table.schema) as writer:
        writer.write_table(table)
        writer.add_key_value_metadata({CHECKSUM_KEY: UNSET})
    data = buffer.getvalue()
    at = data.rindex(UNSET)  # in the footer, which ends the file
    return data[:at] + sha256(data).encode() + data[at + len(UNSET) :]


def read_table(store: ArtifactStore, sweep: str, table: str) -> pa.Table:
    parts = [
        read_part_file(store, key, table)
        for key in store.list(table_prefix(sweep, table))
        if key.endswith(".parquet")
    ]
    return pa.concat_tables(parts) if parts else arrow_schema(TABLES[table]).empty_table()


def read_part(store: ArtifactStore, sweep: str, table: str, part: str) -> list[dict]:
    """One job's rows of a table ([] if it has written none)."""
    key = part_key(sweep, table, part)
    if not store.exists(key):
        return []
    return read_part_file(store, key, table).to_pylist()


def read_part_file(store: ArtifactStore, key: str, table: str) -> pa.Table:
    """The part at `key`, verified and in `table`'s schema; StoreError naming it if not.

    A part written before checksums moved into the footer (a `.sha256` file beside it,
    which the store verifies) is rewritten with one, so its folder becomes readable by
    other tools too.
    """
    where = store.uri(key)
    data = store.get_bytes(key)
    try:
        checksum = (pq.read_metadata(pa.BufferReader(data)).metadata or {}).get(CHECKSUM_KEY)
        if checksum is not None and not _matches(data, checksum):
            raise StoreError(f"{where}: checksum mismatch (corrupt Parquet part); {REWRITE}")
        part = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError, ValueError) as error:  # as a damaged footer may fail
        raise StoreError(f"{where}: unreadable Parquet part ({error}); {REWRITE}") from None
    part = conform(part, table, where, job_id=key.rsplit("/", 1)[-1].removesuffix(".parquet"))
    if checksum is None:
        with contextlib.suppress(StoreError, OSError):  # a read-only store still reads
            store.put_bytes(key, part_bytes(part))
    return part


def _matches(data: bytes, checksum: bytes) -> bool:
    at = data.rindex(checksum)
    return sha256(data[:at] + UNSET + data[at + len(checksum) :]).encode() == checksum


def conform(part: pa.Table, table: str, where: str, job_id: str) -> pa.Table:
    """`part` in `table`'s schema. A column `table` lacks or of another type is an error. A
    missing column that the schema gained later reads as its default; `job_id` as the id of
    the job that wrote the part (its name)."""
    row_model, expected = TABLES[table], arrow_schema(TABLES[table])
    foreign = [name for name in part.column_names if name not in expected.names]
    if foreign:
        named = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise StoreError(
            f"{where}: not a part of table {table!r} (it has columns {named}); {REWRITE}"
        )
    for field in expected:
        if field.name in part.column_names:
            if (found := part.schema.field(field.name).type) != field.type:
                raise StoreError(
                    f"{where}: column {field.name!r} is {found}, table {table!r} has "
                    f"{field.type}; {REWRITE}"
                )
            continue
        declared = row_model.model_fields[field.name]
        if declared.is_required() and field.name != "job_id":
            raise StoreError(f"{where}: no column {field.name!r} of table {table!r}; {REWRITE}")
        value = job_id if field.name == "job_id" else declared.default
        part = part.append_column(field, pa.array([value] * len(part), field.type))
    return part.select(expected.names).cast(expected)
