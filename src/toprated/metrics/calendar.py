"""Dates of an evaluation, computed in Python (spec/programme.md §10 "Months").

Window bounds are plain DATE columns of a small calendar table joined to the facts, never SQL
interval arithmetic: engines disagree on month arithmetic and on what `date - INTERVAL` returns.
Every bound is *exclusive*: "in the last N days at D" is the half-open interval (D − N days, D].
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import ibis.expr.types as ir
import pyarrow as pa

ENTITY = "cal_entity"  # the entity column of a keyed calendar

_ARROW = {"date": pa.date32(), "string": pa.string(), "int64": pa.int64(), "boolean": pa.bool_()}


def arrow_table(columns: dict[str, list], schema: dict[str, str]) -> pa.Table:
    """A small table made in Python, typed explicitly (an empty list has no type of its own)."""
    return pa.table({name: pa.array(columns[name], type=_ARROW[typ]) for name, typ in schema.items()})


def months_before(day: date, months: int) -> date:
    """The same day number `months` calendar months earlier, clamped to that month's last day."""
    total = day.year * 12 + (day.month - 1) - months
    year, month0 = divmod(total, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class Calendar:
    """The days an evaluation looks at and, for each, the lower bounds of every window it needs.

    `day_bounds` and `month_bounds` name the windows: {"d90": 90} gives a column `d90` holding
    D − 90 days for each day D (so "within the last 90 days" is `x > d90`).
    """

    def __init__(
        self,
        days: Iterable[date],
        day_bounds: dict[str, int],
        month_bounds: dict[str, int],
        pairs: Iterable[tuple[str, date]] | None = None,
    ) -> None:
        self.pairs = sorted(set(pairs)) if pairs is not None else None
        self.days = sorted({d for _, d in self.pairs}) if self.pairs is not None else sorted(set(days))
        self.day_bounds = dict(day_bounds)
        self.month_bounds = dict(month_bounds)

    def rows(self) -> dict[str, list]:
        """One row per day, or with `pairs`, one per (entity, day) with the entity in `ENTITY`."""
        bounds: dict[str, dict[date, date]] = {}
        for name, n in self.day_bounds.items():
            bounds[name] = {d: d - timedelta(days=n) for d in self.days}
        for name, n in self.month_bounds.items():
            bounds[name] = {d: months_before(d, n) for d in self.days}
        days = list(self.days) if self.pairs is None else [d for _, d in self.pairs]
        cols: dict[str, list] = {"at": days}
        cols.update({name: [b[d] for d in days] for name, b in bounds.items()})
        if self.pairs is not None:
            cols[ENTITY] = [e for e, _ in self.pairs]
        return cols

    def arrow(self) -> pa.Table:
        cols = self.rows()
        return arrow_table(cols, {name: "string" if name == ENTITY else "date" for name in cols})


@dataclass(frozen=True)
class Cal:
    """A calendar as the metrics see it: the table to join, and, when it holds a single day, that
    row's values, so that metrics can aggregate directly instead of joining intervals (the weekly
    run evaluates one day; sorting whole histories for it would cost most of the run).

    A *keyed* calendar lists (entity, day) pairs instead of days (column `ENTITY`): each entity is
    evaluated on its own days only. Every join of facts to it also matches the fact's key to the
    entity (`match`). Rows for other (entity, day) pairs may come out of a keyed evaluation, built
    from partial facts: read only the pairs asked for.
    """

    table: ir.Table
    single: dict[str, date] | None = None
    keyed: bool = False

    @classmethod
    def of(cls, table: ir.Table, calendar: Calendar) -> Cal:
        if calendar.pairs is not None:
            return cls(table, None, keyed=True)
        rows = calendar.rows()
        single = {k: v[0] for k, v in rows.items()} if len(calendar.days) == 1 else None
        return cls(table, single)

    @property
    def columns(self) -> list[str]:
        """The day and its bounds (without the entity of a keyed calendar)."""
        return [c for c in self.table.columns if c != ENTITY]

    def select(self, *columns: str, **named: ir.Value) -> ir.Table:
        """These calendar columns, and the entity when keyed (to be matched with `match`)."""
        keep = [ENTITY] if self.keyed else []
        return self.table.select(*columns, *keep, **named)

    def match(self, key: ir.Value, days: ir.Table) -> list[ir.BooleanValue]:
        """The join predicate tying a fact's key to a keyed calendar's entity (none when not keyed)."""
        return [key == days[ENTITY]] if self.keyed else []
