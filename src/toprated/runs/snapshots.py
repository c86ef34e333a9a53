"""Weekly snapshots, badge transitions and stored removal decisions, in the store's database.

A snapshot is the evaluation of every entity on one weekly point: JSS, the weekly-point flag, each
badge held, and every criterion's value and met. It is a cache and an audit trail of the pure
function (event log, programme, date) → badges (DESIGN.md), never a second source of truth: the
13-of-16 rule reads the 15 earlier points from it instead of recomputing them, and re-running a
week replaces it atomically.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from toprated.evaluation.engine import BADGES
from toprated.metrics.asof import union_all

SNAPSHOTS = "snapshots"
TRANSITIONS = "badge_transitions"
DECISIONS = "removal_decisions"
RUNS = "weekly_runs"

BASE = ["entity_id", "entity_kind", "jss", "eligible_weeks", "point_ok", "agency_badge"]


def _snapshot_columns(fr: ir.Table, ag: ir.Table, windows: list[int]) -> list[tuple[str, dt.DataType]]:
    """The snapshot's columns: the same for freelancers and agencies (missing ones are null)."""
    names = [*BASE, *(f"jss_{m}m" for m in windows), *(f"{b}_held" for b in BADGES)]
    for t in (fr, ag):
        names += [c for c in t.columns if c.endswith(("__value", "__met")) and c not in names]
    out = []
    for name in names:
        types = {t.schema()[name] for t in (fr, ag) if name in t.columns}
        if not types:
            raise ValueError(f"snapshot column {name} is in neither table")
        typ = types.pop() if len(types) == 1 else dt.string
        out.append((name, typ.copy(nullable=True)))
    return out


def snapshot_rows(fr: ir.Table, ag: ir.Table, week: date, programme: str, windows: list[int]) -> ir.Table:
    """One row per entity for `week`, from the engine's freelancer and agency tables."""
    cols = _snapshot_columns(fr, ag, windows)

    def aligned(t: ir.Table) -> ir.Table:
        return t.select(**{name: (t[name].cast(typ) if name in t.columns else ibis.null(typ)) for name, typ in cols})

    rows = union_all(aligned(fr), aligned(ag))
    return rows.mutate(week=ibis.literal(week, type="date"), programme=ibis.literal(programme))


def transition_rows(current: ir.Table, previous: ir.Table, week: date) -> ir.Table:
    """Badges gained and lost since the previous week, with the criteria that fail on a loss."""
    prev = previous.select(_pe=previous.entity_id, **{f"_p_{b}": previous[f"{b}_held"] for b in BADGES})
    j = current.left_join(prev, current.entity_id == prev._pe)
    parts = []
    for b in BADGES:
        before = j[f"_p_{b}"].fill_null(False)
        now = j[f"{b}_held"].fill_null(False)
        names = [
            c[len(b) + 2 : -len("__met")] for c in current.columns if c.startswith(f"{b}__") and c.endswith("__met")
        ]
        failing = ibis.literal("")
        for n in names:
            # null: the criterion is not one of this kind of entity's (agency-only, freelancer-only)
            failing = failing + ibis.cases(((~j[f"{b}__{n}__met"]).fill_null(False), f",{n}"), else_="")
        changed = j.filter(before != now)
        parts.append(
            changed.select(
                week=ibis.literal(week, type="date"),
                entity_id=changed.entity_id,
                entity_kind=changed.entity_kind,
                badge=ibis.literal(b),
                change=ibis.cases((now, "gained"), else_="lost"),
                failing=ibis.cases((now, ""), else_=failing.substr(1)),
                jss=changed.jss,
            )
        )
    return union_all(*parts)


@contextlib.contextmanager
def transaction(con: ibis.BaseBackend) -> Iterator[Callable[[str], None]]:
    """Run SQL statements in one transaction of the backend's own connection: all or nothing."""
    if con.name == "postgres":
        raw = con.con
        with raw.transaction(), raw.cursor() as cur:
            yield lambda sql: cur.execute(sql)
        return
    if con.name == "duckdb":
        raw = con.con
        raw.execute("BEGIN TRANSACTION")
        try:
            yield lambda sql: raw.execute(sql).fetchall()
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
        return
    raise ValueError(f"no transactions for the {con.name} backend")


def table_exists(con: ibis.BaseBackend, name: str) -> bool:
    """Whether the table exists (ibis 12's `list_tables` fails on DuckDB 2.0's connection objects)."""
    try:
        con.table(name)
    except Exception:
        return False
    return True


def ensure_table(con: ibis.BaseBackend, name: str, schema: ibis.Schema) -> None:
    """Create the table on first use; refuse one written by another version of the engine."""
    if not table_exists(con, name):
        con.create_table(name, schema=schema)
        return
    have = con.table(name).schema()
    if list(have.names) != list(schema.names):
        from toprated.errors import UserError

        raise UserError(
            f"the stored table {name} has other columns than this version of toprated writes; "
            f"drop it (it is a cache of the event log) and run the backfill again"
        )


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def replace_rows(execute: Callable[[str], None], table: str, source: str, columns: list[str], where: str) -> None:
    """DELETE the rows matching `where`, then INSERT those of `source`, inside the caller's transaction."""
    cols = ", ".join(quote(c) for c in columns)
    execute(f"DELETE FROM {quote(table)} WHERE {where}")
    execute(f"INSERT INTO {quote(table)} ({cols}) SELECT {cols} FROM {quote(source)}")


def stored_weeks(con: ibis.BaseBackend, programme: str) -> set[date]:
    if not table_exists(con, RUNS):
        return set()
    r = con.table(RUNS)
    return set(r.filter(r.programme == programme).week.to_pyarrow().to_pylist())
