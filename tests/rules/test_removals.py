"""Feedback-removal requests (programme.md §7 "Feedback removal", §10 "Feedback-removal requests").

The usual case: an established Top Rated freelancer (16 successful $400 jobs) with one neutral
$400 job ended 20 days ago: JSS 94 (24 months: 20/21.25); without the neutral job, 100.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from .conftest import Histories, Market, ago, established, top_agency

histories = Histories()

S = {"public": 5.0, "private": 10}
N = {"public": 4.0, "private": None}


@pytest.fixture(scope="module")
def out():
    return histories.evaluate()


REQUESTS: dict[str, str] = {}  # name → event id


def neutral_job(m: Market, fid: str, ended: date | None = None, suffix: str = "n") -> str:
    """A neutral $400 job `<fid>-<suffix>` ended `ended` (default: 20 days ago)."""
    return m.job(f"{fid}-{suffix}", fid, f"{fid}-k{suffix}", ended or ago(20), **N)


def decision(out, entity: str, name: str) -> dict:
    decisions = out[entity].decisions
    assert REQUESTS[name] in decisions, f"no decision {name} on {entity}: {decisions}"
    return decisions[REQUESTS[name]]


@histories
def _freelancers(m: Market):
    established(m, "f-rm")
    REQUESTS["ok"] = m.removal_request(neutral_job(m, "f-rm"), ago(10), by="f-rm")

    established(m, "f-rm-profile")
    job = neutral_job(m, "f-rm-profile")
    REQUESTS["profile"] = m.removal_request(job, ago(10), by="f-rm-profile", scope="jss_and_profile")

    established(m, "f-rm-by-client")
    REQUESTS["by-client"] = m.removal_request(neutral_job(m, "f-rm-by-client"), ago(10), by="f-rm-by-client-kn")

    established(m, "f-rm-not-ended")  # ended after the request
    REQUESTS["not-ended"] = m.removal_request(
        neutral_job(m, "f-rm-not-ended", ended=ago(5)), ago(10), by="f-rm-not-ended"
    )

    # a successful $2,000 job (weight 1.5) and the neutral one: JSS 95 (21.5/22.75); without the
    # big job 94: removing it would lower the JSS
    established(m, "f-rm-lower")
    m.job("f-rm-lower-big", "f-rm-lower", "f-rm-lower-kbig", ago(30), amount="2000.00", **S)
    neutral_job(m, "f-rm-lower")
    REQUESTS["lower"] = m.removal_request("f-rm-lower-big", ago(10), by="f-rm-lower")

    # removing a successful job from a perfect record does not lower the JSS: granted
    established(m, "f-rm-same")
    REQUESTS["same"] = m.removal_request("f-rm-same-c15", ago(10), by="f-rm-same")

    established(m, "f-rm-not-tr", profile=99)
    REQUESTS["not-tr"] = m.removal_request(neutral_job(m, "f-rm-not-tr"), ago(10), by="f-rm-not-tr")

    established(m, "f-rm-twice")
    job = neutral_job(m, "f-rm-twice")
    REQUESTS["twice-1"] = m.removal_request(job, ago(10), by="f-rm-twice")
    REQUESTS["twice-2"] = m.removal_request(job, ago(5), by="f-rm-twice")

    # ended later on the day of the request: every event of day R counts
    established(m, "f-rm-same-day")
    r = ago(10).isoformat()
    m.contract("f-rm-same-day-n", "f-rm-same-day", "f-rm-same-day-kn", ago(30))
    m.pay("f-rm-same-day-n", f"{r}T18:00:00Z", "400.00")
    m.end("f-rm-same-day-n", f"{r}T18:00:00Z")
    m.feedback("f-rm-same-day-n", f"{r}T18:30:00Z", **N)
    REQUESTS["same-day"] = m.removal_request("f-rm-same-day-n", f"{r}T09:00:00Z", by="f-rm-same-day")

    # Top Rated with two successful jobs only (Rising Talent before): without one, no JSS
    fid = "f-rm-two-jobs"
    m.freelancer(fid, joined=ago(200))
    m.readiness(fid, ago(200))
    for n in (190, 100, 10):
        m.activity(fid, ago(n))
    m.job(f"{fid}-c1", fid, f"{fid}-k1", ago(60), amount="600.00", days=60, **S)
    m.job(f"{fid}-c2", fid, f"{fid}-k2", ago(30), amount="600.00", **S)
    REQUESTS["two-jobs"] = m.removal_request(f"{fid}-c1", ago(10), by=fid)

    established(m, "f-rm-future")  # a request after the as-of day is not decided yet
    REQUESTS["future"] = m.removal_request(neutral_job(m, "f-rm-future"), ago(-1), by="f-rm-future")


def test_removal_granted_for_a_top_rated_freelancer(out):
    d = decision(out, "f-rm", "ok")
    assert d["granted"] is True
    assert out["f-rm"].jss == 100


def test_removal_with_profile_scope_also_removes_it_from_the_jss(out):
    assert decision(out, "f-rm-profile", "profile")["granted"] is True
    assert out["f-rm-profile"].jss == 100


@pytest.mark.parametrize(
    ("fid", "name", "jss"),
    [
        ("f-rm-by-client", "by-client", 94),
        ("f-rm-not-ended", "not-ended", 94),
        ("f-rm-lower", "lower", 95),
        ("f-rm-not-tr", "not-tr", 94),
    ],
)
def test_removal_refused(out, fid, name, jss):
    d = decision(out, fid, name)
    assert d["granted"] is False
    assert d["reason"]
    assert out[fid].jss == jss  # the contract stays counted


def test_removal_granted_for_a_contract_ended_later_the_same_day(out):
    assert decision(out, "f-rm-same-day", "same-day")["granted"] is True
    assert out["f-rm-same-day"].jss == 100


def test_removal_refused_when_no_jss_would_remain(out):
    assert out["f-rm-two-jobs"].held("top_rated")
    assert decision(out, "f-rm-two-jobs", "two-jobs")["granted"] is False
    assert out["f-rm-two-jobs"].jss == 100


def test_removal_granted_when_the_jss_does_not_change(out):
    assert decision(out, "f-rm-same", "same")["granted"] is True


def test_the_same_contract_is_removed_once(out):
    assert decision(out, "f-rm-twice", "twice-1")["granted"] is True
    assert decision(out, "f-rm-twice", "twice-2")["granted"] is False


def test_requests_after_the_as_of_day_are_not_decided(out):
    assert REQUESTS["future"] not in out["f-rm-future"].decisions
    assert out["f-rm-future"].jss == 94


# Spacing: 3 months and 10 newly ended contracts since the previous granted removal ---------------

R1 = date(2026, 6, 15)


def spaced(m: Market, fid: str, extra: int, second: date) -> None:
    """An established freelancer. First request on R1 for a neutral job ended 2026-06-10 (granted:
    JSS 93 → 100). Then `extra` successful $100 jobs end weekly from 2026-07-01 (each started 20 days
    before its end, so the first started before R1). Second request on `second` for the established
    job `<fid>-c12` (ended 2026-06-13, before R1; JSS 100 with or without it). Ended in
    (R1, 2026-09-14]: the `extra` jobs and the established jobs of 07-25 and 09-05: `extra` + 2."""
    established(m, fid)
    first = neutral_job(m, fid, ended=date(2026, 6, 10), suffix="n1")
    REQUESTS[f"{fid}-1"] = m.removal_request(first, R1, by=fid)
    ends = [date(2026, 7, 1) + timedelta(days=7 * i) for i in range(extra)]
    assert not ends or ends[-1] < date(2026, 9, 1)
    for i, ended in enumerate(ends):
        m.job(f"{fid}-x{i}", fid, f"{fid}-kx{i}", ended, amount="100.00", **S)
    REQUESTS[f"{fid}-2"] = m.removal_request(f"{fid}-c12", second, by=fid)


@histories
def _spacing(m: Market):
    spaced(m, "f-sp-ok", extra=8, second=date(2026, 9, 15))  # 10 ended, 3 months to the day
    spaced(m, "f-sp-early", extra=8, second=date(2026, 9, 14))  # 10 ended, 1 day short of 3 months
    spaced(m, "f-sp-few", extra=7, second=date(2026, 9, 15))  # 9 ended
    # a refused request does not start the clock: refused on R1 (not asked by the freelancer), asked
    # again by the freelancer a month later with no contract ended in between
    established(m, "f-sp-refused-first")
    job = neutral_job(m, "f-sp-refused-first", ended=date(2026, 6, 10))
    REQUESTS["f-sp-refused-first-1"] = m.removal_request(job, R1, by="someone")
    REQUESTS["f-sp-refused-first-2"] = m.removal_request(job, date(2026, 7, 15), by="f-sp-refused-first")


def test_second_removal_after_3_months_and_10_contracts(out):
    # the 10 are contracts *ended* in (R1, R2] (f-sp-ok-x0 started before R1, on 2026-06-11)
    assert decision(out, "f-sp-ok", "f-sp-ok-1")["granted"] is True
    assert decision(out, "f-sp-ok", "f-sp-ok-2")["granted"] is True


def test_second_removal_within_3_months_is_refused(out):
    assert decision(out, "f-sp-early", "f-sp-early-1")["granted"] is True
    assert decision(out, "f-sp-early", "f-sp-early-2")["granted"] is False


def test_second_removal_after_9_contracts_is_refused(out):
    assert decision(out, "f-sp-few", "f-sp-few-1")["granted"] is True
    assert decision(out, "f-sp-few", "f-sp-few-2")["granted"] is False


def test_only_a_granted_removal_starts_the_spacing(out):
    assert decision(out, "f-sp-refused-first", "f-sp-refused-first-1")["granted"] is False
    assert decision(out, "f-sp-refused-first", "f-sp-refused-first-2")["granted"] is True


# Agencies -----------------------------------------------------------------------------------------


def agency_with_neutral(m: Market, aid: str) -> tuple[str, str]:
    """A Top Rated agency with seven successful $3,000 jobs (weight 1.5) and a neutral $100 one
    (weight 1) ended 15 days ago: agency JSS 91 (12 months: 10.5/11.5); 100 without it."""
    owner, member = top_agency(m, aid)
    for i, n in enumerate((250, 150, 50)):
        m.job(f"{aid}-s{i}", member, f"{aid}-ks{i}", ago(n), amount="3000.00", agency=aid, **S)
    m.job(f"{aid}-n", member, f"{aid}-kn", ago(15), amount="100.00", agency=aid, **N)
    return owner, member


@histories
def _agencies(m: Market):
    owner, _ = agency_with_neutral(m, "a-rm")
    REQUESTS["agency-owner"] = m.removal_request("a-rm-n", ago(10), by=owner)
    _, member = agency_with_neutral(m, "a-rm-member")
    REQUESTS["agency-member"] = m.removal_request("a-rm-member-n", ago(10), by=member)
    owner, _ = agency_with_neutral(m, "a-rm-not-tr")  # the agency lost its profile: not Top Rated
    m.agency_profile("a-rm-not-tr", ago(50), services=False)
    REQUESTS["agency-not-tr"] = m.removal_request("a-rm-not-tr-n", ago(10), by=owner)


def test_agency_contract_removal_is_decided_on_the_agency_and_asked_by_the_owner(out):
    assert decision(out, "a-rm", "agency-owner")["granted"] is True
    assert out["a-rm"].jss == 100
    assert out["a-rm-m"].jss == 91  # stays in the freelancer's own JSS
    assert out["a-rm-m"].decisions == {}
    assert out["a-rm-own"].decisions == {}


def test_agency_contract_removal_asked_by_the_member_is_refused(out):
    assert decision(out, "a-rm-member", "agency-member")["granted"] is False
    assert out["a-rm-member"].jss == 91


def test_agency_contract_removal_needs_a_top_rated_agency(out):
    assert not out["a-rm-not-tr"].held("top_rated")
    assert decision(out, "a-rm-not-tr", "agency-not-tr")["granted"] is False
