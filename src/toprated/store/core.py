"""The store: DuckDB (embedded default) or PostgreSQL behind one interface (DESIGN.md, `store/`).

`open_store(url)` connects, takes DuckDB's single-writer lock, runs the migrations and returns a
`Store`. `Store.import_records` validates a whole batch first, then writes the accepted events to
the raw log and to the typed tables in one transaction (spec/events.md; RECIPES.md: DuckDB has no
savepoints, so nothing is written before everything is checked). The data is append-only.
"""

from __future__ import annotations

import gc
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import duckdb
import sqlalchemy as sa
from duckdb_engine import ConnectionWrapper

from toprated.errors import UserError
from toprated.events import EventError, Record, content_digest, validate
from toprated.store import schema
from toprated.store.bulk import fetch_known, insert_rows, next_seq
from toprated.store.migrate import migrate
from toprated.store.plan import KEYS_OF, Item, plan_import
from toprated.store.rows import raw_row, typed_row
from toprated.store.url import redact, resolve_url

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["PG_IMPORT_LOCK", "ImportReport", "Rejection", "Store", "open_store", "validate_pairs", "write_items"]

PG_IMPORT_LOCK = 0x746F7072  # one import at a time per PostgreSQL database ("topr")
_WRITE_CHUNK = 100_000
_PROGRESS_EVERY = 1_000


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True, slots=True)
class Rejection:
    """An event not stored, where it was (file and 1-based line or row) and why (events.md)."""

    file: str | None
    line: int | None
    event_id: str | None
    reason: str

    def __str__(self) -> str:
        where = ":".join(str(part) for part in (self.file, self.line) if part is not None)
        head = " ".join(part for part in (where, self.event_id) if part)
        return f"{head}: {self.reason}" if head else self.reason


@dataclass(slots=True)
class ImportReport:
    """What an import did: events stored, duplicates ignored, and every rejection in input order."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was rejected."""
        return not self.rejected


def _raw_id(raw: Any) -> str | None:
    event_id = raw.get("id") if isinstance(raw, dict) else None
    return _printable(event_id) if isinstance(event_id, str) and event_id else None


class Store:
    """An open store; use as a context manager or call `close()`. Create with `open_store`."""

    def __init__(
        self,
        url: str,
        engine: sa.Engine,
        duck: duckdb.DuckDBPyConnection | None = None,
        memory_limit: str | None = None,
    ) -> None:
        self.url = url
        self.engine = engine
        self._duck = duck  # DuckDB: the connection that holds the file's lock while the store is open
        self.memory_limit = memory_limit  # DuckDB: the limit it was opened with (an import raises it)
        self._backends: list[BaseBackend] = []

    @property
    def dialect(self) -> str:
        """`duckdb` or `postgresql`."""
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({redact(self.url)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection, Ibis backends included (for DuckDB this releases the file's lock)."""
        for backend in self._backends:
            backend.disconnect()
        self._backends.clear()
        self.engine.dispose()
        if self._duck is not None:
            self._duck.close()
            self._duck = None

    def ibis(self) -> BaseBackend:
        """An Ibis backend on the same database, for the evaluation engine to read the typed tables.

        DuckDB: a second connection to the database this store holds open (one process owns the
        file); PostgreSQL: a new connection from the store's URL. Closed with the store.
        """
        import ibis

        if self._duck is not None:
            backend = ibis.duckdb.from_connection(self._duck.cursor())
        elif self.dialect == "postgresql":
            url = self.engine.url
            options = {k: v for k, v in url.query.items() if isinstance(v, str)}
            backend = ibis.postgres.connect(
                host=url.host,
                port=url.port or 5432,
                user=url.username,
                password=url.password,
                database=url.database,
                **options,
            )
        else:
            raise UserError(f"no Ibis backend for {self.dialect}")
        self._backends.append(backend)
        return backend

    def import_records(self, records: Iterable[Record], progress: Callable[[int], None] | None = None) -> ImportReport:
        """Validate and store a batch of records; `progress(n)` is told of every n records read.

        Same id and content: a duplicate, ignored; same id, other content: rejected as a conflict.
        Entity-defining events count once per entity; references must resolve in the store or the
        batch (plan.py). Valid events are stored whatever else is rejected.
        """
        with _no_gc():  # millions of small objects: the cyclic GC would cost a third of the time
            return self._import(records, progress)

    def import_files(self, paths: Sequence[str | Path], progress: Callable[[int], None] | None = None) -> ImportReport:
        """Import event files as `import_records(read_records(p) for p in paths)` would, column-wise.

        The same rules, rows and report, much faster for JSON Lines and Parquet (store/fast/);
        `progress(n)` is told of every n records read.
        """
        from toprated.store.fast import import_files

        with _no_gc():
            return import_files(self, paths, progress)

    def _import(self, records: Iterable[Record], progress: Callable[[int], None] | None) -> ImportReport:
        items, rejected = _validate_all(records, progress)
        report = ImportReport()
        if items:
            keys = {it.event.id for it in items}
            for it in items:
                data = it.event.data
                keys.update(v for f in KEYS_OF[it.event.type] if (v := getattr(data, f)) is not None)
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_IMPORT_LOCK})
                plan = plan_import(items, fetch_known(conn, keys))
                seq = next_seq(conn)
                write_items(conn, plan.accepted, range(seq, seq + len(plan.accepted)), _now())
            report.accepted, report.duplicates = len(plan.accepted), plan.duplicates
            rejected += [(it.pos, Rejection(it.file, it.line, it.event.id, reason)) for it, reason in plan.rejected]
        rejected.sort(key=lambda pair: pair[0])
        report.rejected = [r for _, r in rejected]
        return report

    def counts(self) -> dict[str, int]:
        """Rows per table, raw log first (for reports and tests)."""
        with self.engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (schema.events, *schema.TYPED_TABLES)
            }


