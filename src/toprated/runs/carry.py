"""The contracts' ledger carried from one evaluated day to the next: within a run, and from run to run.

A first weekly run evaluates its 15 earlier weekly points and then its week, a backfill week after
week, a scheduler one week after the other: one-day evaluations a week apart, oldest first. Each
needs every contract's state on its day (`toprated.metrics.ledger`); carried from the previous day,
it costs the week's facts instead of every payment ever made. A run keeps its week's ledger in the
store for the next runs (`WeekStore.keep_ledger`), every few weeks (`KEEP_AFTER_DAYS`).

Carrying is exact only if no fact dated on or before the ledger's day arrived since it was made (a
late event): the ledger notes the store's last event `seq` when it was made, and is carried only if
no event after that one is dated on or before its day; else it is made again from every fact.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from toprated.evaluation.scratch import Scratch, quoted
from toprated.metrics.ledger import SCHEMA, ledger_after, ledger_on, settings_of
from toprated.metrics.sources import Sources
from toprated.programme import Programme
from toprated.runs.weekstore import LedgerState, WeekStore, table_exists, transaction


def store_version(con: ibis.BaseBackend) -> int | None:
    """The last event's `seq` in the store behind `con`; None for typed tables without the event
    log (an export to Parquet, which does not change)."""
    if not table_exists(con, "events"):
        return None
    last = con.table("events").seq.max().to_pyarrow().as_py()
    return -1 if last is None else int(last)


def late_events(con: ibis.BaseBackend, seq: int, day: date) -> bool:
    """Whether an event after `seq` is dated on or before `day`: a ledger of `day` made from the
    events up to `seq` misses it."""
    e = con.table("events")
    return bool(e.filter((e.seq > seq) & (e.day <= day)).limit(1).count().to_pyarrow().as_py())


#: A run keeps its ledger for the next one only when the kept ledger is at least this many days older
#: than its own, or was not what it carried (a ledger made again from every fact): at a million
#: freelancers, writing every contract into the store costs a weekly run more (3.5 s) than carrying
#: the kept ledger three more weeks (the week's facts are a filter of the same scan either way).
KEEP_AFTER_DAYS = 28

#: A ledger of this process's is carried in place until the rows replaced reach this share of it.
IN_PLACE_SHARE = 0.5


class Carry:
    """The ledger of the latest day asked for, kept in temporary tables of its own until `close()`.

    Made from every fact, a ledger costs more than what it stands for in one evaluation (at a million
    freelancers, 10.1 s against 7.4 s); carried a week, much less (4.8 s in all). So a chain of days
    starts with one (`start`) only where more days follow: a backfill, a first run's weekly points,
    the weekly runs of a store that keeps ledgers (each keeps its week's for the next).
    """

    def __init__(self, con: ibis.BaseBackend, p: Programme, start: bool = True) -> None:
        self.con = con
        self.p = p
        self.start = start
        self._scratch: Scratch | None = None
        self.day: date | None = None
        self.table: ir.Table | None = None
        self.version: int | None = None
        self.kept_day: date | None = None  # the day of the ledger the store keeps (`seed`)
        self.from_kept = False  # whether the ledger is the kept one, carried (not made again)
        self.carried = 0  # how many ledgers were carried rather than made from every fact (for tests)
        self._rows: int | None = None  # the ledger's rows when written whole (see `_in_place`)
        self._replaced = 0  # rows replaced in place since

    def on(self, src: Sources, day: date) -> ir.Table | None:
        """The contracts' ledger on `day`, carried from the latest one when it is earlier and no
        late event arrived since; else, with `start`, made from every fact; else None (the
        evaluation then reads every fact itself)."""
        version = store_version(self.con)
        exact = self._still_exact(version)
        if exact and self.day == day:
            return self.table
        carry = exact and self.day is not None and self.day < day
        if not carry and not self.start:
            return None
        if carry and self._in_place(src, day):
            self.carried += 1
            self.day, self.version = day, version
            return self.table
        scratch = Scratch(self.con)
        try:
            if carry:
                assert self.table is not None and self.day is not None
                table = scratch.keep(ledger_after(self.table, self.day, src, self.p, day, scratch.keep))
                self.carried += 1
            else:
                table = scratch.keep(ledger_on(src, self.p, day))
        except BaseException:
            scratch.close()
            raise
        self.close()  # the ledger it was carried from
        self._scratch, self.table, self.day, self.version = scratch, table, day, version
        self._rows, self._replaced = None, 0
        self.from_kept = self.from_kept and carry
        return table

    def _in_place(self, src: Sources, day: date) -> bool:
        """Carry the ledger to `day` by replacing the rows of the contracts that changed, on DuckDB,
        when the ledger is this process's own (not the store's kept one, which stays as it is) and
        the rows replaced so far are fewer than `IN_PLACE_SHARE` of it (a replaced row leaves a
        deleted one behind that scans still pass over); else it is written again whole.

        At a million freelancers a week's carry took 2.3–2.4 s so, against 2.9–3.2 s written whole
        (most of it is finding the week's changes: the payments are scanned either way)."""
        if self.con.name != "duckdb" or self._scratch is None or self.table is None or self.day is None:
            return False
        if self._rows is None:
            self._rows = int(self.table.count().to_pyarrow().as_py())
        if self._replaced >= IN_PLACE_SHARE * self._rows:
            return False
        with Scratch(self.con) as scratch:
            changed = ledger_after(self.table, self.day, src, self.p, day, scratch.keep, changed_only=True)
            rows = scratch.keep(changed.select(*self.table.columns))
            target, source = quoted(self.table.get_name()), quoted(rows.get_name())
            columns = ", ".join(quoted(c) for c in self.table.columns)
            with transaction(self.con) as execute:  # all or nothing: a half-replaced ledger would be wrong
                execute(f"DELETE FROM {target} WHERE contract_id IN (SELECT contract_id FROM {source})")
                inserted = execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {source}")
        self._replaced += int(inserted[0][0]) if inserted else 0  # DuckDB answers an INSERT with its count
        return True

    def _still_exact(self, version: int | None) -> bool:
        """Whether the ledger still holds every fact up to its day: no event since it was made, or
        none dated on or before its day (a week's new events are dated after it)."""
        if self.table is None or self.day is None:
            return False
        if version == self.version:
            return True
        return version is not None and self.version is not None and not late_events(self.con, self.version, self.day)

    def seed(self, kept: tuple[ir.Table, LedgerState] | None) -> None:
        """Start from the ledger a run kept (`WeekStore.ledger`), if it is of this programme's settings."""
        if kept is None or self.table is not None:
            return
        table, state = kept
        self.kept_day = state.day
        if state.settings == settings_of(self.p) and set(table.columns) == set(SCHEMA):
            self.table, self.day, self.version = table, state.day, state.seq
            self.from_kept = True

    def keep(self, ws: WeekStore) -> None:
        """Keep the ledger in `ws` for the next run (another process), unless it came from there, is
        of a day before the one kept there (weeks run again), or was carried from the one kept there
        fewer than `KEEP_AFTER_DAYS` days before."""
        if self._scratch is None or self.table is None or self.day is None or self.version is None:
            return
        if self.kept_day is not None and self.day < self.kept_day:
            return
        if self.from_kept and self.kept_day is not None and (self.day - self.kept_day).days < KEEP_AFTER_DAYS:
            return
        ws.keep_ledger(self.table, LedgerState(self.day, self.version, settings_of(self.p)))

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.close()
        self._scratch = self.table = self.day = self.version = None

    def __enter__(self) -> Carry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
