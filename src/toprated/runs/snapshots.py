"""Weekly snapshots, badge transitions and stored removal decisions, in the store's database.

A snapshot is the evaluation of every entity on one weekly point: JSS, the weekly-point flag, each
badge held, and every criterion's value and met. It is a cache and an audit trail of the pure
function (event log, programme, date) → badges (DESIGN.md), never a second source of truth: the
13-of-16 rule reads the 15 earlier points from it instead of recomputing them, and re-running a
week replaces it atomically.
"""

from __future__ import annotations

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
#: Each entity's weekly-point flag (JSS ≥ 90 or Rising Talent, §10 "Weekly points") per day: what
#: the 13-of-16 rule of later weeks reads. A run that evaluates all 16 points stores all of them,
#: so a backfill from scratch evaluates 16 days once and one day per week after that.
POINTS = "weekly_points"
#: Every table a weekly run writes, in the order it writes them (runs last: it marks the week done).
RUN_TABLES = (SNAPSHOTS, TRANSITIONS, DECISIONS, POINTS, RUNS)

#: `points_mask`: the 16 weekly points' flags as bits (this week's is bit 0, a week earlier bit 1, …):
#: the next week's 13-of-16 rule reads it instead of 15 stored points per entity.
BASE = ["entity_id", "entity_kind", "jss", "eligible_weeks", "points_mask", "point_ok", "agency_badge"]


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
