"""Properties (hypothesis) of the JSS and of the pure date and score helpers.

Engine properties evaluate generated marketplaces (several freelancers with random contracts,
payments, refunds, feedback, end reasons and disputes) through the real store and service. An
evaluation costs about a second whatever the size, so each example holds several freelancers and
the examples are few. The pure helpers are checked with many examples.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toprated.metrics.calendar import months_before
from toprated.metrics.jss import score_of

from .conftest import AS_OF, Market, ago

SLOW = settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
FAST = settings(max_examples=2000, deadline=None)

# Generated marketplaces -----------------------------------------------------------------------------

AMOUNTS = [None, "100.00", "250.00", "250.01", "999.99", "1000.01", "3000.00"]
PUBLIC = [None, 1.0, 2.99, 3.0, 4.0, 4.49, 4.5, 5.0]
PRIVATE = [None, 0, 3, 5, 6, 7, 8, 10]
DISPUTES = [None] * 8 + ["open", "freelancer_won", "freelancer_lost", "settled"]

contracts = st.fixed_dictionaries(
    {
        "client": st.integers(0, 3),
        "start": st.integers(20, 800),  # days before AS_OF
        "first_pay": st.integers(0, 30),  # days after the start
        "amount": st.sampled_from(AMOUNTS),
        "second": st.none() | st.tuples(st.integers(1, 200), st.sampled_from(AMOUNTS[1:])),  # (days later, amount)
        "refund": st.booleans(),
        "end": st.sampled_from([None, 0, 0, 1, 5, 10, 30]),  # days after the last payment
        "reason": st.sampled_from(["completed", "completed", "cancelled", "no_work_delivered"]),
        "public": st.sampled_from(PUBLIC),
        "private": st.sampled_from(PRIVATE),
        "dispute": st.sampled_from(DISPUTES),
    }
)
marketplaces = st.lists(st.lists(contracts, min_size=2, max_size=7), min_size=3, max_size=6)


def clamp(d: date) -> date:
    return min(d, AS_OF)


def build(histories: list[list[dict[str, Any]]]) -> Market:
    """One freelancer `g<j>` per history, each contract `g<j>-c<i>` with client `g<j>-k<client>`."""
    m = Market()
    for j, specs in enumerate(histories):
        fid = f"g{j}"
        m.freelancer(fid, joined=ago(900))
        m.activity(fid, ago(5))
        for i, c in enumerate(specs):
            cid = f"{fid}-c{i}"
            last = ago(c["start"])
            m.contract(cid, fid, f"{fid}-k{c['client']}", last)
            if c["amount"] is not None:
                last = clamp(last + timedelta(days=c["first_pay"]))
                m.pay(cid, last, c["amount"])
                if c["second"] is not None:
                    last = clamp(last + timedelta(days=c["second"][0]))
                    m.pay(cid, last, c["second"][1])
                if c["refund"]:
                    m.refund(cid, last, "50.00")
            if c["end"] is not None:
                last = clamp(last + timedelta(days=c["end"]))
                m.end(cid, last, c["reason"])
                if c["public"] is not None or c["private"] is not None:
                    m.feedback(cid, last, c["public"], c["private"])
            if c["dispute"] is not None:
                did = m.dispute(cid, last, dispute_id=f"{cid}-d")
                if c["dispute"] != "open":
                    m.resolve(did, clamp(last + timedelta(days=3)), c["dispute"])
    return m


ID_FIELDS = ("freelancer_id", "contract_id", "client_id", "dispute_id")


def twin(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same events for twin entities: `g<j>…` ids become `h<j>…`, event ids get an `h-` prefix
    (which keeps their relative order). Twins share nothing with the originals, so one evaluation
    of a market holding both compares them."""
    out = []
    for e in events:
        data = {k: ("h" + v[1:] if k in ID_FIELDS else v) for k, v in e["data"].items()}
        out.append({**e, "id": "h-" + e["id"], "data": data})
    return out


