"""Set-based reads and bulk writes for an import, one path per dialect (RECIPES.md, DuckDB recipe).

DuckDB: the rows become a registered Arrow table and one `INSERT INTO … SELECT`; PostgreSQL: `COPY`.
Both run on the caller's connection, inside the caller's transaction. Looking up what the store
already holds about a batch is one join per table against a temporary table of the batch's keys.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from pyarrow import csv

from toprated.events import digest_of
from toprated.store import schema
from toprated.store.plan import Known

__all__ = ["copy_batches", "fetch_known", "insert_rows", "load_knowledge", "next_seq"]

_KEYS = "_toprated_keys"

#: (namespace of plan.Known.firsts, table, key column) of the entity-defining tables
_ENTITY_TABLES = (
    ("party", schema.freelancers, "freelancer_id"),
    ("party", schema.agencies, "agency_id"),
    ("contract", schema.contracts, "contract_id"),
    ("contract_end", schema.contract_ends, "contract_id"),
    ("dispute", schema.disputes, "dispute_id"),
    ("dispute_resolution", schema.dispute_resolutions, "dispute_id"),
    ("hold", schema.holds, "hold_id"),
    ("hold_lift", schema.hold_lifts, "hold_id"),
)


def _arrow_type(column: sa.Column) -> pa.DataType:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return pa.bool_()
    if isinstance(kind, sa.BigInteger):
        return pa.int64()
    if isinstance(kind, sa.Integer):
        return pa.int32()
    if isinstance(kind, sa.Float):  # before Numeric: Float and Double are Numeric subclasses
        return pa.float64()
    if isinstance(kind, sa.Numeric):
        return pa.decimal128(kind.precision or 18, kind.scale or 0)
    if isinstance(kind, sa.DateTime):
        return pa.timestamp("us")
    if isinstance(kind, sa.Date):
        return pa.date32()
    return pa.string()


def _driver(conn: sa.Connection) -> Any:
    return conn.connection.driver_connection


def _arrow(table: sa.Table, rows: list[tuple[Any, ...]]) -> pa.Table:
    columns = zip(*rows, strict=True)  # transposed in C: much faster than a list per column in Python
    typed = zip(table.columns, columns, strict=True)
    return pa.table({c.name: pa.array(values, _arrow_type(c)) for c, values in typed})


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Append `rows` (dicts with a value for every column of `table`) to `table` in bulk."""
    if not rows:
        return
    columns = [c.name for c in table.columns]
    names = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name not in ("duckdb", "postgresql"):  # not a supported store, but correct anywhere
        conn.execute(table.insert(), list(rows))
        return
    data = _arrow(table, list(map(itemgetter(*columns), rows)))
    if conn.dialect.name == "duckdb":
        view = f"_toprated_bulk_{table.name}"
        duck = _driver(conn)
        duck.register(view, data)
        try:
            conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {view}')
        finally:
            duck.unregister(view)
    else:
        _copy(conn, f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT csv)', data)


def _copy(conn: sa.Connection, sql: str, data: pa.Table) -> None:
    """PostgreSQL COPY of an Arrow table, written as CSV by Arrow (C++): faster than row by row.

    Arrow's CSV leaves NULL unquoted and empty, and quotes every string, so '' stays ''.
    """
    buffer = io.BytesIO()
    csv.write_csv(data, buffer, csv.WriteOptions(include_header=False, quoting_style="needed"))
    with buffer.getbuffer() as view, _driver(conn).cursor() as cur, cur.copy(sql) as copy:
        for start in range(0, len(view), 1 << 20):
            copy.write(view[start : start + (1 << 20)])


def _load_keys(conn: sa.Connection, keys: Iterable[str]) -> None:
    keys = sorted(set(keys))
    if conn.dialect.name == "duckdb":
        _driver(conn).register(_KEYS, pa.table({"k": pa.array(keys, pa.string())}))
        return
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {_KEYS} (k TEXT PRIMARY KEY) ON COMMIT DROP")
    if conn.dialect.name == "postgresql":
        _copy(conn, f"COPY {_KEYS} (k) FROM STDIN (FORMAT csv)", pa.table({"k": pa.array(keys, pa.string())}))
        conn.exec_driver_sql(f"ANALYZE {_KEYS}")
    else:
        conn.execute(sa.text(f"INSERT INTO {_KEYS} (k) VALUES (:k)"), [{"k": k} for k in keys])


def _drop_keys(conn: sa.Connection) -> None:
    if conn.dialect.name == "duckdb":
        _driver(conn).unregister(_KEYS)
    else:
        conn.exec_driver_sql(f"DROP TABLE {_KEYS}")