@contextmanager
def _no_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _validate_all(
    records: Iterable[Record], progress: Callable[[int], None] | None
) -> tuple[list[Item], list[tuple[int, Rejection]]]:
    items: list[Item] = []
    rejected: list[tuple[int, Rejection]] = []
    pending = 0
    for pos, record in enumerate(records):
        _validate_one(pos, record, items, rejected)
        pending += 1
        if progress is not None and pending == _PROGRESS_EVERY:
            progress(pending)
            pending = 0
    if progress is not None and pending:
        progress(pending)
    return items, rejected


def validate_pairs(pairs: Iterable[tuple[int, Record]]) -> tuple[list[Item], list[tuple[int, Rejection]]]:
    """Validate records at the given arrival positions: the valid items, and (position, rejection)."""
    items: list[Item] = []
    rejected: list[tuple[int, Rejection]] = []
    for pos, record in pairs:
        _validate_one(pos, record, items, rejected)
    return items, rejected


def _validate_one(pos: int, record: Record, items: list[Item], rejected: list[tuple[int, Rejection]]) -> None:
    if record.error is not None:
        rejected.append((pos, Rejection(record.file, record.line, None, _printable(record.error))))
        return
    try:
        event = validate(record.raw)  # type: ignore[arg-type]
    except EventError as exc:
        reason = _printable(exc.reason)
        rejected.append((pos, Rejection(record.file, record.line, _raw_id(record.raw), reason)))
    else:
        items.append(Item(pos, record.file, record.line, event, content_digest(event)))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def write_items(conn: sa.Connection, items: list[Item], seqs: Iterable[int], imported_at: datetime) -> None:
    """Raw rows (numbered `seqs`) and typed rows of the accepted items, in bulk, on the caller's transaction."""
    seq_of = iter(seqs)
    for start in range(0, len(items), _WRITE_CHUNK):
        raw = []
        typed: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in items[start : start + _WRITE_CHUNK]:
            name, row = typed_row(item.event)
            typed[name].append(row)
            raw.append(raw_row(item.event, next(seq_of), imported_at, row["ts"]))
        insert_rows(conn, schema.events, raw)
        for name, rows in typed.items():
            insert_rows(conn, schema.metadata.tables[name], rows)


def duckdb_config() -> dict[str, str]:
    """Settings of every DuckDB connection we open. An import or an evaluation of a million
    freelancers would otherwise let DuckDB take 80% of the machine's memory; with a limit it spills
    to disk instead. `TOPRATED_DUCKDB_MEMORY` (default 3GB) sets it; `?memory_limit=` in a
    duckdb:/// URL wins."""
    return {"memory_limit": os.environ.get("TOPRATED_DUCKDB_MEMORY", "3GB")}


def _duckdb_error(path: str, exc: Exception) -> UserError:
    text = str(exc)
    if "lock" in text.lower():
        held = re.search(r"lock is held in (.*?) \(PID (\d+)\)", text)
        holder = f" (PID {held[2]}: {held[1]})" if held else ""
        return UserError(
            f"the database {path} is in use by another process{holder}. DuckDB allows one writing "
            "process per file: stop that process (a running `toprated serve`?) or use another --db."
        )
    return UserError(f"cannot open the database {path}: {text}")


def open_store(url: str | None = None) -> Store:
    """Open (creating and migrating as needed) the store at `url`: a path or a URL (see `resolve_url`)."""
    resolved = resolve_url(url)
    sa_url = sa.make_url(resolved)
    duck, memory_limit = None, None
    if sa_url.get_backend_name() == "duckdb":
        path = sa_url.database or ":memory:"
        try:
            options = {k: v for k, v in sa_url.query.items() if isinstance(v, str)}
            config = {**duckdb_config(), **options}
            memory_limit = config["memory_limit"]
            duck = duckdb.connect(path, config=config)
        except duckdb.Error as exc:
            raise _duckdb_error(path, exc) from None
        anchor = duck
        engine = sa.create_engine(sa_url, creator=lambda: ConnectionWrapper(anchor.cursor()))
    else:
        engine = sa.create_engine(sa_url)
    store = Store(resolved, engine, duck, memory_limit)
    try:
        with engine.begin() as conn:
            migrate(conn)
    except sa.exc.OperationalError as exc:
        store.close()
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise UserError(f"cannot use the database {redact(resolved)}: {first}") from None
    except BaseException:
        store.close()
        raise
    return store
