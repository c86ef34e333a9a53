"""Where weekly runs keep their results: the store's database, or a Parquet folder for Spark.

Both keep the four tables of `toprated.runs.snapshots` (snapshots, transitions, decisions, runs),
each row tagged with its `week` and `programme`, and replace one week's rows all at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir
import pyarrow.parquet as pq

from toprated.errors import UserError
from toprated.metrics.asof import ones
from toprated.runs.snapshots import POINTS, RUN_TABLES, RUNS

#: The contracts' ledger a run keeps for the next (`toprated.runs.carry`), and what it holds.
LEDGER, LEDGER_STATE = "contract_ledger", "contract_ledger_state"


class WeekStore(Protocol):
    #: whether it keeps a run's contracts' ledger for the next run (`ledger`, `keep_ledger`)
    keeps_ledgers: bool

    def weeks(self, programme: str) -> set[date]: ...

    def table(self, name: str) -> ir.Table | None:
        """A stored table, readable in the evaluation's backend, or None before the first run."""

    def point_days(self, programme: str) -> set[date]:
        """The days whose weekly points are stored."""

    def points(self, programme: str, days: list[date]) -> ir.Table | None:
        """Stored weekly points of `days`: (entity_id, entity_kind, point, point_ok), one row per
        entity and day."""

    def write(self, week: date, programme: str, tables: dict[str, ir.Table], days: dict[str, list[date]]) -> None:
        """Replace the rows of `programme` in each table for its `days` (default: `week`), all or nothing."""

    def ledger(self) -> tuple[ir.Table, LedgerState] | None:
        """The contracts' ledger kept by the latest run, and what it holds; None if none is kept."""

    def keep_ledger(self, table: ir.Table, state: LedgerState) -> None:
        """Keep `table` as the contracts' ledger (replacing any), all or nothing."""


@dataclass(frozen=True)
class LedgerState:
    """What a kept ledger holds (`toprated.metrics.ledger`): the contracts' state on `day`, from the
    events up to `seq`, for these settings of the programme."""

    day: date
    seq: int
    settings: str  # `toprated.metrics.ledger.settings_of`


def _days_of(t: ir.Table | None, programme: str) -> set[date]:
    if t is None:
        return set()
    return set(t.filter(t.programme == programme).select("week").distinct().week.to_pyarrow().to_pylist())


def _points_of(t: ir.Table | None, programme: str, days: list[date]) -> ir.Table | None:
    if t is None:
        return None
    t = t.filter((t.programme == programme) & t.week.isin(days))
    return t.select("entity_id", "entity_kind", "point_ok", point=t.week)


def table_exists(con: ibis.BaseBackend, name: str) -> bool:
    # ibis 12's `list_tables` fails on DuckDB 2.0's connection objects; asking for the table works
    try:
        con.table(name)
    except Exception:
        return False
    return True


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqlWeekStore:
    """Tables in the store's own database (DuckDB or PostgreSQL), written in one transaction."""

    keeps_ledgers = True

    def __init__(self, con: ibis.BaseBackend) -> None:
        self.con = con

    def table(self, name: str) -> ir.Table | None:
        return self.con.table(name) if table_exists(self.con, name) else None

    def weeks(self, programme: str) -> set[date]:
        r = self.table(RUNS)
        return set() if r is None else set(r.filter(r.programme == programme).week.to_pyarrow().to_pylist())

    def point_days(self, programme: str) -> set[date]:
        return _days_of(self.table(POINTS), programme)

    def points(self, programme: str, days: list[date]) -> ir.Table | None:
        # `write` replaces a day's points before adding them: one row per entity and day already
        return _points_of(self.table(POINTS), programme, days)

    def _ensure(self, name: str, schema: ibis.Schema) -> None:
        have = self.table(name)
        if have is None:
            self.con.create_table(name, schema=schema)
            return
        extra = [c for c in have.columns if c not in schema]
        if extra:
            raise UserError(
                f"the stored table {name} has columns this version of toprated does not write ({', '.join(extra)}); "
                "drop it (it is a cache of the event log) and run the backfill again"
            )
        # columns a newer version added: earlier weeks' rows keep NULL there (rows are written by name)
        added = [c for c in schema.names if c not in have.columns]
        if added:
            with self.transaction() as execute:
                for column in added:
                    typ = self.con.compiler.type_mapper.to_string(schema[column])
                    execute(f"ALTER TABLE {_quote(name)} ADD COLUMN {_quote(column)} {typ}")

    def write(self, week: date, programme: str, tables: dict[str, ir.Table], days: dict[str, list[date]]) -> None:
        for name, t in tables.items():
            self._ensure(name, t.schema())
        prog = programme.replace("'", "''")
        with self.transaction() as execute:
            for name, t in tables.items():
                cols = ", ".join(_quote(c) for c in t.columns)
                listed = ", ".join(f"DATE '{d.isoformat()}'" for d in days.get(name, [week]))
                execute(f"DELETE FROM {_quote(name)} WHERE programme = '{prog}' AND week IN ({listed})")
                execute(f"INSERT INTO {_quote(name)} ({cols}) SELECT {cols} FROM {_quote(t.get_name())}")

    def ledger(self) -> tuple[ir.Table, LedgerState] | None:
        state = self.table(LEDGER_STATE)
        rows = [] if state is None else state.to_pyarrow().to_pylist()
        if len(rows) != 1 or self.table(LEDGER) is None:
            return None
        return self.con.table(LEDGER), LedgerState(**rows[0])

    def keep_ledger(self, table: ir.Table, state: LedgerState) -> None:
        settings = state.settings.replace("'", "''")
        with self.transaction() as execute:
            execute(f"DROP TABLE IF EXISTS {LEDGER_STATE}")
            execute(f"DROP TABLE IF EXISTS {LEDGER}")
            execute(f"CREATE TABLE {LEDGER} AS SELECT * FROM {_quote(table.get_name())}")
            execute(
                f"CREATE TABLE {LEDGER_STATE} AS SELECT DATE '{state.day.isoformat()}' AS day, "
                f"CAST({int(state.seq)} AS BIGINT) AS seq, CAST('{settings}' AS VARCHAR) AS settings"
            )

    def transaction(self) -> contextlib.AbstractContextManager[Callable[[str], Any]]:
        return transaction(self.con)


