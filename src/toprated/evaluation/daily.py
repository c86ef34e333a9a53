"""Entity-day tables: every fact a criterion reads, per freelancer or agency and calendar day.

These are the columns `toprated.evaluation.criteria` refers to. Built once per evaluation over the
calendar (the as-of day, its weekly points, and the projection days). The main steps are kept as
temporary tables in the backend (see `toprated.evaluation.scratch`): one giant expression compiles to hundreds of KB
of SQL with every shared step repeated, which costs more to compile and plan than to run.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from toprated.evaluation import criteria as rules
from toprated.evaluation.scratch import Scratch
from toprated.metrics.agency import agency_profile_by_day, member_aggregates, members_by_day
from toprated.metrics.calendar import Cal
from toprated.metrics.contracts import MONEY, contract_days, money, payments_on
from toprated.metrics.freelancer import (
    availability_by_day,
    earnings_by_day,
    last_activity_by_day,
    manual_badges_by_day,
    profile_by_day,
    readiness,
)
from toprated.metrics.jss import AGENCY, FREELANCER, entity_contracts, jss_by_day, jss_columns
from toprated.metrics.sources import Sources
from toprated.metrics.standing import standing_by_day
from toprated.programme import Programme


def _join(left: ir.Table, right: ir.Table, left_key: str = "entity_id", right_key: str = "entity_id") -> ir.Table:
    """Left-join a per-(key, at) fact table, keeping the left side's key columns."""
    r = right.rename({"_k": right_key, "_at": "at"})
    j = left.left_join(r, [left[left_key] == r._k, left.at == r._at])
    return j.drop("_k", "_at")


@dataclass(frozen=True)
class EntityDays:
    freelancers: ir.Table
    agencies: ir.Table
    members: ir.Table  # (agency_id, member_id, at, is_owner)
    contracts: ir.Table  # entity contract-days, for explanations (unless evaluated without them)


def _profile_ok(completeness: ir.IntegerValue, photo: ir.BooleanValue, elance: ir.BooleanValue, p: Programme):
    required = ibis.cases((elance, p.profile.elance_required_completeness), else_=p.profile.required_completeness)
    ok = completeness >= required
    if p.profile.photo_required:
        ok = ok & photo
    return ok.fill_null(False)


def jss_days(
    src: Sources,
    cal: Cal,
    p: Programme,
    removals: ir.Table,
    scratch: Scratch,
    paid: ir.Table | None = None,
    ledger: ir.Table | None = None,
    contracts: bool = True,
) -> tuple[ir.Table, ir.Table]:
    """Contract-days as each entity's JSS sees them, and the JSS per (entity, kind, day).

    `contracts=False`: the contract-days hold only the columns the JSS reads (`jss_columns`), for
    evaluations that show no contract."""
    cd = contract_days(src, cal, p, paid, ledger)
    # kept: the freelancer's and the agency's view of a contract both read it (computed once). Those
    # views are not kept: the JSS reads them once, and an explanation reads one entity's rows.
    cd = scratch.keep(cd if contracts else cd.select(*jss_columns(p)))
    ec = entity_contracts(cd, removals)
    return ec, scratch.keep(jss_by_day(ec, p, cal.single))


