"""The rule book: every criterion of every badge, for freelancers and agencies, in one place.

Each function lists the criteria of one badge exactly as spec/programme.md states them, with the
names of spec/output.md. A criterion is (name, value, met, required): `value` and `met` are Ibis
expressions over the entity-day table built by `toprated.evaluation.engine`, `required` is the
text shown to people. Every number comes from the programme file; to change a threshold, edit the
TOML, not this file.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from toprated.metrics.contracts import money
from toprated.programme import Programme

#: Criteria that cannot go from unmet to met unless a new event arrives: with no event after D,
#: a profile, a readiness test, an availability (a passed return date stays passed), a last activity
#: (it only ages), the members and their profiles, the agency profile, a large contract (its
#: earnings, outcome and dispute are fixed; its last payment only ages) and a manual grant stay as
#: they are. A badge failing one of them at D has no `qualifies_on`, so projecting it is skipped.
STATIC = frozenset(
    {
        "profile",
        "owner_profile",
        "readiness_test",
        "availability",
        "activity",
        "members",
        "member_profiles",
        "agency_profile",
        "large_contract",
        "vetted",
    }
)


@dataclass(frozen=True)
class Criterion:
    name: str
    value: ir.Value
    met: ir.BooleanValue
    required: str | ir.StringValue


def _c(name: str, value: ir.Value, met: ir.BooleanValue, required: str | ir.StringValue) -> Criterion:
    return Criterion(name, value, met.fill_null(False), required)


def _usd(amount: object) -> str:
    return f"${amount:,}"


# Shared conditions (§6) ---------------------------------------------------------------------------


def profile(d: ir.Table, p: Programme, name: str = "profile") -> Criterion:
    """§10 "Profile": completeness ≥ 100 (≥ 90 if migrated from Elance) and a photo.

    `d` carries `<prefix>completeness`, `<prefix>profile_ok`, `<prefix>elance` (prefix `owner_`
    for the agency owner's profile).
    """
    prefix = "owner_" if name == "owner_profile" else ""
    photo = " with a photo" if p.profile.photo_required else ""
    required = ibis.cases(
        (d[f"{prefix}elance"], f">= {p.profile.elance_required_completeness}%{photo} (Elance profile)"),
        else_=f">= {p.profile.required_completeness}%{photo}",
    )
    return _c(name, d[f"{prefix}completeness"], d[f"{prefix}profile_ok"], required)


def availability(d: ir.Table) -> Criterion:
    """§6 "Availability up to date": available, or not available with a return date not yet past."""
    return _c("availability", d.availability_ok, d.availability_ok, "available, or a return date not yet past")


def standing(d: ir.Table, p: Programme) -> Criterion:
    """§6 "Good standing": no hold in force or lifted < N days ago, no recent violation, no ban.

    For agencies the columns already cover the agency and every member (§10 "Agency members").
    """
    s = p.standing
    value = ibis.cases(
        (d.holds > 0, "account hold"),
        (d.violations > 0, "terms-of-service violation"),
        (d.off_platform_ban > 0, "off-platform payment ban"),
        else_="good",
    )
    required = (
        f"no hold in force or lifted in the last {s.hold_cooldown_days} days, no violation in "
        f"{s.violation_months} months, no off-platform payment in {s.off_platform_ban_months} months"
    )
    return _c("standing", value, (d.holds == 0) & (d.violations == 0) & (d.off_platform_ban == 0), required)


def earnings(d: ir.Table, minimum: object, days: int) -> Criterion:
    """§10 "Earnings in the last 365 days": payments minus refunds in the window, never below 0."""
    return _c("earnings_12m", d.earnings_12m, d.earnings_12m >= money(minimum), f">= {_usd(minimum)} in {days} days")


def first_contract_age(d: ir.Table, min_days: int) -> Criterion:
    """§10 "First contract age": days since the earliest contract started, more than N."""
    return _c("first_contract_age", d.first_contract_age, d.first_contract_age > min_days, f"> {min_days} days")


def jss_at_least(d: ir.Table, minimum: int, name: str = "jss", column: str = "jss") -> Criterion:
    return _c(name, d[column], d[column] >= minimum, f">= {minimum}")


def no_jss(d: ir.Table) -> Criterion:
    """§2: Rising Talent is for talent without a JSS yet."""
    return _c("no_jss", d.jss, d.jss.isnull(), "no JSS yet")


def members(d: ir.Table, minimum: int) -> Criterion:
    return _c("members", d.members, d.members >= minimum, f">= {minimum}")


def member_profiles(d: ir.Table, minimum: int) -> Criterion:
    """Members' average profile completeness, owner included (§10 "Agency members")."""
    return _c("member_profiles", d.member_profiles, d.member_profiles >= minimum, f"average >= {minimum}%")


def agency_profile(d: ir.Table) -> Criterion:
    return _c("agency_profile", d.agency_profile_ok, d.agency_profile_ok, "logo, overview and services")


# Badges -------------------------------------------------------------------------------------------


def rising_talent_freelancer(d: ir.Table, p: Programme) -> list[Criterion]:
    """§2 Rising Talent (freelancer): all must hold at D."""
    rt = p.rising_talent
    return [
        no_jss(d),
        _c("readiness_test", d.readiness_ok, d.readiness_ok, "passed"),
        profile(d, p),
        availability(d),
        _c(
            "activity",
            d.last_active,
            d.active_rt,
            f"activity in the last {rt.activity_days} days, or joined in the last {rt.joined_recently_days} days",
        ),
        _c(
            "no_negative_outcome",
            d.negative_recent,
            d.negative_recent == 0,
            f"no negative outcome in {rt.negative_outcome_lookback_months} months",
        ),
        standing(d, p),
    ]


def rising_talent_agency(d: ir.Table, p: Programme) -> list[Criterion]:
    """§2 Agency Rising Talent."""
    a = p.rising_talent.agency
    return [
        no_jss(d),
        members(d, a.min_members),
        agency_profile(d),
        profile(d, p, "owner_profile"),
        member_profiles(d, a.member_profiles_min_average),
        standing(d, p),
    ]


def eligible_weeks(d: ir.Table, p: Programme) -> Criterion:
    """§3.3 / §10 "Weekly points": JSS ≥ min or Rising Talent at ≥ 13 of the 16 weekly points."""
    tr = p.top_rated
    return _c(
        "eligible_weeks",
        d.eligible_weeks,
        d.eligible_weeks >= tr.weeks_required,
        f">= {tr.weeks_required} of {tr.weeks_window}",
    )


def top_rated_freelancer(d: ir.Table, p: Programme) -> list[Criterion]:
    """§3 Top Rated (freelancer), criteria 1–8 in the spec's order."""
    tr = p.top_rated
    return [
        jss_at_least(d, tr.min_jss),
        first_contract_age(d, tr.first_contract_min_days),
        eligible_weeks(d, p),
        profile(d, p),
        earnings(d, tr.min_earnings_12m, tr.earnings_days),
        availability(d),
        standing(d, p),
        _c("activity", d.last_active, d.active_tr, f"activity in the last {tr.activity_days} days"),
    ]


def top_rated_agency(d: ir.Table, p: Programme) -> list[Criterion]:
    """§3 Top Rated (agency)."""
    a = p.top_rated.agency
    return [
        jss_at_least(d, a.min_jss),
        _c(
            "owner_jss",
            d.owner_jss,
            d.owner_jss.isnull() | (d.owner_jss >= a.min_owner_jss),
            f">= {a.min_owner_jss} if the owner has a JSS",
        ),
        members(d, a.min_members),
        earnings(d, a.min_earnings_12m, p.top_rated.earnings_days),
        profile(d, p, "owner_profile"),
        member_profiles(d, a.member_profiles_min_average),
        agency_profile(d),
        standing(d, p),
        first_contract_age(d, a.first_contract_min_days),
        eligible_weeks(d, p),
    ]


def top_rated_plus(d: ir.Table, p: Programme, agency: bool) -> list[Criterion]:
    """§4 Top Rated Plus: holds Top Rated, earnings, and one large contract (§10)."""
    t = p.top_rated_plus
    minimum = t.agency_min_earnings_12m if agency else t.min_earnings_12m
    return [
        _c("top_rated", d.top_rated_held, d.top_rated_held, "holds Top Rated"),
        earnings(d, minimum, p.top_rated.earnings_days),
        _c(
            "large_contract",
            d.large_contracts,
            d.large_contracts >= 1,
            "one contract over its category's threshold, paid in the last "
            f"{t.large_contract_payment_days} days, no negative outcome",
        ),
    ]


def expert_vetted(d: ir.Table) -> list[Criterion]:
    """§5 Expert-Vetted: held exactly while the latest manual act is a grant (§10)."""
    return [_c("vetted", d.manual_expert_vetted, d.manual_expert_vetted, "passed vetting (granted by an operator)")]


def held(criteria: list[Criterion]) -> ir.BooleanValue:
    met = criteria[0].met
    for c in criteria[1:]:
        met = met & c.met
    return met


def rising_talent_held(criteria: list[Criterion], d: ir.Table) -> ir.BooleanValue:
    """§10 "Manual badges": the latest manual act overrides the criteria; the entity's own
    off-platform-payment ban beats a grant."""
    return ibis.cases(
        (d.manual_rising_talent.isnull(), held(criteria)),
        (d.manual_rising_talent, d.own_ban == 0),
        else_=False,
    )
