"""Top Rated for freelancers (programme.md §3, §6, §10) and `qualifies_on`.

Each freelancer is a typical established Top Rated freelancer (`established`, JSS 100, 16/16
weeks, $3,200 in 365 days, active 3 days ago) with one thing changed, unless the test needs a
purpose-built history. Evaluated once, as of AS_OF, with projections (`qualifies_on`).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import AS_OF, Histories, Market, ago, established, later, months_ago, veteran

histories = Histories(project=True)
DAY = timedelta(days=1)

S = {"public": 5.0, "private": 10}
N = {"public": 4.0, "private": None}
NEG = {"public": None, "private": 2}


@pytest.fixture(scope="module")
def out():
    return histories.evaluate()


@histories
def _typical(m: Market):
    established(m, "f-tr")


def test_established_freelancer_holds_top_rated(out):
    f = out["f-tr"]
    assert f.jss == 100
    assert f.badges == ["top_rated"]
    assert f.failing("top_rated") == []
    assert f.value("top_rated", "eligible_weeks") == 16
    assert f.value("top_rated", "first_contract_age") == 687
    assert f.qualifies_on("top_rated") is None  # held: no date


# 1. JSS and 3. eligible weeks ---------------------------------------------------------------------


def crossing(m: Market, fid: str, x: int) -> None:
    """JSS 50 (two neutral jobs ~10 months ago) until `x` days before AS_OF, when two successful
    $600 jobs end: from then on the 6-month window scores 100. No Rising Talent (no readiness
    test), so the weekly points counted are exactly those on or after that day."""
    m.freelancer(fid, joined=ago(400))
    m.job(f"{fid}-n1", fid, f"{fid}-k1", ago(300), **N)
    m.job(f"{fid}-n2", fid, f"{fid}-k2", ago(290), **N)
    m.job(f"{fid}-s1", fid, f"{fid}-k3", ago(x), amount="600.00", **S)
    m.job(f"{fid}-s2", fid, f"{fid}-k4", ago(x), amount="600.00", **S)
    m.activity(fid, ago(3))


@histories
def _weeks(m: Market):
    crossing(m, "f-weeks-13", 84)  # points D, D−7, …, D−84: 13
    crossing(m, "f-weeks-12", 83)  # D−84 is one day too early: 12
    crossing(m, "f-weeks-11", 76)  # 11; the 13th point arrives on D + 8
    crossing(m, "f-weeks-granted", 76)  # 11 by JSS, but Rising Talent granted by hand 120 days ago
    m.grant("rising_talent", ago(120), freelancer="f-weeks-granted")


def test_13_of_16_weeks_is_enough(out):
    f = out["f-weeks-13"]
    assert f.jss == 100
    assert f.value("top_rated", "eligible_weeks") == 13
    assert f.met("top_rated", "eligible_weeks")
    assert f.held("top_rated")


def test_12_of_16_weeks_is_not_enough(out):
    f = out["f-weeks-12"]
    assert f.value("top_rated", "eligible_weeks") == 12
    assert f.failing("top_rated") == ["eligible_weeks"]
    assert f.qualifies_on("top_rated") == later(1)


def test_qualifies_on_is_the_day_the_13th_week_arrives(out):
    f = out["f-weeks-11"]
    assert f.value("top_rated", "eligible_weeks") == 11
    assert f.failing("top_rated") == ["eligible_weeks"]
    assert f.qualifies_on("top_rated") == later(8)


def test_weeks_with_rising_talent_count_even_when_granted_by_hand(out):
    f = out["f-weeks-granted"]
    assert f.value("top_rated", "eligible_weeks") == 16
    assert f.badges == ["rising_talent", "top_rated"]


@histories
def _jss_drop(m: Market):
    # a negative job 2 days ago: JSS 88 now (24 months: 18.75/21.25), 100 at every earlier point
    established(m, "f-drop")
    m.job("f-drop-neg", "f-drop", "f-drop-kn", ago(2), **NEG)


def test_a_current_jss_under_90_removes_the_badge_at_once(out):
    f = out["f-drop"]
    assert f.jss == 88
    assert not f.met("top_rated", "jss")
    assert f.value("top_rated", "eligible_weeks") == 15
    assert f.met("top_rated", "eligible_weeks")
    assert not f.held("top_rated")


# 2. First contract age ----------------------------------------------------------------------------


def newcomer(m: Market, fid: str, first_started: int) -> None:
    """Joined 200 days ago and Rising Talent until their JSS appears (so every weekly point counts);
    first job started `first_started` days ago and ended 60 days ago, second ended 30 days ago,
    both $600 and 5.0/10."""
    m.freelancer(fid, joined=ago(200))
    m.readiness(fid, ago(200))
    for n in (190, 100, 10):
        m.activity(fid, ago(n))
    m.job(f"{fid}-c1", fid, f"{fid}-k1", ago(60), amount="600.00", days=first_started - 60, **S)
    m.job(f"{fid}-c2", fid, f"{fid}-k2", ago(30), amount="600.00", **S)


@histories
def _first_contract_age(m: Market):
    newcomer(m, "f-first-91", 91)
    newcomer(m, "f-first-90", 90)


def test_first_contract_91_days_ago_is_enough(out):
    f = out["f-first-91"]
    assert f.value("top_rated", "first_contract_age") == 91
    assert f.value("top_rated", "eligible_weeks") == 16  # Rising Talent weeks count
    assert f.held("top_rated")


def test_first_contract_90_days_ago_is_not_enough(out):
    f = out["f-first-90"]
    assert f.value("top_rated", "first_contract_age") == 90
    assert f.failing("top_rated") == ["first_contract_age"]
    assert f.qualifies_on("top_rated") == later(1)


# 4. Profile ---------------------------------------------------------------------------------------


@histories
def _profiles(m: Market):
    established(m, "f-profile-99", profile=99)
    established(m, "f-no-photo", photo=False)
    established(m, "f-elance-90", profile=90, elance=True)
    established(m, "f-elance-89", profile=89, elance=True)
    established(m, "f-elance-no-photo", profile=95, elance=True, photo=False)
    established(m, "f-no-profile", profile=None)
    established(m, "f-profile-dropped")
    m.profile("f-profile-dropped", ago(10), 95)


@pytest.mark.parametrize(
    ("fid", "value", "met"),
    [
        ("f-profile-99", 99, False),
        ("f-no-photo", 100, False),
        ("f-elance-90", 90, True),
        ("f-elance-89", 89, False),
        ("f-elance-no-photo", 95, False),
        ("f-no-profile", 0, False),
        ("f-profile-dropped", 95, False),
    ],
)
def test_profile_complete(out, fid, value, met):
    f = out[fid]
    assert f.value("top_rated", "profile") == value
    assert f.met("top_rated", "profile") is met
    assert f.held("top_rated") is met
    if not met:
        assert f.failing("top_rated") == ["profile"]
        assert f.qualifies_on("top_rated") is None  # nothing changes without a new event


# 6. Availability ----------------------------------------------------------------------------------


@histories
def _availability(m: Market):
    for fid, ret in (
        ("f-away-back-yesterday", ago(1)),
        ("f-away-back-today", AS_OF),
        ("f-away-back-later", later(10)),
        ("f-away-no-date", None),
    ):
        established(m, fid, available=None)
        m.availability(fid, ago(20), False, return_on=ret)
    established(m, "f-no-availability", available=None)
    established(m, "f-away-latest")  # available when they joined, not any more
    m.availability("f-away-latest", ago(10), False)
    established(m, "f-back-latest", available=None)
    m.availability("f-back-latest", ago(20), False)
    m.availability("f-back-latest", ago(10), True, hours=10)


@pytest.mark.parametrize(
    ("fid", "met"),
    [
        ("f-away-back-yesterday", False),
        ("f-away-back-today", True),
        ("f-away-back-later", True),
        ("f-away-no-date", False),
        ("f-no-availability", False),
        ("f-away-latest", False),
        ("f-back-latest", True),
    ],
)
def test_availability_up_to_date(out, fid, met):
    f = out[fid]
    assert f.met("top_rated", "availability") is met
    assert f.held("top_rated") is met
    if not met:
        assert f.qualifies_on("top_rated") is None


# 8. Activity --------------------------------------------------------------------------------------


def idle(m: Market, fid: str) -> None:
    """A veteran with no activity of their own: $1,100 earned 200 days ago."""
    veteran(m, fid, active=False)
    m.work(f"{fid}-w", fid, f"{fid}-kw", [(ago(200), "1100.00")])


@histories
def _activity(m: Market):
    for n in (89, 90, 91):
        idle(m, f"f-proposal-{n}")
        m.activity(f"f-proposal-{n}", ago(n), "proposal")
    idle(m, "f-invitation")
    m.activity("f-invitation", ago(10), "invitation_accepted")
    idle(m, "f-messages")
    m.activity("f-messages", ago(10), "message")
    m.activity("f-messages", ago(5), "login")
    idle(m, "f-refund")
    m.refund("f-refund-w", ago(10), "1.00")
    idle(m, "f-paid")
    m.pay("f-paid-w", ago(10), "1.00")


@pytest.mark.parametrize(
    ("fid", "met"),
    [
        ("f-proposal-89", True),
        ("f-proposal-90", False),
        ("f-proposal-91", False),
        ("f-invitation", True),
        ("f-messages", False),
        ("f-refund", False),
        ("f-paid", True),
    ],
)
def test_activity_in_the_last_90_days(out, fid, met):
    f = out[fid]
    assert f.met("top_rated", "activity") is met
    assert f.held("top_rated") is met
    if not met:
        assert f.failing("top_rated") == ["activity"]


def test_proposal_89_days_ago_lapses_tomorrow(out):
    # qualifies_on is for badges not held; the day after, the proposal is 90 days old
    assert out["f-proposal-89"].held("top_rated")
    assert out["f-proposal-90"].qualifies_on("top_rated") is None


# 7. Standing --------------------------------------------------------------------------------------


@histories
def _holds(m: Market):
    established(m, "f-hold")
    m.hold(ago(200), freelancer="f-hold")
    for n in (30, 89, 90, 91):
        established(m, f"f-lifted-{n}")
        m.lift(m.hold(ago(200), freelancer=f"f-lifted-{n}"), ago(n))
    established(m, "f-hold-today")
    m.hold(AS_OF, freelancer="f-hold-today")
    established(m, "f-hold-tomorrow")  # placed after AS_OF: not known yet
    m.hold(later(1), freelancer="f-hold-tomorrow")


def test_hold_in_force_fails_standing_and_never_qualifies(out):
    f = out["f-hold"]
    assert f.failing("top_rated") == ["standing"]
    assert f.qualifies_on("top_rated") is None


@pytest.mark.parametrize(("n", "met"), [(30, False), (89, False), (90, True), (91, True)])
def test_hold_lifted_n_days_ago(out, n, met):
    f = out[f"f-lifted-{n}"]
    assert f.met("top_rated", "standing") is met
    assert f.held("top_rated") is met


@pytest.mark.parametrize("n", [30, 89])
def test_recently_lifted_hold_qualifies_90_days_after_the_lift(out, n):
    assert out[f"f-lifted-{n}"].qualifies_on("top_rated") == ago(n) + timedelta(days=90)


def test_hold_placed_on_the_as_of_day_counts(out):
    assert out["f-hold-today"].failing("top_rated") == ["standing"]


def test_events_after_the_as_of_day_are_ignored(out):
    assert out["f-hold-tomorrow"].held("top_rated")


@histories
def _violations(m: Market):
    three = months_ago(3)  # 2026-08-23
    six = months_ago(6)  # 2026-05-23
    established(m, "f-violation-in")
    m.violation(three + DAY, freelancer="f-violation-in")
    established(m, "f-violation-out")
    m.violation(three, freelancer="f-violation-out")
    established(m, "f-violation-recent")
    m.violation(ago(10), freelancer="f-violation-recent")  # 2026-11-13
    established(m, "f-ban-in")
    m.violation(six + DAY, freelancer="f-ban-in", kind="off_platform_payment")
    established(m, "f-ban-out")
    m.violation(six, freelancer="f-ban-out", kind="off_platform_payment")


def test_violation_within_3_months_fails_standing(out):
    f = out["f-violation-in"]
    assert f.failing("top_rated") == ["standing"]
    assert f.qualifies_on("top_rated") == later(1)


def test_violation_3_months_old_no_longer_counts(out):
    assert out["f-violation-out"].held("top_rated")


def test_recent_violation_qualifies_when_3_calendar_months_have_passed(out):
    assert out["f-violation-recent"].qualifies_on("top_rated").isoformat() == "2027-02-13"


def test_off_platform_payment_bans_for_6_months(out):
    f = out["f-ban-in"]
    assert not f.met("top_rated", "standing")
    assert not f.held("top_rated")
    assert "top_rated" not in f.badges
    assert f.qualifies_on("top_rated") == later(1)


def test_off_platform_payment_6_months_old_no_longer_counts(out):
    assert out["f-ban-out"].held("top_rated")
