"""Agency facts per day: members, members' profiles and standing, the agency profile (§2, §3, §10).

Members are the owner (always, whatever join/leave events say) plus everyone whose latest join or
leave up to D is a join (§10 "Agency members").
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from toprated.metrics.asof import latest, union_all
from toprated.metrics.calendar import Cal
from toprated.metrics.sources import Sources


def members_by_day(src: Sources, cal: Cal) -> ir.Table:
    """(agency_id, member_id, at, is_owner) for every member of every agency on each day."""
    s = latest(src.memberships, ["agency_id", "freelancer_id"], ["joined"], cal)
    a = src.agencies
    s = s.join(a.select("agency_id", "owner_id"), "agency_id")
    joined = s.filter(s.joined & (s.freelancer_id != s.owner_id)).select(
        "agency_id", member_id=s.freelancer_id, at=s.at, is_owner=ibis.literal(False)
    )
    c = cal.select("at")
    owners = a.join(c, [a.day <= c.at, *cal.match(a.agency_id, c)]).select(
        "agency_id", member_id=a.owner_id, at=c.at, is_owner=ibis.literal(True)
    )
    return union_all(owners, joined)


def agency_profile_by_day(src: Sources, cal: Cal) -> ir.Table:
    """The latest `agency.profile_updated` up to each day: complete when logo, overview and services."""
    s = latest(src.agency_profiles, ["agency_id"], ["has_logo", "has_overview", "has_services"], cal)
    return s.select("agency_id", "at", agency_profile_ok=s.has_logo & s.has_overview & s.has_services)


def member_aggregates(members: ir.Table, freelancer_days: ir.Table) -> ir.Table:
    """Per (agency_id, at): member count, average profile completeness, members' standing problems.

    `freelancer_days` must carry per (entity_id, at): `completeness`, `holds`, `violations`,
    `off_platform_ban` (own facts of each freelancer).
    """
    f = freelancer_days.select(
        member_id=freelancer_days.entity_id,
        at=freelancer_days.at,
        completeness=freelancer_days.completeness,
        holds=freelancer_days.holds,
        violations=freelancer_days.violations,
        off_platform_ban=freelancer_days.off_platform_ban,
    )
    j = members.left_join(f, ["member_id", "at"]).drop("member_id_right", "at_right")
    return j.group_by(["agency_id", "at"]).aggregate(
        members=j.member_id.nunique(),
        member_profiles=j.completeness.fill_null(0).cast("float64").mean(),
        member_holds=j.holds.fill_null(0).sum(),
        member_violations=j.violations.fill_null(0).sum(),
        member_bans=j.off_platform_ban.fill_null(0).sum(),
    )