def entity_days(
    src: Sources,
    cal: Cal,
    p: Programme,
    removals: ir.Table,
    scratch: Scratch,
    ledger: ir.Table | None = None,
    contracts: bool = True,
) -> EntityDays:
    """`ledger`: the contracts' state on a one-day calendar's day (`toprated.metrics.ledger`), which
    then stands for their payments, feedback and rehires. `contracts=False`: `EntityDays.contracts`
    holds only what the JSS reads (see `jss_days`)."""
    # one day: each contract's payments are summed once, for its state, activity and earnings
    paid = ledger
    if paid is None and cal.single is not None:
        paid = scratch.keep(payments_on(src, cal))
    ec, jss = jss_days(src, cal, p, removals, scratch, paid, ledger, contracts)
    standing = scratch.keep(standing_by_day(src, cal))  # read for freelancers and agencies
    earnings = scratch.keep(earnings_by_day(src, cal, paid))
    manual = scratch.keep(manual_badges_by_day(src, cal))
    c = cal.select("at", "joined_from", "rt_active_from", "tr_active_from")

    # Freelancers -------------------------------------------------------------------------------
    f = src.freelancers
    fd = f.join(c, [f.day <= c.at, *cal.match(f.freelancer_id, c)]).select(
        entity_id=f.freelancer_id,
        entity_kind=ibis.literal(FREELANCER),
        at=c.at,
        joined_on=f.day,
        elance=(f.migrated_from == "elance").fill_null(False),
        joined_from=c.joined_from,
        rt_active_from=c.rt_active_from,
        tr_active_from=c.tr_active_from,
    )
    fd = _join(fd, jss.filter(jss.entity_kind == FREELANCER).drop("entity_kind"))
    fd = _join(fd, profile_by_day(src, cal), right_key="freelancer_id")
    fd = _join(fd, availability_by_day(src, cal), right_key="freelancer_id")
    fd = _join(fd, last_activity_by_day(src, cal, paid), right_key="freelancer_id")
    fd = _join(fd, earnings)
    fd = _join(fd, standing)
    fd = _join(fd, manual)
    r = readiness(src)
    fd = fd.left_join(r, fd.entity_id == r.freelancer_id).drop("freelancer_id")
    fd = fd.mutate(
        completeness=fd.completeness.fill_null(0),
        profile_ok=_profile_ok(fd.completeness.fill_null(0), fd.has_photo, fd.elance, p),
        availability_ok=(fd.available | (fd.return_on >= fd.at)).fill_null(False),
        readiness_ok=(fd.readiness_on <= fd.at).fill_null(False),
        active_rt=((fd.last_active > fd.rt_active_from) | (fd.joined_on > fd.joined_from)).fill_null(False),
        active_tr=(fd.last_active > fd.tr_active_from).fill_null(False),
        earnings_12m=fd.earnings_12m.fill_null(money(0)).cast(MONEY),
        holds=fd.holds.fill_null(0),
        violations=fd.violations.fill_null(0),
        off_platform_ban=fd.off_platform_ban.fill_null(0),
        own_ban=fd.off_platform_ban.fill_null(0),
        negative_recent=fd.negative_recent.fill_null(0),
        large_contracts=fd.large_contracts.fill_null(0),
        first_contract_age=fd.at.delta(fd.first_started, unit="day"),
    )

    # Agencies ----------------------------------------------------------------------------------
    fd = scratch.keep(fd)
    members = scratch.keep(members_by_day(src, cal))
    agg = member_aggregates(members, fd)
    a = src.agencies
    ad = a.join(c, [a.day <= c.at, *cal.match(a.agency_id, c)]).select(
        entity_id=a.agency_id, entity_kind=ibis.literal(AGENCY), at=c.at, owner_id=a.owner_id, created_on=a.day
    )
    ad = _join(ad, jss.filter(jss.entity_kind == AGENCY).drop("entity_kind"))
    ad = _join(ad, agency_profile_by_day(src, cal), right_key="agency_id")
    ad = _join(ad, agg, right_key="agency_id")
    ad = _join(ad, earnings)
    ad = _join(ad, standing)
    ad = _join(ad, manual)
    owner = fd.select(
        _owner=fd.entity_id,
        _oat=fd.at,
        owner_jss=fd.jss,
        owner_completeness=fd.completeness,
        owner_profile_ok=fd.profile_ok,
        owner_elance=fd.elance,
    )
    ad = ad.left_join(owner, [ad.owner_id == owner._owner, ad.at == owner._oat]).drop("_owner", "_oat")
    own_ban = ad.off_platform_ban.fill_null(0)
    ad = ad.mutate(
        members=ad.members.fill_null(0).cast("int64"),
        member_profiles=ad.member_profiles.fill_null(0.0),  # unrounded: 59.95 is under 60
        agency_profile_ok=ad.agency_profile_ok.fill_null(False),
        owner_completeness=ad.owner_completeness.fill_null(0),
        owner_profile_ok=ad.owner_profile_ok.fill_null(False),
        owner_elance=ad.owner_elance.fill_null(False),
        earnings_12m=ad.earnings_12m.fill_null(money(0)).cast(MONEY),
        holds=(ad.holds.fill_null(0) + ad.member_holds.fill_null(0)).cast("int64"),
        violations=(ad.violations.fill_null(0) + ad.member_violations.fill_null(0)).cast("int64"),
        off_platform_ban=(own_ban + ad.member_bans.fill_null(0)).cast("int64"),
        own_ban=own_ban,
        large_contracts=ad.large_contracts.fill_null(0),
        first_contract_age=ad.at.delta(ad.first_started, unit="day"),
        manual_expert_vetted=ibis.null("boolean"),
    )

    fd = scratch.keep(_with_rising_talent(fd, rules.rising_talent_freelancer(fd, p), p.top_rated.min_jss))
    ad = scratch.keep(_with_rising_talent(ad, rules.rising_talent_agency(ad, p), p.top_rated.agency.min_jss))
    return EntityDays(freelancers=fd, agencies=ad, members=members, contracts=ec)


def _with_rising_talent(d: ir.Table, crit: list[rules.Criterion], min_jss: int) -> ir.Table:
    """Rising Talent at every calendar day, and whether the day counts as a weekly point (§10)."""
    rt_held = rules.rising_talent_held(crit, d)
    return d.mutate(
        rising_talent_held=rt_held,
        point_ok=((d.jss >= min_jss).fill_null(False) | rt_held),
    )