@contextlib.contextmanager
def transaction(con: ibis.BaseBackend) -> Iterator[Callable[[str], Any]]:
    """SQL statements in one transaction of the backend's own connection: all or nothing. On
    DuckDB each statement's rows are returned (an INSERT answers with its count)."""
    raw = con.con
    if con.name == "postgres":
        with raw.transaction(), raw.cursor() as cur:
            yield lambda sql: cur.execute(sql)
        return
    raw.execute("BEGIN TRANSACTION")
    try:
        yield lambda sql: raw.execute(sql).fetchall()
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    raw.execute("COMMIT")


class ParquetWeekStore:
    """Parquet files under `DIR/runs/<table>/<programme>/<week>.parquet`, read back through the
    evaluation backend (Spark). A week is written into a fresh folder and swapped in by renames."""

    keeps_ledgers = False  # the export does not change from run to run: see `ledger`

    def __init__(self, con: ibis.BaseBackend, root: Path) -> None:
        self.con = con
        self.root = root / "runs"

    def _files(self, name: str) -> list[Path]:
        return sorted((self.root / name).glob("*/*.parquet"))

    def weeks(self, programme: str) -> set[date]:
        return {date.fromisoformat(f.stem) for f in (self.root / RUNS / _safe(programme)).glob("*.parquet")}

    def table(self, name: str) -> ir.Table | None:
        files = self._files(name)
        if not files:
            return None
        # one glob, not a list: ibis' PySpark backend passes a list to Spark as its string form
        return self.con.read_parquet(str(self.root / name / "*" / "*.parquet"), table_name=f"stored_{name}")

    def point_days(self, programme: str) -> set[date]:
        return _days_of(self.table(POINTS), programme)

    def ledger(self) -> tuple[ir.Table, LedgerState] | None:
        return None  # the Parquet export does not change: nothing to carry a ledger over from run to run

    def keep_ledger(self, table: ir.Table, state: LedgerState) -> None:
        return None

    def points(self, programme: str, days: list[date]) -> ir.Table | None:
        t = _points_of(self.table(POINTS), programme, days)
        if t is None:
            return None
        # runs that evaluated the same day each left a file with its points: one row per entity and day
        g = t.group_by(["entity_id", "entity_kind", "point"]).aggregate(ok=ones(t.point_ok).max())
        return g.select("entity_id", "entity_kind", point_ok=g.ok == 1, point=g.point)

    def write(self, week: date, programme: str, tables: dict[str, ir.Table], days: dict[str, list[date]]) -> None:
        # One file per table and run: points a run stores for earlier days sit in its own file, and
        # `points` takes one row per entity and day.
        staging = self.root / f".staging-{week.isoformat()}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staged = []
        for name in RUN_TABLES:
            if name not in tables:
                continue
            path = staging / name / f"{week.isoformat()}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(tables[name].to_pyarrow(), path)
            staged.append((path, self.root / name / _safe(programme) / path.name))
        for src, dst in staged:  # each rename is atomic; the runs file goes last, marking the week done
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
        shutil.rmtree(staging, ignore_errors=True)


def _safe(programme: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in programme)
