"""Parquet result tables in the artifact store: one part file per job and table.

A job writes its rows as `<sweep>/results/<table>/<job_id>.parquet`; rewriting a job
replaces its part, so a table never holds two copies of one job's rows. Reading a table
concatenates its parts.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from analysis.schema import TABLES, arrow_schema, to_arrow
from orchestrator.errors import StoreError
from orchestrator.store import ArtifactStore


def table_prefix(sweep: str, table: str) -> str:
    return f"{sweep}/results/{table}"


def write_rows(
    store: ArtifactStore, sweep: str, table: str, part: str, rows: list[BaseModel]
) -> None:
    buffer = io.BytesIO()
    pq.write_table(to_arrow(table, rows, job_id=part), buffer)
    store.put_bytes(f"{table_prefix(sweep, table)}/{part}.parquet", buffer.getvalue())


def read_table(store: ArtifactStore, sweep: str, table: str) -> pa.Table:
    schema = arrow_schema(TABLES[table])
    parts = []
    for key in store.list(table_prefix(sweep, table)):
        if not key.endswith(".parquet"):
            continue
        try:
            parts.append(pq.read_table(io.BytesIO(store.get_bytes(key)), schema=schema))
        except pa.ArrowException as error:
            raise StoreError(
                f"{store.uri(key)}: unreadable Parquet part ({error}); delete it and resubmit"
            ) from None
    return pa.concat_tables(parts) if parts else schema.empty_table()


def read_part(store: ArtifactStore, sweep: str, table: str, part: str) -> list[dict]:
    """One job's rows of a table ([] if it has written none)."""
    key = f"{table_prefix(sweep, table)}/{part}.parquet"
    if not store.exists(key):
        return []
    schema = arrow_schema(TABLES[table])
    return pq.read_table(io.BytesIO(store.get_bytes(key)), schema=schema).to_pylist()
