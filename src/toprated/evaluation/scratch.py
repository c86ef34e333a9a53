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
import ibis.expr.types as ir
import pyarrow as pa

_counter = itertools.count()


class Scratch:
    """Creates uniquely named temporary tables and drops them on `close()` (or leaving a `with`)."""

    def __init__(self, con: ibis.BaseBackend) -> None:
        self.con = con
        self.names: list[str] = []
        self.cached: list[ir.Table] = []

    @staticmethod
    def _name() -> str:
        return f"_toprated_{os.getpid()}_{next(_counter)}"

    def keep(self, obj: ir.Table | pa.Table) -> ir.Table:
        if self.con.name == "pyspark":
            # Spark has no temporary tables through ibis: persist the DataFrame instead (same effect:
            # computed once, read many times), released on close.
            expr = obj if isinstance(obj, ir.Table) else self.con.create_view(self._name(), ibis.memtable(obj))
            cached = expr.cache()
            self.cached.append(cached)
            return cached
        name = self._name()
        self.con.create_table(name, obj, temp=True)
        self.names.append(name)
        return self.con.table(name)

    def close(self) -> None:
        while self.cached:
            with contextlib.suppress(Exception):
                self.cached.pop().release()
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
