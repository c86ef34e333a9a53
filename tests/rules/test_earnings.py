"""Earnings in the last 365 days (programme.md §3.5, §10 "A contract's earnings", "Earnings in the
last 365 days"): payments minus refunds dated in (D − 365 days, D], never below $0; time in UTC.

Every freelancer here is a `veteran`: Top Rated in every respect but earnings, which come only
from what the history adds, so `earnings_12m` is the only criterion that can fail.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import Histories, Market, ago, veteran

histories = Histories()


@pytest.fixture(scope="module")
def out():
    return histories.evaluate()


def earned(e) -> Decimal:
    return Decimal(str(e.value("top_rated", "earnings_12m"))).quantize(Decimal("0.01"))


@histories
def _just_under_and_at_1000(m: Market):
    veteran(m, "f-999.99")
    m.work("f-999.99-new", "f-999.99", "k-999", [(ago(30), "999.99")])
    veteran(m, "f-1000.00")
    m.work("f-1000.00-new", "f-1000.00", "k-1000", [(ago(30), "1000.00")])


def test_999_99_earned_is_not_enough(out):
    f = out["f-999.99"]
    assert earned(f) == Decimal("999.99")
    assert not f.met("top_rated", "earnings_12m")
    assert f.failing("top_rated") == ["earnings_12m"]
    assert not f.held("top_rated")


def test_1000_00_earned_is_enough(out):
    f = out["f-1000.00"]
    assert earned(f) == Decimal("1000.00")
    assert f.met("top_rated", "earnings_12m")
    assert f.held("top_rated")
    assert f.badges == ["top_rated"]


@histories
def _payment_age(m: Market):
    for n in (364, 365, 366):
        fid = f"f-paid-{n}-days-ago"
        veteran(m, fid)
        m.work(f"{fid}-new", fid, f"k-age-{n}", [(ago(n), "1000.00")])


def test_payment_364_days_back_is_in_the_window(out):
    f = out["f-paid-364-days-ago"]
    assert earned(f) == Decimal("1000.00")
    assert f.met("top_rated", "earnings_12m")


@pytest.mark.parametrize("n", [365, 366])
def test_payment_365_or_more_days_back_is_out_of_the_window(out, n):
    # (D − 365 days, D]: D − 365 itself is out
    f = out[f"f-paid-{n}-days-ago"]
    assert earned(f) == Decimal("0.00")
    assert not f.met("top_rated", "earnings_12m")


@histories
def _refunds(m: Market):
    # $1,500 paid, $500 of it refunded later: $1,000
    veteran(m, "f-refund-1500-500")
    m.work("f-refund-1500-500-new", "f-refund-1500-500", "k-r1", [(ago(100), "1500.00")])
    m.refund("f-refund-1500-500-new", ago(50), "500.00")
    # $1,200 paid this year; $300 refunded this year on a job paid two years ago: $900
    veteran(m, "f-refund-old-job")
    m.work("f-refund-old-job-new", "f-refund-old-job", "k-r2", [(ago(20), "1200.00")])
    m.refund("f-refund-old-job-old1", ago(10), "300.00")
    # only a refund this year: −$300 is floored at $0
    veteran(m, "f-refund-only")
    m.refund("f-refund-only-old1", ago(10), "300.00")


def test_refunds_subtract_from_earnings(out):
    f = out["f-refund-1500-500"]
    assert earned(f) == Decimal("1000.00")
    assert f.met("top_rated", "earnings_12m")


def test_a_refund_in_the_window_subtracts_even_for_an_old_payment(out):
    f = out["f-refund-old-job"]
    assert earned(f) == Decimal("900.00")
    assert not f.met("top_rated", "earnings_12m")


def test_earnings_are_never_below_zero(out):
    f = out["f-refund-only"]
    assert earned(f) == Decimal("0.00")
    assert not f.met("top_rated", "earnings_12m")
    assert f.jss == 100  # the refunded job still earned $100 and counts


@histories
def _utc_days(m: Market):
    # D − 365 = 2025-11-23. 23:00 at UTC−5 is 04:00 UTC on the 24th: in the window.
    veteran(m, "f-tz-in")
    m.contract("f-tz-in-new", "f-tz-in", "k-tz1", ago(400))
    m.pay("f-tz-in-new", "2025-11-23T23:00:00-05:00", "1000.00")
    # 01:00 at UTC+3 on the 24th is 22:00 UTC on the 23rd: out of the window.
    veteran(m, "f-tz-out")
    m.contract("f-tz-out-new", "f-tz-out", "k-tz2", ago(400))
    m.pay("f-tz-out-new", "2025-11-24T01:00:00+03:00", "1000.00")


def test_a_payment_counts_on_its_utc_day_late_evening_west(out):
    assert earned(out["f-tz-in"]) == Decimal("1000.00")
    assert out["f-tz-in"].met("top_rated", "earnings_12m")


def test_a_payment_counts_on_its_utc_day_early_morning_east(out):
    assert earned(out["f-tz-out"]) == Decimal("0.00")
    assert not out["f-tz-out"].met("top_rated", "earnings_12m")


@histories
def _agency_contracts_count_for_the_freelancer(m: Market):
    # §10 "Whose contracts": a freelancer's earnings include their agency contracts
    veteran(m, "f-via-agency")
    m.freelancer("f-via-agency-owner", joined=ago(600))
    m.agency("a-earn", "f-via-agency-owner", created=ago(500))
    m.member_joined("a-earn", "f-via-agency", ago(500))
    m.work("a-earn-c1", "f-via-agency", "k-ag", [(ago(30), "1000.00")], agency="a-earn")


def test_agency_contracts_count_in_the_freelancers_earnings(out):
    assert earned(out["f-via-agency"]) == Decimal("1000.00")
    assert out["f-via-agency"].held("top_rated")
    assert earned(out["a-earn"]) == Decimal("1000.00")
