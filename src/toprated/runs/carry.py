"""The contracts' ledger carried from one evaluated day to the next within a process.

A first weekly run evaluates its 15 earlier weekly points and then its week, a backfill week after
week: one-day evaluations a week apart, oldest first. Each needs every contract's state on its day
(`toprated.metrics.ledger`); carried from the previous day, it costs the week's facts instead of
every payment ever made.

Carrying is exact only if no fact dated on or before the previous day arrived in between (an import
into PostgreSQL while a backfill runs): the store's last event `seq` is read before each day, and
any new event makes the ledger start again from every fact.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from toprated.evaluation.scratch import Scratch
from toprated.metrics.ledger import ledger_after, ledger_on
from toprated.metrics.sources import Sources
from toprated.programme import Programme


def store_version(con: ibis.BaseBackend) -> int | None:
    """The last event's `seq` in the store behind `con`; None for typed tables without the event
    log (an export to Parquet, which does not change)."""
    if con.name == "pyspark":
        return None
    if con.name == "duckdb":  # ibis's `list_tables` does not work with DuckDB 2.0
        raw = con.con
        if not raw.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'events'").fetchall():
            return None
        ((last,),) = raw.execute("SELECT max(seq) FROM events").fetchall()
    else:
        last = con.table("events").seq.max().to_pyarrow().as_py()
    return -1 if last is None else int(last)


class Carry:
    """The ledger of the latest day asked for, kept in temporary tables of its own until `close()`.

    Made from every fact, a ledger costs more than what it stands for in one evaluation (at a million
    freelancers, 10.1 s against 7.4 s); carried a week, much less (4.8 s in all). So a chain of days
    starts with one (`start`) only where more days follow: a backfill, a first run's weekly points.
    """

    def __init__(self, con: ibis.BaseBackend, p: Programme, start: bool = True) -> None:
        self.con = con
        self.p = p
        self.start = start
        self._scratch: Scratch | None = None
        self.day: date | None = None
        self.table: ir.Table | None = None
        self.version: int | None = None
        self.carried = 0  # how many ledgers were carried rather than made from every fact (for tests)

    def on(self, src: Sources, day: date) -> ir.Table | None:
        """The contracts' ledger on `day`, carried from the latest one when it is earlier and the
        store has not changed since; else, with `start`, made from every fact; else None (the
        evaluation then reads every fact itself)."""
        version = store_version(self.con)
        same_store = self.table is not None and version == self.version
        if same_store and self.day == day:
            return self.table
        carry = same_store and self.day is not None and self.day < day
        if not carry and not self.start:
            return None
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
        self._drop()
        self._scratch, self.table, self.day, self.version = scratch, table, day, version
        return table

    def _drop(self) -> None:
        if self._scratch is not None:
            self._scratch.close()
        self._scratch = self.table = self.day = None

    def close(self) -> None:
        self._drop()

    def __enter__(self) -> Carry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
