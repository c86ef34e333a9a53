"""Temporary tables for one evaluation, in the backend that holds the store.

Small Python-made tables (the calendar, the granted removals) are uploaded once, and the main
intermediate steps are materialised: a single expression for the whole evaluation compiles to
hundreds of KB of SQL that repeats every shared step, which costs more to compile and plan than
to run. Everything is dropped when the evaluation is done.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from types import TracebackType

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot as sg
import sqlglot.expressions as sge

from toprated.metrics.sources import TABLES, Sources, contracts_of, restrict

_counter = itertools.count()


class Scratch:
    """Creates uniquely named temporary tables and drops them on `close()` (or leaving a `with`)."""

    def __init__(self, con: ibis.BaseBackend) -> None:
        self.con = con
        self.names: list[str] = []
        self.views: list[str] = []  # Spark

    @staticmethod
    def _name() -> str:
        return f"_toprated_{os.getpid()}_{next(_counter)}"

    def keep(self, obj: ir.Table | pa.Table) -> ir.Table:
        if self.con.name == "pyspark":
            return self._keep_on_spark(obj)
        name = self._name()
        if self.con.name == "duckdb" and isinstance(obj, ir.Table):
            schema = self._keep_on_duckdb(name, obj)
        else:
            schema = self.con.create_table(name, obj, temp=True).schema()
        self.names.append(name)
        # by its bare name, as every later statement (and `SqlWeekStore.write`) refers to it
        return ops.DatabaseTable(name, schema=schema, source=self.con, namespace=ops.Namespace()).to_expr()

    def _keep_on_duckdb(self, name: str, expr: ir.Table) -> ibis.Schema:
        """`create_table` without its two catalogue look-ups: the expression already knows its
        schema (the look-ups cost more than running a step over a few rows, as in `explain`)."""
        con = self.con
        schema = expr.schema()
        con._run_pre_execute_hooks(expr)  # registers memtables (`sources.one_of`)
        target = sge.Schema(this=sg.table(name, quoted=True), expressions=schema.to_sqlglot_column_defs(con.dialect))
        create = sge.Create(kind="TABLE", this=target, properties=sge.Properties(expressions=[sge.TemporaryProperty()]))
        con.raw_sql(create.sql(con.dialect))
        con.raw_sql(f"INSERT INTO {sg.to_identifier(name, quoted=True).sql(con.dialect)} {con.compile(expr)}")
        return schema

    def _keep_on_spark(self, obj: ir.Table | pa.Table) -> ir.Table:
        """Spark has no temporary tables through ibis, and a lazily cached step would leave one huge
        plan for the end (slow to optimise): compute each step now, cut its lineage with a local
        checkpoint, and register it as a temporary view."""
        name = self._name()
        self.con.create_view(name, obj if isinstance(obj, ir.Table) else ibis.memtable(obj))
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

    def __enter__(self) -> Scratch:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
