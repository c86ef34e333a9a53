"""SQL compiled once per connection, for the statements a process makes again and again.

Explaining one entity builds the same Ibis expressions each time: they read temporary tables whose
names do not change from one explanation to the next (see `toprated.evaluation.scratch`). Compiling
an expression costs milliseconds, often more than running its SQL on a few rows; an expression
compares equal to an earlier one of the same structure (table names and columns included), so its
SQL is looked up instead. DuckDB only: other backends compile as they always do.

A weekly run's expressions differ from one week to the next only by their dates: the day, its
windows' bounds, the cut of the facts. They are compiled with stand-ins for their dates (`dated`),
so that a process running week after week (a backfill, a scheduler) compiles each once; and the
next process finds them compiled on disk (`toprated.metrics.sqlcache`).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date, timedelta
from typing import TypeVar

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

from toprated.metrics.sqlcache import compiled_once

#: How many compiled statements a connection keeps.
COMPILED = 512

_lock = threading.Lock()
T = TypeVar("T")


def remembered(con: ibis.BaseBackend, key: Hashable, make: Callable[[], T]) -> T:
    """`make()`, or what it made for the same key on this connection lately.

    Kept on the connection itself: the expressions in the keys refer to it, so both go together."""
    with _lock:
        recent: OrderedDict[Hashable, object] = con.__dict__.setdefault("_toprated_compiled", OrderedDict())
        if key in recent:
            recent.move_to_end(key)
            return recent[key]  # type: ignore[return-value]
    made = make()
    with _lock:
        recent[key] = made
        while len(recent) > COMPILED:
            recent.popitem(last=False)
    return made


#: The first stand-in date, and those after it: no fact is dated between the years 1001 and 1899 (the
#: evaluation's own constants, 1970-01-01 and 9999-12-31, are outside them).
_STAND_IN = date(1001, 1, 1)
_STAND_INS = (date(1900, 1, 1) - _STAND_IN).days
_STAND_IN_SQL = re.compile(r"MAKE_DATE\(1[0-8]\d\d, \d+, \d+\)")


def _sql_date(day: date) -> str:
    """A date as ibis writes it for DuckDB."""
    return f"MAKE_DATE({day.year}, {day.month}, {day.day})"


def dated(
    con: ibis.BaseBackend, key: Hashable, expr: ir.Expr, make: Callable[[ir.Expr], tuple[str, ...]]
) -> tuple[str, ...]:
    """`remembered(con, (key, expr), make(expr))`, made once for every expression that differs from
    `expr` only by the values of its date literals.

    The distinct dates of `expr`, in order, are replaced by stand-ins (1001-01-01, the next day, …);
    that expression is made and remembered, and each stand-in in what it made is replaced by its
    date. Two expressions with the same stand-ins are the same but for their dates, so the SQL of
    one, with the other's dates written in, is the other's. Should a date of those years be left (a
    date written otherwise than ibis writes it today, or one of `expr`'s own), `expr` is made as it is.
    """
    op = expr.op()
    # the very same expression again (an explanation's): no need to look for its dates
    return remembered(con, (key, "as it is", op), lambda: _dated(con, key, op, expr, make))


def _dated(
    con: ibis.BaseBackend,
    key: Hashable,
    op: ops.Node,
    expr: ir.Expr,
    make: Callable[[ir.Expr], tuple[str, ...]],
) -> tuple[str, ...]:
    literals = [o for o in op.find(ops.Literal) if o.dtype.is_date() and isinstance(o.value, date)]
    dates = sorted({o.value for o in literals})
    if not literals or len(dates) > _STAND_INS:
        return _made(con, (key, op), lambda: make(expr))
    stand_ins = {d: _STAND_IN + timedelta(days=i) for i, d in enumerate(dates)}
    generic = op.replace({o: ops.Literal(stand_ins[o.value], o.dtype) for o in literals})
    made = _made(con, (key, generic), lambda: make(generic.to_expr()))
    real = {_sql_date(s): _sql_date(d) for d, s in stand_ins.items()}
    out = tuple(_STAND_IN_SQL.sub(lambda m: real.get(m.group(0), m.group(0)), sql) for sql in made)
    if any(_STAND_IN_SQL.search(sql) for sql in out):
        return _made(con, (key, op), lambda: make(expr))
    return out


def _made(con: ibis.BaseBackend, key: Hashable, make: Callable[[], tuple[str, ...]]) -> tuple[str, ...]:
    """`make()` remembered on the connection, and on disk: the next process (next week's run, the
    next explanation) finds it compiled (`toprated.metrics.sqlcache`)."""
    return remembered(con, key, lambda: compiled_once(con.name, key, make))


def fetch(t: ir.Table) -> pa.Table:
    """`t.to_pyarrow()`, with the SQL of an expression seen before on the connection reused."""
    con = t._find_backend()
    if con.name != "duckdb":
        return t.to_pyarrow()
    from ibis.backends.duckdb.converter import DuckDBPyArrowData

    (sql,) = dated(con, "fetch", t, lambda e: (con.compile(e),))
    con._run_pre_execute_hooks(t)  # registers memtables
    return t.__pyarrow_result__(con.con.sql(sql).to_arrow_table(), data_mapper=DuckDBPyArrowData)


#: How many prepared statements a DuckDB connection keeps (see `run_prepared`).
PREPARED = 512

#: Statements DuckDB can prepare, and whose text is worth parsing once: an explanation's are ~100 KB.
_PREPARABLE = ("INSERT ",)


def run_prepared(con: ibis.BaseBackend, statements: list[str], fixed: list[bool]) -> None:
    """Run `statements` one after another in one call on DuckDB, each seen before on the connection
    as `EXECUTE` of the statement prepared then. Only those `fixed` (whose text comes back as it is:
    not one with the ids of the moment written in) are prepared.

    DuckDB 2.0's parser takes about 25 ms for the 100 KB of SQL that explaining one entity replays
    (`Scratch.replayable`), a seventh of the explanation; a prepared statement is parsed once. Its
    tables may be dropped and created again in between (a scratch's are): DuckDB binds it again to
    the tables of the moment. A statement can only be prepared once the tables it reads exist, so it
    is prepared after its first run. Should a prepared statement fail, the batch runs again as text
    (every replayed table is created with OR REPLACE, so running it again is harmless).
    """
    raw = con.con
    with _lock:
        prepared: OrderedDict[str, str] = con.__dict__.setdefault("_toprated_prepared", OrderedDict())
        names = [prepared.get(s) for s in statements]
        for s, name in zip(statements, names, strict=True):
            if name is not None:
                prepared.move_to_end(s)
    batch = "; ".join(f"EXECUTE {name}" if name else s for s, name in zip(statements, names, strict=True))
    try:
        raw.execute(batch)
    except Exception:
        if not any(names):
            raise
        with _lock:
            for s in statements:
                prepared.pop(s, None)
        raw.execute("; ".join(statements))
        return
    for s, name, keep in zip(statements, names, fixed, strict=True):
        if keep and name is None and s.startswith(_PREPARABLE):
            _prepare(con, prepared, s)


def _prepare(con: ibis.BaseBackend, prepared: OrderedDict[str, str], statement: str) -> None:
    """PREPARE `statement` under a name of its own; the least recently run beyond `PREPARED` go."""
    with _lock:
        if statement in prepared:
            return
        number = con.__dict__.get("_toprated_prepared_count", 0)
        con.__dict__["_toprated_prepared_count"] = number + 1
    name = f"_toprated_prepared_{number}"
    try:
        con.con.execute(f"PREPARE {name} AS {statement}")
    except Exception:  # not preparable after all: it keeps running as text
        return
    evicted = []
    with _lock:
        prepared[statement] = name
        while len(prepared) > PREPARED:
            evicted.append(prepared.popitem(last=False)[1])
    for old in evicted:
        con.con.execute(f"DEALLOCATE {old}")
