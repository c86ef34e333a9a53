"""JSS windows (programme.md §1 "Windows", §10 "Months", "Key day", "Flagged client"): the 6-, 12-
and 24-month windows (D − N months, D] with calendar months clamped to the month's end; the JSS
is the best window with enough history. As of 31 March 2026: 6 months before is 30 September
2025 (no 31st), 12 months 31 March 2025, 24 months 31 March 2024.
"""

from __future__ import annotations

from datetime import date

import pytest

from .conftest import Histories, Market, ago

AS_OF = date(2026, 3, 31)
histories = Histories(as_of=AS_OF)

S = {"public": 5.0, "private": 10}
N = {"public": 4.0, "private": None}
NEG = {"public": None, "private": 2}


@pytest.fixture(scope="module")
def out():
    return histories.evaluate()


@histories
def _six_months(m: Market):
    m.freelancer("f-6m", joined="2024-01-01")
    m.job("f-6m-in", "f-6m", "k6-1", "2025-10-01", **S)  # first day of the 6-month window
    m.job("f-6m-recent", "f-6m", "k6-2", "2026-01-10", **S)
    m.job("f-6m-out", "f-6m", "k6-3", "2025-09-30", **NEG)  # 6 months before: outside


def test_six_month_window_clamps_to_the_end_of_the_month(out):
    f = out["f-6m"]
    assert f.window(6) == 100
    assert f.window(12) == 33
    assert f.jss == 100


@histories
def _twelve_months(m: Market):
    m.freelancer("f-12m", joined="2023-01-01")
    m.job("f-12m-in", "f-12m", "k12-1", "2025-04-01", **S)
    m.job("f-12m-recent", "f-12m", "k12-2", "2025-09-01", **S)
    m.job("f-12m-out", "f-12m", "k12-3", "2025-03-31", **NEG)


def test_twelve_month_window(out):
    f = out["f-12m"]
    assert f.window(6) is None  # nothing ended after 30 Sep 2025
    assert f.window(12) == 100
    assert f.window(24) == 33
    assert f.jss == 100


@histories
def _twenty_four_months(m: Market):
    m.freelancer("f-24m", joined="2022-01-01")
    m.job("f-24m-in", "f-24m", "k24-1", "2024-04-01", **S)
    m.job("f-24m-mid", "f-24m", "k24-2", "2025-01-15", **N)
    m.job("f-24m-out", "f-24m", "k24-3", "2024-03-31", **S)  # 24 months before: outside


def test_twenty_four_month_window(out):
    f = out["f-24m"]
    assert f.window(12) is None
    assert f.window(24) == 50
    assert f.jss == 50


@histories
def _best_window(m: Market):
    # 6 months: one client only (no score); 12 months: 2 clients, score 50; 24 months: 67
    m.freelancer("f-best", joined="2022-01-01")
    m.job("f-best-1", "f-best", "kb-1", "2024-06-01", **S)
    m.job("f-best-2", "f-best", "kb-2", "2025-06-01", **N)
    m.job("f-best-3", "f-best", "kb-3", "2025-12-01", **S)
    m.job("f-best-4", "f-best", "kb-3", "2026-01-01", **S)


def test_jss_is_the_best_window_with_enough_history(out):
    f = out["f-best"]
    assert f.window(6) is None
    assert f.window(12) == 67
    assert f.window(24) == 75
    assert f.jss == 75


def test_flagged_client_is_excluded_from_the_flag_day_on(market: Market):
    # S, S and a negative job for client k-bad, flagged 50 days before AS_OF (after the job ended)
    m = market
    m.freelancer("f-flag", joined=ago(700))
    m.job("f-flag-1", "f-flag", "k-good-1", ago(300), **S)
    m.job("f-flag-2", "f-flag", "k-good-2", ago(250), **S)
    m.job("f-flag-3", "f-flag", "k-bad", ago(200), **NEG)
    # another freelancer's successful job for the same client stops counting too
    m.freelancer("f-flag-other", joined=ago(700))
    m.job("f-flag-other-1", "f-flag-other", "k-bad", ago(220), **S)
    m.job("f-flag-other-2", "f-flag-other", "k-good-3", ago(210), **N)
    m.job("f-flag-other-3", "f-flag-other", "k-good-4", ago(205), **S)
    m.flag_client("k-bad", ago(50))

    before = m.evaluate(as_of=ago(51))
    assert before["f-flag"].jss == 33  # (2.5 − 1.25)/3.75
    assert before["f-flag-other"].jss == 67

    on = m.evaluate(as_of=ago(50))
    assert on["f-flag"].jss == 100  # retroactively: the job ended long before the flag
    assert on["f-flag-other"].jss == 50
