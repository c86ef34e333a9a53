"""Temporary tables for one evaluation, in the backend that holds the store.

Small Python-made tables (the calendar, the granted removals) are uploaded once, and the main
intermediate steps are materialised: a single expression for the whole evaluation compiles to
hundreds of KB of SQL that repeats every shared step, which costs more to compile and plan than
to run. Everything is dropped when the evaluation is done.

Building and compiling the steps is most of what explaining one entity costs. The names of a
scratch's tables are the same from one evaluation to the next (a slot per open scratch, a number
per step), so the steps of the next explanation of the same day are the same SQL: their compiled
statements are reused, and `Scratch.replayable` runs them again without building the expressions.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from types import TracebackType

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot as sg
import sqlglot.expressions as sge

from toprated.evaluation import plans as recorded
from toprated.evaluation.plans import Plan, Step
from toprated.metrics.compiled import dated, fetch, remembered, run_prepared
from toprated.metrics.sources import TABLES, UNREAD, Sources, contracts_of, restrict

_lock = threading.Lock()
_slots_in_use: set[int] = set()


def _statements(con: ibis.BaseBackend, name: str, expr: ir.Table) -> tuple[str, ...]:
    """CREATE and INSERT of a step, compiled once for the same step, whatever its dates, on the
    connection (see `toprated.metrics.compiled`)."""

    def make(e: ir.Expr) -> tuple[str, ...]:
        return _create(con, name, expr.schema()), f"INSERT INTO {quoted(name)} {con.compile(e)}"

    return dated(con, name, expr, make)


def _create(con: ibis.BaseBackend, name: str, schema: ibis.Schema) -> str:
    """CREATE of an empty temporary table with exactly these columns' types."""

    def make() -> str:
        columns = schema.to_sqlglot_column_defs(con.dialect)
        target = sge.Schema(this=sg.table(name, quoted=True), expressions=columns)
        # OR REPLACE: a table a closed scratch failed to drop may still hold the name
        properties = sge.Properties(expressions=[sge.TemporaryProperty()])
        return sge.Create(kind="TABLE", this=target, replace=True, properties=properties).sql(con.dialect)

    return remembered(con, ("create", name, schema), make)


def _literal(value: str) -> str:
    return sge.Literal.string(value).sql("duckdb")


def _literals(values: list[str]) -> str:
    """Values for `IN (…)` in place of one literal (NULL for none: `x IN (NULL)` holds for no row)."""
    return ", ".join(_literal(v) for v in values) or "NULL"


def quoted(name: str) -> str:
    return sg.to_identifier(name, quoted=True).sql("duckdb")


#: Up to so many entities, and so many of their contracts, `Scratch.facts_of` finds their rows through
#: the store's lookup indexes (store/schema.py `LOOKUPS`): each id costs about 0.35 ms there on a
#: 1M-freelancer store written in time order, where scanning its payments costs some 400 ms.
LOOKUP_IDS = 500

#: Stand-ins for those ids in statements compiled once and run with the ids of the moment.
ENTITIES, CONTRACTS = "__toprated_entities__", "__toprated_contracts__"

#: How many replayable builds a connection keeps (see `Scratch.replayable`).
PLANS = 32


def _table(con: ibis.BaseBackend, name: str, schema: ibis.Schema) -> ir.Table:
    # by its bare name, as every later statement (and `SqlWeekStore.write`) refers to it
    return ops.DatabaseTable(name, schema=schema, source=con, namespace=ops.Namespace()).to_expr()


