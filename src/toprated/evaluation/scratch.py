"""Temporary tables for one evaluation, in the backend that holds the store.

Small Python-made tables (the calendar, the granted removals) are uploaded once, and the main
intermediate steps are materialised: a single expression for the whole evaluation compiles to
hundreds of KB of SQL that repeats every shared step, which costs more to compile and plan than
to run. Everything is dropped when the evaluation is done.

Compiling the steps is most of what explaining one entity costs. The names of a scratch's tables
are the same from one evaluation to the next (a slot per open scratch, a number per step), so the
steps of the next explanation of the same day are the same expressions and their SQL is reused.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections import OrderedDict
from types import TracebackType

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot as sg
import sqlglot.expressions as sge

from toprated.metrics.sources import TABLES, Sources, contracts_of, restrict

_lock = threading.Lock()
_slots_in_use: set[int] = set()

#: How many steps' SQL a connection keeps (see `_statements`).
COMPILED_STEPS = 256


def _statements(con: ibis.BaseBackend, name: str, expr: ir.Table) -> tuple[str, str]:
    """CREATE and INSERT of a step, reused when the connection made the same step lately (ibis
    expressions compare by structure, the names and columns of the tables they read included).

    Kept on the connection itself: the expressions refer to it, so both go together."""
    key = (name, expr.op())
    with _lock:
        recent: OrderedDict[tuple[str, ops.Node], tuple[str, str]] = con.__dict__.setdefault(
            "_toprated_compiled", OrderedDict()
        )
        found = recent.get(key)
        if found is not None:
            recent.move_to_end(key)
            return found
    columns = expr.schema().to_sqlglot_column_defs(con.dialect)
    target = sge.Schema(this=sg.table(name, quoted=True), expressions=columns)
    # OR REPLACE: a table a closed scratch failed to drop may still hold the name
    create = sge.Create(
        kind="TABLE",
        this=target,
        replace=True,
        properties=sge.Properties(expressions=[sge.TemporaryProperty()]),
    )
    made = (
        create.sql(con.dialect),
        f"INSERT INTO {sg.to_identifier(name, quoted=True).sql(con.dialect)} {con.compile(expr)}",
    )
    with _lock:
        recent[key] = made
        while len(recent) > COMPILED_STEPS:
            recent.popitem(last=False)
    return made


class Scratch:
    """Creates temporary tables, named uniquely among open scratches, and drops them on `close()`
    (or leaving a `with`)."""

    def __init__(self, con: ibis.BaseBackend) -> None:
        self.con = con
        self.names: list[str] = []
        self.views: list[str] = []  # Spark
        with _lock:
            self.slot = next(i for i in itertools.count() if i not in _slots_in_use)
            _slots_in_use.add(self.slot)
        self._steps = itertools.count()

    def _name(self) -> str:
        return f"_toprated_{os.getpid()}_{self.slot}_{next(self._steps)}"

    def keep(self, obj: ir.Table | pa.Table) -> ir.Table:
        if self.con.name == "pyspark":
            return self._keep_on_spark(obj)
        name = self._name()
        if self.con.name == "duckdb" and isinstance(obj, ir.Table):
            schema = self._keep_on_duckdb(name, obj)
        else:
            schema = self.con.create_table(name, obj, temp=True, overwrite=True).schema()
        self.names.append(name)
        # by its bare name, as every later statement (and `SqlWeekStore.write`) refers to it
        return ops.DatabaseTable(name, schema=schema, source=self.con, namespace=ops.Namespace()).to_expr()

    def _keep_on_duckdb(self, name: str, expr: ir.Table) -> ibis.Schema:
        """`create_table` without its two catalogue look-ups: the expression already knows its
        schema (the look-ups cost more than running a step over a few rows, as in `explain`)."""
        con = self.con
        con._run_pre_execute_hooks(expr)  # registers memtables (`sources.one_of`)
        for statement in _statements(con, name, expr):
            con.raw_sql(statement)
        return expr.schema()

    def _keep_on_spark(self, obj: ir.Table | pa.Table) -> ir.Table:
        """Spark has no temporary tables through ibis, and a lazily cached step would leave one huge
        plan for the end (slow to optimise): compute each step now, cut its lineage with a local
        checkpoint, and register it as a temporary view."""
        name = self._name()
        self.con.create_view(name, obj if isinstance(obj, ir.Table) else ibis.memtable(obj), overwrite=True)
        session = self.con._session
        session.table(name).localCheckpoint(eager=True).createOrReplaceTempView(name)
        self.views.append(name)
        return self.con.table(name)

    def facts_of(self, src: Sources, entity_ids: list[str]) -> Sources:
        """`restrict(src, entity_ids)` copied into temporary tables, so that every later step reads
        a few rows rather than scanning the store's tables again (on Spark: only restricted)."""
        if self.con.name == "pyspark":  # a copy per table would cost Spark a job each
            return restrict(src, entity_ids)
        # the contracts first: five of the other tables are cut by them
        contracts = self.keep(contracts_of(src, entity_ids))
        scope = restrict(src, entity_ids, contracts)
        copies = {name: contracts if name == "contracts" else self.keep(getattr(scope, name)) for name in TABLES}
        return Sources(backend=src.backend, **copies)

    def close(self) -> None:
        while self.views:
            with contextlib.suppress(Exception):
                self.con._session.catalog.dropTempView(self.views.pop())
        while self.names:
            name = self.names.pop()
            # A temp table also vanishes with the session, so a failed drop is harmless.
            with contextlib.suppress(Exception):
                self.con.drop_table(name, force=True)
        with _lock:
            _slots_in_use.discard(self.slot)

    def __enter__(self) -> Scratch:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
