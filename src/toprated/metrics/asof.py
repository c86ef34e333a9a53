""" "The latest fact up to day D", for every day of a calendar, in one range join.

Each fact row becomes an interval [day, next fact's day) per key; joining the intervals to the
calendar gives, for each key and calendar day, the fact in force. This is the one mechanism behind
every "latest … up to D" of programme.md §10 (profiles, availability, feedback, memberships,
manual badges) and behind running totals (earnings), and it runs on every Ibis engine: no ASOF
join, no interval arithmetic, only window functions and a non-equi join.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import ibis
import ibis.expr.types as ir

from toprated.metrics.calendar import Cal

END_OF_TIME = ibis.literal(date(9999, 12, 31), type="date")


def last_of_day(t: ir.Table, keys: Sequence[str]) -> ir.Table:
    """Keep, per key and day, the fact that happened last (by UTC instant, then event id)."""
    rank = ibis.row_number().over(
        group_by=[t[k] for k in (*keys, "day")], order_by=[ibis.desc(t.ts), ibis.desc(t.event_id)]
    )
    return t.mutate(_rank=rank).filter(lambda r: r._rank == 0).drop("_rank")


def as_of(
    facts: ir.Table,
    keys: Sequence[str],
    values: Sequence[str],
    cal: Cal,
    on: str = "at",
) -> ir.Table:
    """For each key and calendar row, `values` of the latest fact whose day is on or before cal[on].

    `facts` must have at most one row per key and day (see `last_of_day`). The result has the keys,
    the calendar's `at` and the values; keys with no fact yet at a calendar day have no row there.
    A keyed calendar's entity is matched with the first key.
    """
    if cal.single is not None:
        # One day: the latest fact per key is a filter and a group-by, no window over the history.
        upto = facts.filter(facts.day <= ibis.literal(cal.single[on], type="date"))
        last = upto.group_by(list(keys)).aggregate(_last=upto.day.max())
        j = upto.join(last, [*(upto[k] == last[k] for k in keys), upto.day == last._last])
        return j.select(
            *(upto[k] for k in keys), at=ibis.literal(cal.single["at"], type="date"), **{v: upto[v] for v in values}
        )
    w = ibis.window(group_by=[facts[k] for k in keys], order_by=facts.day)
    # An open end is a far-future day rather than NULL: a plain `from <= day < to` lets engines use
    # a range join (DuckDB's IEJoin) instead of comparing every fact with every calendar day.
    iv = facts.select(*keys, *values, _from=facts.day, _to=facts.day.lead().over(w).fill_null(END_OF_TIME))
    c = cal.select(at=cal.table.at, _on=cal.table[on])
    j = iv.join(c, [iv._from <= c._on, c._on < iv._to, *cal.match(iv[keys[0]], c)])
    return j.select(*keys, "at", *values)


def latest(facts: ir.Table, keys: Sequence[str], values: Sequence[str], cal: Cal) -> ir.Table:
    """For each key and calendar row, `values` of the last fact up to that day: the last day's, and
    of that day's the last by UTC instant, then event id (`as_of` of `last_of_day`).

    On a one-day calendar this is a single ranking of the facts up to the day.
    """
    if cal.single is None:
        return as_of(last_of_day(facts, keys), keys, values, cal)
    at = ibis.literal(cal.single["at"], type="date")
    return last_facts(facts.filter(facts.day <= at), keys, values).mutate(at=at)


def last_facts(facts: ir.Table, keys: Sequence[str], values: Sequence[str]) -> ir.Table:
    """Per key, `values` of the last of `facts`: by day, then UTC instant, then event id.

    On DuckDB, one aggregate per key (the values of the row with the greatest (day, instant, id))
    rather than a ranking window: at a million freelancers, the latest profiles took 0.26 s against
    0.37 s. Elsewhere the window: Ibis gives PostgreSQL that aggregate through JSON, which loses
    the values' types."""
    if _backend_name(facts) == "duckdb":
        order = ibis.struct({"_day": facts.day, "_ts": facts.ts, "_id": facts.event_id})
        last = facts.group_by(list(keys)).aggregate(_last=ibis.struct({v: facts[v] for v in values}).argmax(order))
        return last.select(*keys, **{v: last._last[v] for v in values})
    rank = ibis.row_number().over(
        group_by=[facts[k] for k in keys],
        order_by=[ibis.desc(facts.day), ibis.desc(facts.ts), ibis.desc(facts.event_id)],
    )
    ranked = facts.mutate(_rank=rank).filter(lambda r: r._rank == 0)
    return ranked.select(*(ranked[k] for k in keys), **{v: ranked[v] for v in values})


def _backend_name(t: ir.Table) -> str | None:
    """The name of the backend an expression runs on (None when it cannot tell)."""
    try:
        return t._find_backend(use_default=True).name
    except Exception:  # tables of several backends, or none: the portable path
        return None


def ones(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1 where the condition holds, else 0: for counting with SUM (PostgreSQL cannot cast bool to int)."""
    return ibis.cases((condition, 1), else_=0).cast("int64")


def union_all(first: ir.Table, *rest: ir.Table) -> ir.Table:
    """UNION ALL of tables with the same columns; NOT NULL differences are dropped first."""

    def loose(t: ir.Table) -> ir.Table:
        return t.cast({name: typ.copy(nullable=True) for name, typ in t.schema().items()})

    out = loose(first)
    for t in rest:
        out = out.union(loose(t))
    return out