def table_names(src: Sources) -> tuple[tuple[str, ibis.Schema], ...] | None:
    """The names of the tables `src` reads, with their columns, when each is a table as it is (a key
    of `replayable`)."""
    tables = [getattr(src, name).op() for name in TABLES]
    if not all(isinstance(t, ops.DatabaseTable) for t in tables):
        return None
    return tuple((t.name, t.schema) for t in tables)


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
        self._step = 0
        self._recording: list[Step] | None = None  # see `replayable`
        self._ids: dict[str, str] = {}  # a stand-in, quoted -> the ids it stands for (see `facts_of`)

    def _name(self) -> str:
        self._step += 1
        return f"_toprated_{self.slot}_{self._step - 1}"

    def keep(self, obj: ir.Table | pa.Table) -> ir.Table:
        if self.con.name == "pyspark":
            return self._keep_on_spark(obj)
        name = self._name()
        if self.con.name == "duckdb" and isinstance(obj, ir.Table):
            schema = self._keep_on_duckdb(name, obj)
        elif self.con.name == "duckdb":
            schema = self._upload_to_duckdb(name, obj)
            if self._recording is not None:
                self._recording.append(Step(name, schema, arrow=obj))
        else:  # PostgreSQL (a replay is DuckDB's only)
            schema = self.con.create_table(name, obj, temp=True, overwrite=True).schema()
        self.names.append(name)
        return _table(self.con, name, schema)

    def _keep_on_duckdb(self, name: str, expr: ir.Table) -> ibis.Schema:
        """`create_table` without its two catalogue look-ups: the expression already knows its
        schema (the look-ups cost more than running a step over a few rows, as in `explain`)."""
        con = self.con
        con._run_pre_execute_hooks(expr)  # registers memtables (`sources.one_of`)
        statements = _statements(con, name, expr)
        for statement in statements:
            con.raw_sql(self._bound(statement))
        if self._recording is not None:
            # a memtable's name is the Python object's: a replay could not count on it
            replayable = not expr.op().find(ops.InMemoryTable)
            self._recording.append(Step(name, expr.schema(), statements if replayable else None))
        return expr.schema()

    def _bound(self, statement: str) -> str:
        """The statement with the ids its stand-ins stand for at the moment (see `facts_of`), put in
        one pass: an id that looked like a stand-in is not replaced in its turn."""
        if not self._ids:
            return statement
        pattern = "|".join(re.escape(stand_in) for stand_in in self._ids)
        return re.sub(pattern, lambda m: self._ids[m.group(0)], statement)

    def _upload_to_duckdb(self, name: str, data: pa.Table) -> ibis.Schema:
        """`create_table` of Python-made data (a calendar, ids) without a memtable and the catalogue
        look-ups: the table's types are the data's, as `create_table` makes them."""
        schema = ibis.Schema.from_pyarrow(data.schema)
        raw, view = self.con.con, f"{name}_data"
        raw.register(view, data)
        try:
            raw.execute(_create(self.con, name, schema))
            raw.execute(f"INSERT INTO {quoted(name)} SELECT * FROM {quoted(view)}")
        finally:
            raw.unregister(view)
        return schema

    def replayable(self, key: Hashable, build: Callable[[], dict[str, ir.Table]]) -> dict[str, ir.Table]:
        """`build()`, which keeps tables in this scratch and returns some of them; or, when a scratch
        of the same slot, at the same step, built `key` lately, its statements run again as they are
        (but for the ids their stand-ins stand for now: see `facts_of`).

        Explaining one entity builds some forty steps whose SQL is the same for every entity of the
        day: they read its facts from temporary tables whose names are the same each time (see
        `facts_of`). Building and compiling their Ibis expressions takes longer than running them on
        a few rows. `key` must name everything `build` depends on but the contents of the tables it
        reads: the tables' names and columns, the day, the programme, the removals. DuckDB only; a
        step with a memtable (data in the expression itself) makes `build` run each time. The
        recording is kept on disk too, for the next process (`toprated.evaluation.plans`).
        """
        if self.con.name != "duckdb":
            return build()
        plans: OrderedDict[Hashable, Plan] = self.con.__dict__.setdefault("_toprated_plans", OrderedDict())
        full_key = (key, self.slot, self._step)
        with _lock:
            plan = plans.get(full_key)
            if plan is not None:
                plans.move_to_end(full_key)
        on_disk = recorded.disk_key(*full_key) if plan is None else None
        if plan is None:
            plan = recorded.load(on_disk)
            if plan is not None:
                self._remember(plans, full_key, plan)
        if plan is None:
            self._recording = []
            try:
                out = build()
            finally:
                steps, self._recording = self._recording, None
            names = {k: t.get_name() for k, t in out.items()}
            if all(s.statements is not None or s.arrow is not None for s in steps) and set(names.values()) <= {
                s.name for s in steps
            }:
                plan = Plan(steps, names)
                self._remember(plans, full_key, plan)
                recorded.save(on_disk, plan)
            return out
        kept: dict[str, ibis.Schema] = {}
        statements: list[str] = []
        for step in plan.steps:
            name = self._name()
            assert name == step.name, (name, step.name)  # the key holds the slot and the step
            if step.arrow is not None:  # data reads nothing kept: uploaded first
                self._upload_to_duckdb(name, step.arrow)
            else:
                statements.extend(step.statements or ())
            self.names.append(name)
            kept[name] = step.schema
        # in one call: DuckDB runs them one after another, without a return to Python between
        if statements:
            # those with ids written in are new text each time: not worth preparing
            fixed = [not any(stand_in in s for stand_in in self._ids) for s in statements]
            run_prepared(self.con, [self._bound(s) for s in statements], fixed)
        return {k: _table(self.con, name, kept[name]) for k, name in plan.outputs.items()}

    @staticmethod
    def _remember(plans: OrderedDict[Hashable, Plan], key: Hashable, plan: Plan) -> None:
        with _lock:
            plans[key] = plan
            while len(plans) > PLANS:
                plans.popitem(last=False)

    def _keep_on_spark(self, obj: ir.Table | pa.Table) -> ir.Table:
        """Spark has no temporary tables through ibis, and a lazily cached step would leave one huge
        plan for the end (slow to optimise): compute each step now, cut its lineage with a local
        checkpoint, and register it as a temporary view.

        A decimal column keeps the type the expression says it has. Ibis types a sum of decimals
        `decimal(38, s)` and leaves out a cast to that type as a no-op, while Spark's sum is
        `decimal(p + 10, s)`: read back, the kept step had another type than the expression, and a
        union with a step of the declared type failed (the contracts' ledger carried a third week)."""
        name = self._name()
        self.con.create_view(name, obj if isinstance(obj, ir.Table) else ibis.memtable(obj), overwrite=True)
        frame = self.con._session.table(name)
        if isinstance(obj, ir.Table):
            from ibis.backends.pyspark.datatypes import PySparkType
            from pyspark.sql.types import DecimalType

            found = {f.name: f.dataType for f in frame.schema.fields}
            for column, dtype in obj.schema().items():
                wanted, now = PySparkType.from_ibis(dtype), found.get(column)
                if isinstance(wanted, DecimalType) and isinstance(now, DecimalType) and now != wanted:
                    frame = frame.withColumn(column, frame[column].cast(wanted))
        frame.localCheckpoint(eager=True).createOrReplaceTempView(name)
        self.views.append(name)
        return self.con.table(name)

    def keep_ids(self, ids: list[str]) -> ir.Table:
        """A one-column table (`_id`) of these ids. Statements that read ids from it, rather than
        from literals written into them, are the same SQL whoever is asked for: compiled once (see
        `_statements`) and replayed (see `replayable`)."""
        return self.keep(pa.table({"_id": pa.array(ids, type=pa.string())}))

    def facts_of(self, src: Sources, entity_ids: list[str]) -> Sources:
        """`restrict(src, entity_ids)` copied into temporary tables, so that every later step reads
        a few rows rather than scanning the store's tables again (on Spark: only restricted)."""
        if self.con.name == "pyspark":  # a copy per table would cost Spark a job each
            return restrict(src, entity_ids)
        ids = sorted(set(entity_ids))
        tables = table_names(src)
        if self.con.name == "duckdb" and tables is not None and len(ids) <= LOOKUP_IDS:
            return self._looked_up(src, ids, tables)
        id_table = self.keep_ids(ids)

        def copy() -> dict[str, ir.Table]:
            # the contracts first: five of the other tables are cut by them
            contracts = self.keep(contracts_of(src, id_table._id))
            return {"contracts": contracts, **self._kept(restrict(src, id_table._id, contracts))}

        if tables is None:
            return Sources(backend=src.backend, **copy())
        return Sources(backend=src.backend, **self.replayable(("facts_of", id_table.get_name(), tables), copy))

    def _looked_up(self, src: Sources, ids: list[str], tables: tuple[str, ...]) -> Sources:
        """`facts_of` a few entities on DuckDB, found through the store's lookup indexes: DuckDB
        uses an index for a literal list of ids, not for a join with a table of them. The ids, then
        their contracts' ids, are written into statements compiled once with stand-ins for them
        (`ENTITIES`, `CONTRACTS`), which the next explanation replays (see `replayable`)."""
        self._ids = {_literal(ENTITIES): _literals(ids)}
        try:
            found = self.replayable(
                ("contracts_of", tables), lambda: {"contracts": self.keep(contracts_of(src, [ENTITIES]))}
            )
            contracts = found["contracts"]
            contract_ids = fetch(contracts.select("contract_id"))["contract_id"].to_pylist()
            few = len(contract_ids) <= LOOKUP_IDS
            if few:
                self._ids[_literal(CONTRACTS)] = _literals(sorted(contract_ids))
            key = ("facts_of", tables, contracts.get_name(), few)

            def copy() -> dict[str, ir.Table]:
                return self._kept(restrict(src, [ENTITIES], contracts, [CONTRACTS] if few else None))

            kept = self.replayable(key, copy)
        finally:
            self._ids = {}
        return Sources(backend=src.backend, contracts=contracts, **kept)

    def _kept(self, scope: Sources) -> dict[str, ir.Table]:
        """Every table of `scope` but the contracts (kept first, as the others are cut by them) kept,
        without the columns no rule reads (`UNREAD`)."""
        return {
            name: self.keep(getattr(scope, name).drop(*UNREAD.get(name, ()))) for name in TABLES if name != "contracts"
        }

    def close(self) -> None:
        while self.views:
            with contextlib.suppress(Exception):
                self.con._session.catalog.dropTempView(self.views.pop())
        if self.con.name == "duckdb" and self.names:
            # one call for all (an explanation keeps some forty tables)
            drops = "; ".join(f"DROP TABLE IF EXISTS {quoted(n)}" for n in self.names)
            self.names.clear()
            with contextlib.suppress(Exception):
                self.con.raw_sql(drops)
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
