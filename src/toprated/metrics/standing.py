"""Good standing per entity and day (programme.md §6 "Good standing", §10 "Holds", "Violations").

A hold counts if placed on or before D and not lifted, or lifted less than N days before D (lifted
on D − 89 counts, on D − 90 does not, with N = 90). A violation counts for M months; an
off-platform-payment violation bans Rising Talent, Top Rated and Top Rated Plus for longer.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from toprated.metrics.asof import ones
from toprated.metrics.calendar import Cal
from toprated.metrics.sources import Sources


def standing_by_day(src: Sources, cal: Cal) -> ir.Table:
    """Per (entity_id, at): holds in force, recent violations and the off-platform ban, own only.

    `cal` needs `hold_from` (at − cooldown days), `violation_from` and `ban_from` (months back).
    """
    h, lifts = src.holds, src.hold_lifts
    hl = h.left_join(lifts, h.hold_id == lifts.hold_id).select(h.entity_id, placed=h.day, lifted=lifts.day)
    c = cal.select("at", "hold_from", "violation_from", "ban_from")
    hj = hl.join(c, [hl.placed <= c.at, hl.lifted.isnull() | (hl.lifted > c.hold_from), *cal.match(hl.entity_id, c)])
    holds = hj.group_by(["entity_id", "at"]).aggregate(holds=hj.count())

    v = src.violations
    vj = v.join(c, [v.day <= c.at, v.day > ibis.least(c.violation_from, c.ban_from), *cal.match(v.entity_id, c)])
    recent = vj.day > vj.violation_from
    banned = (vj.kind == "off_platform_payment") & (vj.day > vj.ban_from)
    viol = vj.group_by(["entity_id", "at"]).aggregate(
        violations=ones(recent).sum(), off_platform_ban=ones(banned).sum()
    )
    both = holds.outer_join(viol, ["entity_id", "at"])
    return both.select(
        entity_id=both.entity_id.fill_null(both.entity_id_right),
        at=both.at.fill_null(both.at_right),
        holds=both.holds.fill_null(0).cast("int64"),
        violations=both.violations.fill_null(0).cast("int64"),
        off_platform_ban=both.off_platform_ban.fill_null(0).cast("int64"),
    )