def _pairs(conn: sa.Connection, sql: str) -> dict[str, str]:
    return {a: b for a, b in conn.exec_driver_sql(sql).all()}


def fetch_known(conn: sa.Connection, keys: Iterable[str]) -> Known:
    """What the store holds about `keys` (event ids and entity ids of a batch), in one join per table."""
    known = Known()
    if not conn.execute(sa.select(schema.events.c.id).limit(1)).all():  # .all(): DuckDB wants results drained
        return known  # an empty store knows nothing: skip the look-ups
    _load_keys(conn, keys)
    try:
        join = f"JOIN {_KEYS} k ON t.{{key}} = k.k"
        sql = f"SELECT t.id, t.type, t.time, t.data FROM events t {join.format(key='id')}"
        known.digests.update((i, digest_of(*rest)) for i, *rest in conn.exec_driver_sql(sql).all())
        for namespace, table, key in _ENTITY_TABLES:
            sql = f'SELECT t."{key}", t.event_id FROM "{table.name}" t {join.format(key=key)}'
            found = _pairs(conn, sql)
            known.firsts[namespace].update(found)
            if table is schema.freelancers:
                known.freelancers.update(found)
            elif table is schema.agencies:
                known.agencies.update(found)
    finally:
        _drop_keys(conn)
    return known


def next_seq(conn: sa.Connection) -> int:
    """The arrival number of the next event: for audit (DESIGN.md), and for telling which events
    arrived after a kept ledger was made (`toprated.runs.carry`)."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(schema.events.c.seq), 0))).scalar_one()) + 1


def copy_batches(conn: sa.Connection, table: sa.Table, batches: Iterable[pa.RecordBatch]) -> None:
    """PostgreSQL: one COPY of Arrow record batches (columns in the order of `table`'s) into `table`."""
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    sql = f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT csv)'
    options = csv.WriteOptions(include_header=False, quoting_style="needed")
    with _driver(conn).cursor() as cur, cur.copy(sql) as copy:
        for batch in batches:
            if batch.num_rows:
                buffer = io.BytesIO()
                csv.write_csv(batch, buffer, options)
                copy.write(buffer.getbuffer())


#: What `load_knowledge` copies of a stored event (its content: see `toprated.events.digest_of`).
_EVENT_PARTS = {"id": pa.string(), "type": pa.string(), "time": pa.timestamp("us"), "data": pa.string()}


def load_knowledge(
    conn: sa.Connection, duck: Any, prefix: str, relations: Mapping[str, tuple[str, str]], keys: pa.Table
) -> None:
    """What a PostgreSQL store holds about `keys` (column `k`), as DuckDB temp tables of `duck`.

    `{prefix}k_events` (id, type, time, data: what a stored event says) and, for each `relations`
    name -> (table, key column), a table `{prefix}name` (key, event_id): the same look-ups as
    `fetch_known`, kept as tables.
    """
    found: dict[str, list[Any]] = {"k_events": []} | {rel: [] for rel in relations}
    if conn.execute(sa.select(schema.events.c.id).limit(1)).all():
        unique = pa.table({"k": pc.unique(keys.column("k").combine_chunks()).cast(pa.string())})
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {_KEYS} (k TEXT PRIMARY KEY) ON COMMIT DROP")
        _copy(conn, f"COPY {_KEYS} (k) FROM STDIN (FORMAT csv)", unique)
        conn.exec_driver_sql(f"ANALYZE {_KEYS}")
        try:
            found["k_events"] = conn.exec_driver_sql(
                f"SELECT t.id, t.type, t.time, t.data FROM events t JOIN {_KEYS} k ON t.id = k.k"
            ).all()
            for rel, (name, key) in relations.items():
                sql = f'SELECT t."{key}", t.event_id FROM "{name}" t JOIN {_KEYS} k ON t."{key}" = k.k'
                found[rel] = conn.exec_driver_sql(sql).all()
        finally:
            conn.exec_driver_sql(f"DROP TABLE {_KEYS}")
    for rel, rows in found.items():
        types = _EVENT_PARTS if rel == "k_events" else {"key": pa.string(), "event_id": pa.string()}
        data = pa.table({name: pa.array([r[i] for r in rows], t) for i, (name, t) in enumerate(types.items())})
        view = f"{prefix}{rel}_arrow"
        duck.register(view, data)
        try:
            duck.execute(f"CREATE TEMP TABLE {prefix}{rel} AS SELECT * FROM {view}")
        finally:
            duck.unregister(view)
