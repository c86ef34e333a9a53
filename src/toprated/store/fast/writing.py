"""Writing of the fast import, and its entry point `import_files`: stage, plan, write in one transaction.

Writing is in one transaction with the planning (DuckDB: on the store's own connection, so the
rows go from the staging table to the raw log and the typed tables by `INSERT … SELECT`;
PostgreSQL: staging in a private DuckDB, then `COPY`). `seq` follows arrival order over all accepted
events, exactly as the per-event path numbers them; K's accepted events are written by the per-event
writer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from toprated.events import content_digest
from toprated.store import lookups
from toprated.store.bulk import copy_batches, load_knowledge, next_seq
from toprated.store.core import (
    PG_IMPORT_LOCK,
    ImportReport,
    Rejection,
    Store,
    duckdb_config,
    validate_pairs,
    write_items,
)
from toprated.store.fast.memory import ImportMemory, import_memory
from toprated.store.fast.planning import KNOWLEDGE, _event_of, _known, _Planner
from toprated.store.fast.spec import _KEY_FIELDS, _q
from toprated.store.fast.staging import _PFX, _STAGE, _stage, _Staged
from toprated.store.plan import Item, plan_import

#: What the last `import_files` did: records read, staged as ok, read per event (slow), ok but
#: decided by plan.py (exact), decided here (simple); on DuckDB, the milliseconds its lookup indexes
#: took to build. For tests and benchmarks.
LAST_STATS: dict[str, int] = {}


def import_files(store: Store, paths: Sequence[str | Path], progress: Callable[[int], None] | None) -> ImportReport:
    """Import the event files `paths` into `store` in one transaction (see the package docstring)."""
    if store.dialect == "duckdb":
        with store.engine.connect() as conn:
            duck = conn.connection.driver_connection
            planner = _Planner(duck, f"temp.{_PFX}_")
            with import_memory(duck, store.memory_limit) as memory:
                return _import_into_duckdb(conn, duck, planner, store, paths, progress, memory)
    duck = duckdb.connect(config=duckdb_config())  # staging's own, with the import's limit below
    try:
        planner = _Planner(duck, f"temp.{_PFX}_")
        with import_memory(duck, None):
            staged = _stage(duck, paths, progress)
            items, rejected = validate_pairs(staged.slow)
            with store.engine.begin() as conn:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_IMPORT_LOCK})
                load_knowledge(conn, duck, f"{_PFX}_", KNOWLEDGE, _batch_keys(duck, items))
                return _plan_and_write(store, conn, planner, staged, items, rejected)
    finally:
        duck.close()


def _import_into_duckdb(
    conn: sa.Connection,
    duck: Any,
    planner: _Planner,
    store: Store,
    paths: Sequence[str | Path],
    progress: Callable[[int], None] | None,
    memory: ImportMemory,
) -> ImportReport:
    """The DuckDB store's import, on its own connection `duck` (see the module docstring)."""
    try:
        staged = _stage(duck, paths, progress)
        items, rejected = validate_pairs(staged.slow)
        _knowledge_views(duck)
        if staged.records >= lookups.LARGE_LOAD:
            lookups.drop(duck)
        with conn.begin():
            report = _plan_and_write(store, conn, planner, staged, items, rejected)
        memory.committed()
    finally:
        planner.drop()
        started = time.perf_counter()
        lookups.build(duck)  # after a large load, or one that died after dropping them
        LAST_STATS["lookup_ms"] = round((time.perf_counter() - started) * 1000)
    return report


def _knowledge_views(duck: Any) -> None:
    duck.execute(f"CREATE TEMP VIEW {_PFX}_k_events AS SELECT id, type, time, data FROM main.events")
    for rel, (table, key) in KNOWLEDGE.items():
        duck.execute(f"CREATE TEMP VIEW {_PFX}_{rel} AS SELECT {_q(key)} AS key, event_id FROM main.{_q(table)}")


def _batch_keys(duck: Any, items: list[Item]) -> pa.Table:
    """Every id and entity key of the batch (staged ok rows and the slow valid items), for PostgreSQL."""
    cols = ", ".join(_q(f) for f in _KEY_FIELDS)
    staged = duck.sql(
        f"SELECT DISTINCT k FROM (SELECT unnest([id, {cols}]) AS k FROM {_STAGE} WHERE ok) WHERE k IS NOT NULL"
    ).to_arrow_table()
    extra = {it.event.id for it in items}
    for it in items:
        extra.update(v for f in _KEY_FIELDS if (v := getattr(it.event.data, f, None)) is not None)
    extra_table = pa.table({"k": pa.array(sorted(extra), pa.string())})
    return pa.concat_tables([staged.cast(extra_table.schema), extra_table])


def _plan_and_write(
    store: Store,
    conn: sa.Connection,
    planner: _Planner,
    staged: _Staged,
    slow_items: list[Item],
    rejected: list[tuple[int, Rejection]],
) -> ImportReport:
    report = ImportReport()
    stored_positions, report.duplicates, conflicts = planner.store_duplicates()
    for pos, line, event_id in conflicts:
        reason = "conflict: an event with this id and different content is already stored"
        rejected.append((pos, Rejection(staged.file_of(pos), line, event_id, reason)))
    moved = planner.split(slow_items)
    items = slow_items + [_item_of(staged, row) for row in moved]
    items.sort(key=lambda it: it.pos)
    accepted: list[Item] = []
    if items:
        plan = plan_import(items, _known(planner.known_for(items)))
        accepted = plan.accepted
        report.duplicates += plan.duplicates
        rejected += [(it.pos, Rejection(it.file, it.line, it.event.id, why)) for it, why in plan.rejected]
    # seq: arrival order over everything accepted, as the per-event path numbers it
    taken = np.array([it.pos for it in accepted], dtype=np.int64)
    slow_positions = np.array([pos for pos, _ in staged.slow] + [row[0] for row in moved], dtype=np.int64)
    nonaccepted = np.setdiff1d(np.concatenate([slow_positions, stored_positions]), taken)  # sorted
    base = next_seq(conn)
    now = datetime.now(UTC).replace(tzinfo=None)
    simple = planner.simple_count()
    if simple:
        join = planner.shift(nonaccepted)
        for table, select in planner.selects(base, now, join):
            _write_select(store, conn, planner.duck, table, select)
    if accepted:
        seqs = base + taken - np.searchsorted(nonaccepted, taken)
        write_items(conn, accepted, [int(s) for s in seqs], now)
    report.accepted = simple + len(accepted)
    (staged_ok,) = planner.sql(f"SELECT count(*) FROM {_STAGE} WHERE ok")[0]
    LAST_STATS.clear()
    LAST_STATS.update(records=staged.records, ok=int(staged_ok), slow=len(staged.slow), exact=len(moved), simple=simple)
    rejected.sort(key=lambda pair: pair[0])
    report.rejected = [r for _, r in rejected]
    return report


def _item_of(staged: _Staged, row: tuple[Any, ...]) -> Item:
    event = _event_of(row)
    return Item(row[0], staged.file_of(row[0]), row[1], event, content_digest(event))


def _write_select(store: Store, conn: sa.Connection, duck: Any, table: sa.Table, select: str) -> None:
    names = ", ".join(_q(c.name) for c in table.columns)
    if store.dialect == "duckdb":
        duck.execute(f"INSERT INTO main.{_q(table.name)} ({names}) {select}")
        return
    copy_batches(conn, table, duck.sql(select).to_arrow_reader(500_000))
