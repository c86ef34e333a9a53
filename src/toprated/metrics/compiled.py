"""SQL compiled once per connection, for the statements a process makes again and again.

Explaining one entity builds the same Ibis expressions each time: they read temporary tables whose
names do not change from one explanation to the next (see `toprated.evaluation.scratch`). Compiling
an expression costs milliseconds, often more than running its SQL on a few rows; an expression
compares equal to an earlier one of the same structure (table names and columns included), so its
SQL is looked up instead. DuckDB only: other backends compile as they always do.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import ibis
import ibis.expr.types as ir
import pyarrow as pa

#: How many compiled statements a connection keeps.
COMPILED = 256

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


def fetch(t: ir.Table) -> pa.Table:
    """`t.to_pyarrow()`, with the SQL of an expression seen before on the connection reused."""
    con = t._find_backend()
    if con.name != "duckdb":
        return t.to_pyarrow()
    from ibis.backends.duckdb.converter import DuckDBPyArrowData

    sql = remembered(con, ("fetch", t.op()), lambda: con.compile(t))
    con._run_pre_execute_hooks(t)  # registers memtables
    return t.__pyarrow_result__(con.con.sql(sql).to_arrow_table(), data_mapper=DuckDBPyArrowData)
