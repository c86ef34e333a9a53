"""Per-freelancer facts in force on each day: profile, availability, readiness, activity, earnings.

Each function returns one row per key and calendar day (`at`) where the fact exists; callers
left-join them onto the entity-days, so a missing row means "no such event yet".
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from toprated.metrics.asof import as_of, latest, ones, union_all
from toprated.metrics.calendar import Cal
from toprated.metrics.contracts import MONEY, money, payments_on, signed_amount, with_parties
from toprated.metrics.sources import Sources

ACTIVITY_KINDS = ("proposal", "invitation_accepted")


def profile_by_day(src: Sources, cal: Cal) -> ir.Table:
    """The latest `freelancer.profile_updated` up to each day (§10 "Profile")."""
    return latest(src.profiles, ["freelancer_id"], ["completeness", "has_photo"], cal)


def availability_by_day(src: Sources, cal: Cal) -> ir.Table:
    """The latest `freelancer.availability_updated` up to each day (§10 "Availability")."""
    return latest(src.availability, ["freelancer_id"], ["available", "return_on"], cal)


def readiness(src: Sources) -> ir.Table:
    """The day each freelancer first passed the readiness test (§2)."""
    r = src.readiness_tests
    return r.group_by("freelancer_id").aggregate(readiness_on=r.day.min())


def last_activity_by_day(src: Sources, cal: Cal, paid: ir.Table | None = None) -> ir.Table:
    """The last day with a proposal, an accepted invitation or a payment up to each day (§10 "Activity").

    A refund is not activity. `paid`: `payments_on(src, cal)` for a one-day calendar (each
    contract's last payment), else every payment is read.
    """
    act = src.activities
    a = act.filter(act.kind.isin(ACTIVITY_KINDS)).select("freelancer_id", "day")
    con = src.contracts
    if cal.single is not None:
        at = ibis.literal(cal.single["at"], type="date")
        if paid is None:
            paid = payments_on(src, cal)
        paid = with_parties(paid, con)
        last_paid = paid.select("freelancer_id", day=paid.last_paid)
        days = union_all(a.filter(a.day <= at), last_paid.filter(last_paid.day.notnull()))
        return days.group_by("freelancer_id").aggregate(last_active=days.day.max()).mutate(at=at)
    pay = src.payments
    paid_rows = pay.filter(~pay.refund).join(con, pay.contract_id == con.contract_id)
    days = union_all(a, paid_rows.select(con.freelancer_id, pay.day))
    days = days.distinct()
    days = days.mutate(last_active=days.day)
    return as_of(days, ["freelancer_id"], ["last_active"], cal)


def _for_each_entity(t: ir.Table, columns: list[str]) -> ir.Table:
    """`columns` of each row once for its contract's freelancer and, for an agency contract, once
    more for the agency (`entity_id`): a contract's money counts for both."""
    by_freelancer = t.select(*columns, entity_id=t.freelancer_id)
    by_agency = t.filter(t.agency_id.notnull())
    return union_all(by_freelancer, by_agency.select(*columns, entity_id=by_agency.agency_id))


def earnings_by_day(src: Sources, cal: Cal, paid: ir.Table | None = None) -> ir.Table:
    """`earnings_12m`: payments minus refunds dated in (at − N days, at], never below 0 (§10).

    Running totals per entity (freelancer and agency contracts) read at both ends of the window.
    `cal` needs the column `earn_from` (the window's exclusive lower bound). For a one-day calendar
    the sums per contract of `payments_on` (`paid`, if the caller has it) are added up instead.
    """
    con = src.contracts
    if cal.single is not None:
        if paid is None:
            paid = payments_on(src, cal)
        c = with_parties(paid.filter(paid.net_12m.notnull()), con).select("freelancer_id", "agency_id", "net_12m")
        flows = _for_each_entity(c, ["net_12m"])
        net = flows.group_by("entity_id").aggregate(net=flows.net_12m.sum())
        at = ibis.literal(cal.single["at"], type="date")
        return net.select("entity_id", at=at, earnings_12m=ibis.greatest(net.net, money(0)).cast(MONEY))
    pay = src.payments
    signed = signed_amount(pay)
    j = pay.join(con, pay.contract_id == con.contract_id).select(
        freelancer_id=con.freelancer_id, agency_id=con.agency_id, day=pay.day, amount=signed
    )
    flows = _for_each_entity(j, ["day", "amount"])
    daily = flows.group_by(["entity_id", "day"]).aggregate(net=flows.amount.sum())
    daily = daily.mutate(cum=daily.net.sum().over(ibis.cumulative_window(group_by=daily.entity_id, order_by=daily.day)))
    upto_at = as_of(daily, ["entity_id"], ["cum"], cal)
    upto_from = as_of(daily, ["entity_id"], ["cum"], cal, on="earn_from").rename(cum_from="cum")
    e = upto_at.left_join(upto_from, ["entity_id", "at"]).drop("entity_id_right", "at_right")
    value = ibis.greatest(e.cum - e.cum_from.fill_null(money(0)), money(0)).cast(MONEY)
    return e.select("entity_id", "at", earnings_12m=value)


def manual_badges_by_day(src: Sources, cal: Cal) -> ir.Table:
    """The latest manual act per entity and badge up to each day (§10 "Manual badges"), one column
    per badge: True (granted), False (revoked) or null (never acted on)."""
    s = latest(src.manual_badges, ["entity_id", "badge"], ["granted"], cal)
    return s.group_by(["entity_id", "at"]).aggregate(
        manual_rising_talent=ones(s.granted).max(where=s.badge == "rising_talent") > 0,
        manual_expert_vetted=ones(s.granted).max(where=s.badge == "expert_vetted") > 0,
    )
