"""Rising Talent (programme.md §2, §10 "Activity", "Key day", "Manual badges", "Agency members"),
manual grants and revocations, and Expert-Vetted (§5).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import Histories, Market, ago, established, later, months_ago, rising

histories = Histories(project=True)

S = {"public": 5.0, "private": 10}
N = {"public": 4.0, "private": None}
NEG = {"public": None, "private": 2}
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def out():
    return histories.evaluate()


# Freelancers --------------------------------------------------------------------------------------


@histories
def _typical(m: Market):
    rising(m, "f-rt", joined=ago(200))


def test_rising_talent_candidate_holds_it(out):
    f = out["f-rt"]
    assert f.jss is None
    assert f.badges == ["rising_talent"]
    assert f.failing("rising_talent") == []
    assert not f.held("top_rated")


@histories
def _joined(m: Market):
    for n in (29, 30, 31):
        rising(m, f"f-joined-{n}", joined=ago(n), active=False)


@pytest.mark.parametrize(("n", "met"), [(29, True), (30, False), (31, False)])
def test_joined_in_the_last_30_days_counts_as_activity(out, n, met):
    f = out[f"f-joined-{n}"]
    assert f.met("rising_talent", "activity") is met
    assert f.held("rising_talent") is met
    if not met:
        assert f.failing("rising_talent") == ["activity"]


@histories
def _criteria(m: Market):
    m.freelancer("f-rt-no-test", joined=ago(200))
    m.activity("f-rt-no-test", ago(3))
    rising(m, "f-rt-profile-99", joined=ago(200))
    m.profile("f-rt-profile-99", ago(100), 99)
    rising(m, "f-rt-unavailable", joined=ago(200))
    m.availability("f-rt-unavailable", ago(10), False, return_on=ago(1))
    rising(m, "f-rt-idle", joined=ago(200), active=False)
    m.activity("f-rt-idle", ago(90))
    rising(m, "f-rt-jss", joined=ago(200))
    m.job("f-rt-jss-c1", "f-rt-jss", "f-rt-jss-k1", ago(100), **S)
    m.job("f-rt-jss-c2", "f-rt-jss", "f-rt-jss-k2", ago(90), **S)
    rising(m, "f-rt-hold", joined=ago(200))
    m.hold(ago(50), freelancer="f-rt-hold")
    rising(m, "f-rt-violation", joined=ago(200))
    m.violation(ago(10), freelancer="f-rt-violation")
    rising(m, "f-rt-ban", joined=ago(200))
    m.violation(ago(120), freelancer="f-rt-ban", kind="off_platform_payment")


@pytest.mark.parametrize(
    ("fid", "failing"),
    [
        ("f-rt-no-test", "readiness_test"),
        ("f-rt-profile-99", "profile"),
        ("f-rt-unavailable", "availability"),
        ("f-rt-idle", "activity"),
        ("f-rt-jss", "no_jss"),
        ("f-rt-hold", "standing"),
        ("f-rt-violation", "standing"),
        ("f-rt-ban", "standing"),
    ],
)
def test_each_rising_talent_criterion(out, fid, failing):
    f = out[fid]
    assert f.failing("rising_talent") == [failing]
    assert not f.held("rising_talent")
    assert "rising_talent" not in f.badges


@histories
def _negative_outcomes(m: Market):
    lookback = months_ago(24)  # 2024-11-23
    rising(m, "f-neg-in", joined=ago(900))
    m.job("f-neg-in-c1", "f-neg-in", "f-neg-in-k1", lookback + DAY, **NEG)
    rising(m, "f-neg-out", joined=ago(900))
    m.job("f-neg-out-c1", "f-neg-out", "f-neg-out-k1", lookback, **NEG)
    rising(m, "f-neutral", joined=ago(900))
    m.job("f-neutral-c1", "f-neutral", "f-neutral-k1", ago(30), **N)
    rising(m, "f-neg-disputed", joined=ago(900))  # open dispute: not eligible, so not counted
    m.job("f-neg-disputed-c1", "f-neg-disputed", "f-neg-disputed-k1", ago(30), **NEG)
    m.dispute("f-neg-disputed-c1", ago(25))
    rising(m, "f-neg-lost", joined=ago(900))  # a lost dispute is negative
    m.job("f-neg-lost-c1", "f-neg-lost", "f-neg-lost-k1", ago(30), **S)
    m.resolve(m.dispute("f-neg-lost-c1", ago(25)), ago(20), "freelancer_lost")
    rising(m, "f-neg-running", joined=ago(900))  # long-term, still running, negative feedback
    m.work("f-neg-running-c1", "f-neg-running", "f-neg-running-k1", [(ago(100), "100.00"), (ago(10), "100.00")])
    m.feedback("f-neg-running-c1", ago(5), **NEG)


@pytest.mark.parametrize(
    ("fid", "met"),
    [
        ("f-neg-in", False),
        ("f-neg-out", True),
        ("f-neutral", True),
        ("f-neg-disputed", True),
        ("f-neg-lost", False),
        ("f-neg-running", False),
    ],
)
def test_negative_outcome_in_24_months_blocks_rising_talent(out, fid, met):
    f = out[fid]
    assert f.jss is None
    assert f.met("rising_talent", "no_negative_outcome") is met
    assert f.held("rising_talent") is met


def test_negative_outcome_ages_out_after_24_calendar_months(out):
    assert out["f-neg-in"].qualifies_on("rising_talent") == later(1)


# Manual acts --------------------------------------------------------------------------------------


def not_ready(m: Market, fid: str) -> None:
    """Fails Rising Talent on the readiness test only."""
    m.freelancer(fid, joined=ago(200))
    m.activity(fid, ago(3))


@histories
def _manual(m: Market):
    not_ready(m, "f-granted")
    m.grant("rising_talent", ago(5), freelancer="f-granted")
    rising(m, "f-revoked", joined=ago(200))
    m.revoke("rising_talent", ago(5), freelancer="f-revoked")
    not_ready(m, "f-granted-revoked")
    m.grant("rising_talent", ago(10), freelancer="f-granted-revoked")
    m.revoke("rising_talent", ago(5), freelancer="f-granted-revoked")
    rising(m, "f-revoked-granted", joined=ago(200))
    m.revoke("rising_talent", ago(10), freelancer="f-revoked-granted")
    m.grant("rising_talent", ago(5), freelancer="f-revoked-granted")
    established(m, "f-granted-with-jss")
    m.grant("rising_talent", ago(5), freelancer="f-granted-with-jss")
    not_ready(m, "f-granted-banned")
    m.grant("rising_talent", ago(5), freelancer="f-granted-banned")
    m.violation(ago(120), freelancer="f-granted-banned", kind="off_platform_payment")
    not_ready(m, "f-banned-granted")  # the ban beats a later grant too
    m.violation(ago(120), freelancer="f-banned-granted", kind="off_platform_payment")
    m.grant("rising_talent", ago(5), freelancer="f-banned-granted")
    not_ready(m, "f-granted-violation")  # an ordinary violation does not beat a grant
    m.grant("rising_talent", ago(5), freelancer="f-granted-violation")
    m.violation(ago(10), freelancer="f-granted-violation")
    d = ago(5).isoformat()  # same day: the later instant wins, whatever the ids
    not_ready(m, "f-same-day-granted")
    m.emit("badge.revoked", f"{d}T09:00:00Z", event_id="zz-revoke", freelancer_id="f-same-day-granted",
           badge="rising_talent", by="ops", reason="x")  # fmt: skip
    m.emit("badge.granted", f"{d}T10:00:00Z", event_id="aa-grant", freelancer_id="f-same-day-granted",
           badge="rising_talent", by="ops")  # fmt: skip
    rising(m, "f-same-day-revoked", joined=ago(200))
    m.emit("badge.granted", f"{d}T09:00:00Z", event_id="zz-grant", freelancer_id="f-same-day-revoked",
           badge="rising_talent", by="ops")  # fmt: skip
    m.emit("badge.revoked", f"{d}T10:00:00Z", event_id="aa-revoke", freelancer_id="f-same-day-revoked",
           badge="rising_talent", by="ops", reason="x")  # fmt: skip
    not_ready(m, "f-granted-old-ban")  # a ban older than 6 months is over
    m.grant("rising_talent", ago(5), freelancer="f-granted-old-ban")
    m.violation(months_ago(6), freelancer="f-granted-old-ban", kind="off_platform_payment")


@pytest.mark.parametrize(
    ("fid", "held"),
    [
        ("f-granted", True),
        ("f-revoked", False),
        ("f-granted-revoked", False),
        ("f-revoked-granted", True),
        ("f-granted-with-jss", True),
        ("f-granted-banned", False),
        ("f-banned-granted", False),
        ("f-granted-violation", True),
        ("f-granted-old-ban", True),
        ("f-same-day-granted", True),
        ("f-same-day-revoked", False),
    ],
)
def test_latest_manual_act_overrides_the_criteria_except_a_ban(out, fid, held):
    f = out[fid]
    assert f.held("rising_talent") is held
    assert ("rising_talent" in f.badges) is held


def test_manual_grant_does_not_change_the_criteria_shown(out):
    assert out["f-granted"].failing("rising_talent") == ["readiness_test"]
    assert out["f-revoked"].failing("rising_talent") == []


def test_grant_and_top_rated_are_both_shown(out):
    assert out["f-granted-with-jss"].badges == ["rising_talent", "top_rated"]


# Expert-Vetted ------------------------------------------------------------------------------------


@histories
def _expert_vetted(m: Market):
    m.freelancer("f-ev", joined=ago(100), profile=10, available=False)
    m.grant("expert_vetted", ago(50), freelancer="f-ev")
    m.freelancer("f-ev-revoked", joined=ago(100))
    m.grant("expert_vetted", ago(50), freelancer="f-ev-revoked")
    m.revoke("expert_vetted", ago(10), freelancer="f-ev-revoked")
    m.freelancer("f-ev-regranted", joined=ago(100))
    m.grant("expert_vetted", ago(50), freelancer="f-ev-regranted")
    m.revoke("expert_vetted", ago(40), freelancer="f-ev-regranted")
    m.grant("expert_vetted", ago(10), freelancer="f-ev-regranted")
    m.freelancer("f-ev-never", joined=ago(100))
    m.grant("rising_talent", ago(10), freelancer="f-ev-never")  # another badge's grant


@pytest.mark.parametrize(
    ("fid", "held"), [("f-ev", True), ("f-ev-revoked", False), ("f-ev-regranted", True), ("f-ev-never", False)]
)
def test_expert_vetted_is_held_while_the_latest_act_is_a_grant(out, fid, held):
    f = out[fid]
    assert f.held("expert_vetted") is held
    assert f.met("expert_vetted", "vetted") is held
    assert ("expert_vetted" in f.badges) is held


# Agencies -----------------------------------------------------------------------------------------


def agency_team(
    m: Market, aid: str, owner_profile: int = 100, member_profile: int | None = 60, **profile: bool
) -> tuple[str, str]:
    """An agency created 100 days ago: owner `<aid>-own`, member `<aid>-m` (unless
    `member_profile` is None), no contracts."""
    owner, member = f"{aid}-own", f"{aid}-m"
    m.freelancer(owner, joined=ago(300), profile=owner_profile)
    m.agency(aid, owner, created=ago(100), **profile)
    if member_profile is not None:
        m.freelancer(member, joined=ago(300), profile=member_profile)
        m.member_joined(aid, member, ago(100))
    return owner, member


@histories
def _agencies(m: Market):
    agency_team(m, "a-rt")
    agency_team(m, "a-rt-alone", member_profile=None)
    _, member = agency_team(m, "a-rt-left")
    m.member_left("a-rt-left", member, ago(10))
    owner, _ = agency_team(m, "a-rt-owner-left")  # the owner is always a member
    m.member_left("a-rt-owner-left", owner, ago(10))
    d = ago(10).isoformat()  # left and rejoined the same day: the later instant wins
    _, member = agency_team(m, "a-rt-rejoined")
    m.emit(
        "agency.member_joined",
        f"{d}T10:00:00Z",
        event_id="a-rt-rejoined-a",
        agency_id="a-rt-rejoined",
        freelancer_id=member,
    )
    m.emit(
        "agency.member_left",
        f"{d}T09:00:00Z",
        event_id="a-rt-rejoined-z",
        agency_id="a-rt-rejoined",
        freelancer_id=member,
    )
    _, member = agency_team(m, "a-rt-left-same-day")
    m.emit(
        "agency.member_joined",
        f"{d}T09:00:00Z",
        event_id="a-rt-left-same-day-z",
        agency_id="a-rt-left-same-day",
        freelancer_id=member,
    )
    m.emit(
        "agency.member_left",
        f"{d}T10:00:00Z",
        event_id="a-rt-left-same-day-a",
        agency_id="a-rt-left-same-day",
        freelancer_id=member,
    )
    agency_team(m, "a-rt-no-logo", logo=False)
    agency_team(m, "a-rt-no-overview", overview=False)
    agency_team(m, "a-rt-no-services", services=False)
    agency_team(m, "a-rt-owner-99", owner_profile=99)
    agency_team(m, "a-rt-avg-59", member_profile=18)
    agency_team(m, "a-rt-avg-60", member_profile=20)
    _, member = agency_team(m, "a-rt-jss")
    m.job("a-rt-jss-c1", member, "a-rt-jss-k1", ago(50), agency="a-rt-jss", **S)
    m.job("a-rt-jss-c2", member, "a-rt-jss-k2", ago(40), agency="a-rt-jss", **S)
    _, member = agency_team(m, "a-rt-member-hold")
    m.hold(ago(30), freelancer=member)
    agency_team(m, "a-rt-agency-violation")
    m.violation(ago(30), agency="a-rt-agency-violation")
    # grants: a member's off-platform payment counts through standing only, the agency's own beats it
    _, member = agency_team(m, "a-rt-granted-member-ban")
    m.grant("rising_talent", ago(5), agency="a-rt-granted-member-ban")
    m.violation(ago(120), freelancer=member, kind="off_platform_payment")
    agency_team(m, "a-rt-granted-own-ban")
    m.grant("rising_talent", ago(5), agency="a-rt-granted-own-ban")
    m.violation(ago(120), agency="a-rt-granted-own-ban", kind="off_platform_payment")
    agency_team(m, "a-rt-revoked")
    m.revoke("rising_talent", ago(5), agency="a-rt-revoked")


def test_agency_rising_talent(out):
    a = out["a-rt"]
    assert a.raw["kind"] == "agency"
    assert a.jss is None
    assert a.badges == ["rising_talent"]
    assert a.value("rising_talent", "members") == 2
    assert a.value("rising_talent", "member_profiles") == 80
    assert "expert_vetted" not in a.raw["programmes"]


@pytest.mark.parametrize(
    ("aid", "failing"),
    [
        ("a-rt-alone", ["members"]),
        ("a-rt-left", ["members"]),
        ("a-rt-owner-left", []),
        ("a-rt-rejoined", []),
        ("a-rt-left-same-day", ["members"]),
        ("a-rt-no-logo", ["agency_profile"]),
        ("a-rt-no-overview", ["agency_profile"]),
        ("a-rt-no-services", ["agency_profile"]),
        ("a-rt-owner-99", ["owner_profile"]),
        ("a-rt-avg-59", ["member_profiles"]),
        ("a-rt-avg-60", []),
        ("a-rt-jss", ["no_jss"]),
        ("a-rt-member-hold", ["standing"]),
        ("a-rt-agency-violation", ["standing"]),
    ],
)
def test_agency_rising_talent_criteria(out, aid, failing):
    a = out[aid]
    assert a.failing("rising_talent") == failing
    assert a.held("rising_talent") is (failing == [])


@pytest.mark.parametrize(
    ("aid", "held"), [("a-rt-granted-member-ban", True), ("a-rt-granted-own-ban", False), ("a-rt-revoked", False)]
)
def test_agency_manual_rising_talent(out, aid, held):
    assert out[aid].held("rising_talent") is held