def evaluate_events(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{entity id: entity JSON} of the document of these events (imported in this order)."""
    m = Market()
    m.events = list(events)
    try:
        doc = m.document()
    finally:
        m.close()
    check_jss_values(doc)
    return {e["id"]: e for e in doc["entities"]}


def pairs(out: dict[str, dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(original, twin) entity JSON pairs."""
    found = [(e, out["h" + fid[1:]]) for fid, e in sorted(out.items()) if fid.startswith("g")]
    assert found and len(found) * 2 == len(out)
    return found


def check_jss_values(doc: dict[str, Any]) -> None:
    """JSS is null or a whole percentage, and it is the best window's score; with no manual act,
    a programme is held exactly when all its criteria are met, and `badges` lists those held."""
    for e in doc["entities"]:
        for badge, prog in e["programmes"].items():
            assert prog["held"] == all(c["met"] for c in prog["criteria"]), (badge, e)
            assert (badge in e["badges"]) == prog["held"], (badge, e)
        jss = e["jss"]
        assert jss is None or (isinstance(jss, int) and not isinstance(jss, bool) and 0 <= jss <= 100), e
        windows = [v for v in (e.get("jss_windows") or {}).values() if v is not None]
        for v in windows:
            assert isinstance(v, int) and 0 <= v <= 100, e
        if "jss_windows" in e:
            assert jss == (max(windows) if windows else None), e


@SLOW
@given(marketplaces)
def test_jss_is_null_or_a_whole_percentage(histories):
    evaluate_events(build(histories).events)  # checks every entity


@SLOW
@given(marketplaces, st.data())
def test_event_order_does_not_change_the_output(histories, data):
    """Originals arrive in the order they were written, their twins in a random order."""
    events = build(histories).events
    shuffled = data.draw(st.permutations(twin(events)))
    for original, copy in pairs(evaluate_events(events + shuffled)):
        assert {**copy, "id": original["id"]} == original


def negative_parts(events: list[dict[str, Any]]) -> set[str]:
    """Ids of the events that make a contract negative through feedback (public < 3.0, private ≤ 5)
    or a lost dispute (its opening and resolution)."""
    drop: set[str] = set()
    lost = {
        e["data"]["dispute_id"]
        for e in events
        if e["type"] == "dispute.resolved" and e["data"]["outcome"] == "freelancer_lost"
    }
    for e in events:
        d = e["data"]
        if e["type"] == "feedback.given":
            pub, priv = d.get("public_score"), d.get("private_score")
            if (pub is not None and pub < 3.0) or (priv is not None and priv <= 5):
                drop.add(e["id"])
        elif e["type"] in ("dispute.opened", "dispute.resolved") and d["dispute_id"] in lost:
            drop.add(e["id"])
    return drop


@SLOW
@given(marketplaces)
def test_removing_negative_feedback_or_lost_dispute_never_lowers_the_jss(histories):
    """Twins lose the feedback and lost disputes that made contracts negative. Per window with
    enough history in both, the score never falls; the JSS never falls unless a window loses its
    enough-history (then the best may come from another, worse window: "the best of the windows
    that have enough history" allows that)."""
    events = build(histories).events
    drop = negative_parts(events)
    out = evaluate_events(events + twin([e for e in events if e["id"] not in drop]))
    for before, after in pairs(out):
        bw, aw = before.get("jss_windows") or {}, after.get("jss_windows") or {}
        for w, score in bw.items():
            if score is not None and aw.get(w) is not None:
                assert aw[w] >= score, (w, before, after)
        same_windows = {w for w, v in bw.items() if v is not None} == {w for w, v in aw.items() if v is not None}
        if before["jss"] is not None and same_windows:
            assert after["jss"] >= before["jss"], (before, after)


# Pure helpers -----------------------------------------------------------------------------------------

days = st.dates(min_value=date(1901, 1, 1), max_value=date(2199, 12, 31))


@FAST
@given(days, st.integers(0, 600))
def test_months_before_is_the_same_day_number_clamped(d, n):
    r = months_before(d, n)
    assert r.year * 12 + r.month == d.year * 12 + d.month - n
    assert r.day == min(d.day, calendar.monthrange(r.year, r.month)[1])
    assert r <= d


@FAST
@given(days, days, st.integers(0, 600))
def test_months_before_is_monotonic_in_the_day(d1, d2, n):
    lo, hi = sorted((d1, d2))
    assert months_before(lo, n) <= months_before(hi, n)


@FAST
@given(days, st.integers(0, 300), st.integers(0, 300))
def test_months_before_is_monotonic_in_the_months(d, n1, n2):
    lo, hi = sorted((n1, n2))
    assert months_before(d, hi) <= months_before(d, lo)
    assert months_before(d, 0) == d


@pytest.mark.parametrize(
    ("d", "n", "expected"),
    [
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2026, 3, 31), 6, date(2025, 9, 30)),
        (date(2026, 3, 31), 12, date(2025, 3, 31)),
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
        (date(2024, 2, 29), 24, date(2022, 2, 28)),
        (date(2026, 1, 15), 3, date(2025, 10, 15)),
    ],
)
def test_months_before_examples(d, n, expected):
    assert months_before(d, n) == expected


def reference_score(good: int, total: int) -> int:
    """round-half-up(max(0, 100·good/total)) in exact Decimal arithmetic."""
    with localcontext() as ctx:
        ctx.prec = 200
        x = max(Decimal(0), Decimal(100) * Decimal(good) / Decimal(total))
        return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@FAST
@given(st.integers(-(10**9), 10**9), st.integers(1, 10**9))
def test_score_of_is_round_half_up_of_the_floored_percentage(good, total):
    assert score_of(good, total) == reference_score(good, total)


weights = st.integers(100, 800)  # a contract's weight in hundredths: 1 to 8
outcomes = st.sampled_from(["successful", "neutral", "negative"])


@FAST
@given(st.lists(st.tuples(weights, outcomes), min_size=1, max_size=40))
def test_score_of_contracts_is_a_percentage(contracts):
    good = sum(w for w, o in contracts if o == "successful") - sum(w for w, o in contracts if o == "negative")
    total = sum(w for w, _ in contracts)
    s = score_of(good, total)
    assert 0 <= s <= 100
    assert s == reference_score(good, total)


@given(st.integers(-5, 5), st.integers(-(10**6), 0))
@settings(max_examples=50)
def test_score_of_needs_a_positive_total(good, total):
    with pytest.raises(ValueError):
        score_of(good, total)


@pytest.mark.parametrize(
    ("good", "total", "expected"),
    [(625, 1000, 63), (8, 9, 89), (9, 10, 90), (1, 2, 50), (1, 200, 1), (1, 201, 0), (-5, 10, 0), (0, 10, 0)],
)
def test_score_of_examples(good, total, expected):
    assert score_of(good, total) == expected
