"""Agency Top Rated and Top Rated Plus, and the agency badge on members (programme.md §3 "Agency",
§4, §10 "Agency members", "Agency badge on members", "Whose contracts").

Each agency is a typical Top Rated agency (`top_agency`: owner without a JSS, one member doing
four $3,000 agency jobs, agency JSS 100, $12,000 in 365 days) with one thing changed.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import Histories, Market, ago, later, top_agency

histories = Histories(project=True)

S = {"public": 5.0, "private": 10}
N = {"public": 4.0, "private": None}


@pytest.fixture(scope="module")
def out():
    return histories.evaluate()


@histories
def _typical(m: Market):
    top_agency(m, "a-tr")
    # more members: profile 60 (no JSS), 59 (no JSS), and one who left
    for fid, profile in (("a-tr-m60", 60), ("a-tr-m59", 59), ("a-tr-gone", 100)):
        m.freelancer(fid, joined=ago(300), profile=profile)
        m.member_joined("a-tr", fid, ago(200))
    m.member_left("a-tr", "a-tr-gone", ago(10))
    m.freelancer("f-outsider", joined=ago(300), profile=100)


def test_typical_agency_holds_top_rated(out):
    a = out["a-tr"]
    assert a.jss == 100
    assert a.badges == ["top_rated"]
    assert a.failing("top_rated") == []
    assert a.value("top_rated", "members") == 4
    assert a.value("top_rated", "member_profiles") == pytest.approx(74.75, abs=0.05)
    assert a.value("top_rated", "eligible_weeks") == 16
    assert Decimal(str(a.value("top_rated", "earnings_12m"))) == Decimal("12000")


@pytest.mark.parametrize(
    ("fid", "badge"),
    [
        ("a-tr-m", "top_rated"),  # has a JSS (from the agency's jobs)
        ("a-tr-own", "rising_talent"),  # no JSS, profile 100
        ("a-tr-m60", "rising_talent"),
        ("a-tr-m59", None),
        ("a-tr-gone", None),  # left
        ("f-outsider", None),
    ],
)
def test_agency_badge_on_members(out, fid, badge):
    assert out[fid].agency_badge == badge


@histories
def _several_agencies(m: Market):
    # a member (profile 70, no JSS) of a Top Rated agency and of one without a complete profile
    top_agency(m, "a-multi")
    m.freelancer("a-plain-own", joined=ago(300))
    m.agency("a-plain", "a-plain-own", created=ago(300), services=False)
    m.freelancer("f-multi", joined=ago(300), profile=70)
    m.member_joined("a-plain", "f-multi", ago(200))
    m.member_joined("a-multi", "f-multi", ago(200))


def test_member_of_several_agencies_shows_the_best_badge(out):
    assert not out["a-plain"].held("top_rated")
    assert out["a-multi"].held("top_rated")
    assert out["f-multi"].agency_badge == "rising_talent"


def test_agency_badge_is_not_an_own_badge(out):
    assert out["a-tr-m60"].badges == []


# Each criterion -----------------------------------------------------------------------------------


@histories
def _criteria(m: Market):
    _, member = top_agency(m, "a-one-member")
    m.member_left("a-one-member", member, ago(10))

    top_agency(m, "a-9999.99")
    m.refund("a-9999.99-c3", ago(10), "2000.01")
    top_agency(m, "a-10000.00")
    m.refund("a-10000.00-c3", ago(10), "2000.00")

    owner, _ = top_agency(m, "a-owner-jss-50")
    m.job("a-owner-jss-50-o1", owner, "a-owner-jss-50-ko1", ago(100), **S)
    m.job("a-owner-jss-50-o2", owner, "a-owner-jss-50-ko2", ago(90), **N)
    owner, _ = top_agency(m, "a-owner-jss-100")
    m.job("a-owner-jss-100-o1", owner, "a-owner-jss-100-ko1", ago(100), **S)
    m.job("a-owner-jss-100-o2", owner, "a-owner-jss-100-ko2", ago(90), **S)

    owner, _ = top_agency(m, "a-owner-99")
    m.profile(owner, ago(10), 99)
    owner, _ = top_agency(m, "a-owner-no-photo")
    m.profile(owner, ago(10), 100, photo=False)

    top_agency(m, "a-avg-59", member_profile=18)
    top_agency(m, "a-avg-60", member_profile=20)

    top_agency(m, "a-no-services")
    m.agency_profile("a-no-services", ago(10), services=False)
    top_agency(m, "a-no-logo")
    m.agency_profile("a-no-logo", ago(10), logo=False)

    _, member = top_agency(m, "a-member-hold")
    m.hold(ago(30), freelancer=member)
    owner, _ = top_agency(m, "a-owner-hold-lifted")
    m.lift(m.hold(ago(60), freelancer=owner), ago(30))
    top_agency(m, "a-agency-hold")
    m.hold(ago(30), agency="a-agency-hold")
    _, member = top_agency(m, "a-member-violation")
    m.violation(ago(30), freelancer=member)
    _, member = top_agency(m, "a-member-ban")
    m.violation(ago(120), freelancer=member, kind="off_platform_payment")
    top_agency(m, "a-agency-violation")
    m.violation(ago(30), agency="a-agency-violation")


@pytest.mark.parametrize(
    ("aid", "failing"),
    [
        ("a-one-member", ["members"]),
        ("a-9999.99", ["earnings_12m"]),
        ("a-10000.00", []),
        ("a-owner-jss-50", ["owner_jss"]),
        ("a-owner-jss-100", []),
        ("a-owner-99", ["owner_profile"]),
        ("a-owner-no-photo", ["owner_profile"]),
        ("a-avg-59", ["member_profiles"]),
        ("a-avg-60", []),
        ("a-no-services", ["agency_profile"]),
        ("a-no-logo", ["agency_profile"]),
        ("a-member-hold", ["standing"]),
        ("a-owner-hold-lifted", ["standing"]),
        ("a-agency-hold", ["standing"]),
        ("a-member-violation", ["standing"]),
        ("a-member-ban", ["standing"]),
        ("a-agency-violation", ["standing"]),
    ],
)
def test_agency_top_rated_criteria(out, aid, failing):
    a = out[aid]
    assert a.failing("top_rated") == failing
    assert a.held("top_rated") is (failing == [])


def test_agency_earnings_boundary_values(out):
    assert Decimal(str(out["a-9999.99"].value("top_rated", "earnings_12m"))) == Decimal("9999.99")
    assert Decimal(str(out["a-10000.00"].value("top_rated", "earnings_12m"))) == Decimal("10000.00")


def test_owner_jss_value(out):
    assert out["a-owner-jss-50"].value("top_rated", "owner_jss") == 50
    assert out["a-tr"].value("top_rated", "owner_jss") is None  # no JSS: the criterion is met


def test_members_of_an_agency_without_top_rated_show_no_agency_badge(out):
    assert out["a-avg-59-own"].agency_badge is None
    assert out["a-avg-59-m"].agency_badge is None


@histories
def _average_not_rounded(m: Market):
    # 20 members (owner 100, top_agency's member 58, 17 more at 58, one at 55): 1199/20 = 59.95 %
    top_agency(m, "a-avg-59.95", member_profile=58)
    for i in range(18):
        fid = f"a-avg-59.95-x{i}"
        m.freelancer(fid, joined=ago(300), profile=55 if i == 0 else 58)
        m.member_joined("a-avg-59.95", fid, ago(300))


def test_members_average_profile_of_59_95_is_under_60(out):
    a = out["a-avg-59.95"]
    assert a.value("top_rated", "members") == 20
    assert not a.met("top_rated", "member_profiles"), "59.95 % is not at least 60 %"


# First contract age and weeks ---------------------------------------------------------------------


def young_agency(m: Market, aid: str, first_started: int) -> None:
    """Created 200 days ago; Rising Talent (no JSS, two members, complete profiles) until its first
    two $5,000 jobs end 60 and 30 days ago, the first started `first_started` days ago."""
    owner, member = f"{aid}-own", f"{aid}-m"
    m.freelancer(owner, joined=ago(300))
    m.freelancer(member, joined=ago(300), profile=80)
    m.agency(aid, owner, created=ago(200))
    m.member_joined(aid, member, ago(200))
    m.job(f"{aid}-c1", member, f"{aid}-k1", ago(60), amount="5000.00", days=first_started - 60, agency=aid)
    m.job(f"{aid}-c2", member, f"{aid}-k2", ago(30), amount="5000.00", agency=aid)


@histories
def _young(m: Market):
    young_agency(m, "a-first-91", 91)
    young_agency(m, "a-first-90", 90)
    # two neutral jobs ten months ago, two successful ones 50 days ago: 8 weekly points ≥ 90
    owner, member = "a-weeks-8-own", "a-weeks-8-m"
    m.freelancer(owner, joined=ago(500))
    m.freelancer(member, joined=ago(500), profile=80)
    m.agency("a-weeks-8", owner, created=ago(400))
    m.member_joined("a-weeks-8", member, ago(400))
    for i, (n, fb) in enumerate(((300, N), (290, N), (50, S), (50, S))):
        m.job(f"a-weeks-8-x{i}", member, f"a-weeks-8-kx{i}", ago(n), amount="3000.00", agency="a-weeks-8", **fb)


def test_agency_first_contract_91_days_ago(out):
    a = out["a-first-91"]
    assert a.value("top_rated", "first_contract_age") == 91
    assert a.value("top_rated", "eligible_weeks") == 16  # agency Rising Talent weeks count
    assert a.held("top_rated")


def test_agency_first_contract_90_days_ago(out):
    a = out["a-first-90"]
    assert a.failing("top_rated") == ["first_contract_age"]
    assert a.qualifies_on("top_rated") == later(1)


def test_agency_weeks_use_the_agency_jss(out):
    a = out["a-weeks-8"]
    assert a.value("top_rated", "eligible_weeks") == 8
    assert a.failing("top_rated") == ["eligible_weeks"]


# Top Rated Plus -----------------------------------------------------------------------------------


@histories
def _agency_plus(m: Market):
    top_agency(m, "a-plus", amount="6000.00")  # $24,000; $6,000 writing jobs are large
    top_agency(m, "a-plus-19999.99", amount="5000.00")
    m.refund("a-plus-19999.99-c0", ago(10), "0.01")


def test_agency_top_rated_plus(out):
    a = out["a-plus"]
    assert a.badges == ["top_rated", "top_rated_plus"]
    assert a.value("top_rated_plus", "large_contract") >= 1


def test_agency_top_rated_plus_needs_20000(out):
    a = out["a-plus-19999.99"]
    assert Decimal(str(a.value("top_rated_plus", "earnings_12m"))) == Decimal("19999.99")
    assert a.failing("top_rated_plus") == ["earnings_12m"]
    assert a.badges == ["top_rated"]
