"""Job Success Score (programme.md §1, §10): eligibility, outcomes, weights, score, history.

Most freelancers here have a *reference* job (5.0/10, $400: successful, weight 1.25) and a *probe*
job of the same weight whose outcome is under test, each with its own client, so that the JSS
reads the probe's outcome: successful → 100, neutral → 50, negative → 0.
"""

from __future__ import annotations

import pytest

from toprated.evaluation.engine import evaluate_days
from toprated.evaluation.scratch import Scratch
from toprated.metrics.sources import Sources

from .conftest import AS_OF, PROGRAMME, Histories, Market, ago, scored

histories = Histories()


@pytest.fixture(scope="module")
def out():
    return histories.evaluate()


S = {"public": 5.0, "private": 10}  # successful
N = {"public": 4.0, "private": None}  # neutral
NEG = {"public": None, "private": 2}  # negative


def probe(m: Market, fid: str, **job) -> None:
    """A reference successful job and a probe job (both $400 unless said)."""
    scored(m, fid, dict(S), job)


# Score and rounding -------------------------------------------------------------------------------


@histories
def _jss_89_and_90(m: Market):
    scored(m, "f-jss-89", *[dict(S)] * 8, dict(N))  # 8/9 = 88.9 %
    scored(m, "f-jss-90", *[dict(S)] * 9, dict(N))  # 9/10 = 90 %


def test_jss_89(out):
    f = out["f-jss-89"]
    assert f.jss == 89
    assert f.value("top_rated", "jss") == 89
    assert not f.met("top_rated", "jss")


def test_jss_90(out):
    f = out["f-jss-90"]
    assert f.jss == 90
    assert f.met("top_rated", "jss")


@histories
def _rounding(m: Market):
    # weight 1 each: 5 successful of 8 = 62.5 % → 63 (half up, not half to even)
    scored(m, "f-half-up", *[dict(S, amount="100.00")] * 5, *[dict(N, amount="100.00")] * 3)
    # 1 successful, 2 negative: (1 − 2) / 3 < 0 → 0
    scored(m, "f-floor", dict(S), dict(NEG), dict(NEG))


def test_score_rounds_half_up(out):
    assert out["f-half-up"].jss == 63


def test_score_is_floored_at_zero(out):
    assert out["f-floor"].jss == 0


# Weights ------------------------------------------------------------------------------------------


@histories
def _weight_tiers(m: Market):
    # successful weight 1 ($250.00), neutral weight 1.25 ($250.01): 100·1/2.25 = 44.4
    scored(m, "f-w-250.00", dict(S, amount="250.00"), dict(N, amount="250.01"))
    # successful 1.25 ($250.01), neutral 1 ($250.00): 100·1.25/2.25 = 55.6
    scored(m, "f-w-250.01", dict(S, amount="250.01"), dict(N, amount="250.00"))
    # $0.01 weighs 1 like $250
    scored(m, "f-w-0.01", dict(S, amount="0.01"), dict(N, amount="250.01"))
    # successful 1.25 ($1,000.00), neutral 1.5 ($1,000.01): 100·1.25/2.75 = 45.5
    scored(m, "f-w-1000.00", dict(S, amount="1000.00"), dict(N, amount="1000.01"))


@pytest.mark.parametrize(
    ("fid", "jss"), [("f-w-250.00", 44), ("f-w-250.01", 56), ("f-w-0.01", 44), ("f-w-1000.00", 45)]
)
def test_weight_by_earnings(out, fid, jss):
    assert out[fid].jss == jss


def spanned(m: Market, fid: str, span: int, amounts: tuple[str, str] = ("100.00", "100.00"), refund: bool = False):
    """A successful job paid twice, `span` days apart (ended on the second payment, 30 days ago),
    and a neutral $200 job (weight 1) with another client. With `refund`, the second "payment" is
    a refund, which does not extend the span."""
    m.freelancer(fid, joined=ago(1500))
    last = ago(30)
    first = ago(30 + span)
    m.contract(f"{fid}-long", fid, f"{fid}-k1", first)
    m.pay(f"{fid}-long", first, amounts[0])
    m.pay(f"{fid}-long", last, amounts[1], refund=refund)
    m.end(f"{fid}-long", last)
    m.feedback(f"{fid}-long", last, **S)
    m.job(f"{fid}-ref", fid, f"{fid}-k2", ago(40), amount="200.00", **N)


@histories
def _weight_span(m: Market):
    spanned(m, "f-span-90", 90)  # 1 + 0 → 1/2 = 50
    spanned(m, "f-span-91", 91)  # 1 + 1 → 2/3 = 66.7
    spanned(m, "f-span-182", 182)  # 1 + 2 → 3/4 = 75
    spanned(m, "f-span-refund", 95, amounts=("300.00", "100.00"), refund=True)  # a refund is not a payment: 1 → 50
    spanned(m, "f-span-546", 546, amounts=("1000.00", "1000.00"))  # 1.5 + 6 = 7.5 → 7.5/8.5 = 88.2
    spanned(m, "f-span-910", 910, amounts=("1000.00", "1000.00"))  # 1.5 + 10 → at most 8 → 8/9 = 88.9


@pytest.mark.parametrize(
    ("fid", "jss"),
    [("f-span-90", 50), ("f-span-91", 67), ("f-span-182", 75), ("f-span-refund", 50), ("f-span-546", 88)],
)
def test_weight_plus_one_per_full_91_days_of_payment_span(out, fid, jss):
    assert out[fid].jss == jss


def test_weight_is_at_most_8(out):
    assert out["f-span-910"].jss == 89  # uncapped it would be 11.5/12.5 = 92


# Outcomes -----------------------------------------------------------------------------------------


@histories
def _thresholds(m: Market):
    probe(m, "f-pub-4.49", public=4.49, private=None)
    probe(m, "f-pub-4.50", public=4.5, private=None)
    probe(m, "f-pub-2.99", public=2.99, private=None)
    probe(m, "f-pub-3.00", public=3.0, private=None)
    for score in (5, 6, 7, 8):
        probe(m, f"f-priv-{score}", public=None, private=score)
    probe(m, "f-pub-5-priv-7", public=5.0, private=7)
    probe(m, "f-pub-4-priv-10", public=4.0, private=10)
    probe(m, "f-pub-2-priv-10", public=2.0, private=10)
    probe(m, "f-pub-5-priv-5", public=5.0, private=5)


@pytest.mark.parametrize(
    ("fid", "jss", "outcome"),
    [
        ("f-pub-4.49", 50, "neutral"),
        ("f-pub-4.50", 100, "successful"),
        ("f-pub-2.99", 0, "negative"),
        ("f-pub-3.00", 50, "neutral"),
        ("f-priv-5", 0, "negative"),
        ("f-priv-6", 50, "neutral"),
        ("f-priv-7", 50, "neutral"),
        ("f-priv-8", 100, "successful"),
        ("f-pub-5-priv-7", 50, "neutral"),
        ("f-pub-4-priv-10", 50, "neutral"),
        ("f-pub-2-priv-10", 0, "negative"),
        ("f-pub-5-priv-5", 0, "negative"),
    ],
)
def test_outcome_thresholds(out, fid, jss, outcome):
    assert out[fid].jss == jss, f"probe should be {outcome}"


@histories
def _rehire(m: Market):
    # a second job with the same client, ended with neutral feedback, is successful
    m.freelancer("f-rehire", joined=ago(700))
    m.job("f-rehire-c1", "f-rehire", "f-rehire-k1", ago(300), **S)
    m.job("f-rehire-c2", "f-rehire", "f-rehire-k1", ago(100), **N)  # rehire → successful
    m.job("f-rehire-c3", "f-rehire", "f-rehire-k2", ago(90), **N)
    # ... unless its outcome is negative
    m.freelancer("f-rehire-neg", joined=ago(700))
    m.job("f-rehire-neg-c1", "f-rehire-neg", "f-rehire-neg-k1", ago(300), **S)
    m.job("f-rehire-neg-c2", "f-rehire-neg", "f-rehire-neg-k1", ago(100), **NEG)
    m.job("f-rehire-neg-c3", "f-rehire-neg", "f-rehire-neg-k2", ago(90), **S)
    # two jobs with one client started the same day: neither is a rehire
    m.freelancer("f-same-day", joined=ago(700))
    m.job("f-same-day-c1", "f-same-day", "f-same-day-k1", ago(100), days=20, **N)
    m.job("f-same-day-c2", "f-same-day", "f-same-day-k1", ago(90), days=30, **N)
    m.job("f-same-day-c3", "f-same-day", "f-same-day-k2", ago(80), **S)
    # the rehire rule applies only to ended contracts: a running long-term rehire with neutral
    # feedback stays neutral
    m.freelancer("f-rehire-running", joined=ago(700))
    m.job("f-rehire-running-c1", "f-rehire-running", "f-rehire-running-k1", ago(300), **S)
    m.work(
        "f-rehire-running-c2", "f-rehire-running", "f-rehire-running-k1", [(ago(100), "100.00"), (ago(10), "100.00")]
    )
    m.feedback("f-rehire-running-c2", ago(5), **N)
    m.job("f-rehire-running-c3", "f-rehire-running", "f-rehire-running-k2", ago(90), **S)


def test_rehire_ending_without_negative_outcome_is_successful(out):
    assert out["f-rehire"].jss == 67  # S, S (rehire), N: 2.5/3.75


def test_negative_rehire_stays_negative(out):
    assert out["f-rehire-neg"].jss == 33  # S, NEG, S: 1.25/3.75


def test_contracts_started_the_same_day_are_not_rehires(out):
    assert out["f-same-day"].jss == 33  # N, N, S


def test_rehire_rule_applies_only_to_ended_contracts(out):
    assert out["f-rehire-running"].jss == 71  # S 1.25, N (long-term, weight 1), S 1.25: 2.5/3.5


# Long-term contracts ------------------------------------------------------------------------------


def long_term(m: Market, fid: str, payments: list, end=None):
    """A contract paid $100 at each of `payments` (no feedback; ended on `end` if given) and a
    neutral $200 job (weight 1) with another client: JSS 50 when the contract counts as long-term
    (successful, weight 1), null when it does not count (one eligible contract)."""
    m.freelancer(fid, joined=ago(700))
    m.work(f"{fid}-lt", fid, f"{fid}-k1", [(d, "100.00") for d in payments])
    if end is not None:
        m.end(f"{fid}-lt", end)
    m.job(f"{fid}-ref", fid, f"{fid}-k2", ago(40), amount="200.00", **N)


@histories
def _long_term(m: Market):
    long_term(m, "f-lt-90", [ago(100), ago(10)])  # span 90, gap 90, last paid 10 days ago
    long_term(m, "f-lt-span-89", [ago(99), ago(10)])
    long_term(m, "f-lt-gap-91", [ago(101), ago(10)])
    long_term(m, "f-lt-paid-89-days-ago", [ago(179), ago(89)])
    long_term(m, "f-lt-paid-90-days-ago", [ago(180), ago(90)])
    long_term(m, "f-lt-ended", [ago(300), ago(210)], end=ago(200))  # ended: no recency needed
    long_term(m, "f-lt-one-payment", [ago(100)])
    # three payments 90 days apart: span 180 → weight 1.25 ($300) + 1 = 2.25; 2.25/3.25 = 69.2
    long_term(m, "f-lt-3-payments", [ago(190), ago(100), ago(10)])
    # three payments but one gap of 91 days
    long_term(m, "f-lt-3-payments-gap", [ago(190), ago(99), ago(10)])


@pytest.mark.parametrize(
    ("fid", "jss"),
    [
        ("f-lt-90", 50),
        ("f-lt-span-89", None),
        ("f-lt-gap-91", None),
        ("f-lt-paid-89-days-ago", 50),
        ("f-lt-paid-90-days-ago", None),
        ("f-lt-ended", 50),
        ("f-lt-one-payment", None),
        ("f-lt-3-payments", 69),
        ("f-lt-3-payments-gap", None),
    ],
)
def test_long_term_contracts_count_as_successful_without_feedback(out, fid, jss):
    assert out[fid].jss == jss


def test_long_term_gaps_on_a_one_day_evaluation(out):
    """The weekly run's one-day evaluation finds long gaps without ordering payments (in buckets of
    90 days): gaps of 90 and 91 days on either side of every bucket boundary, an empty bucket, and
    gaps inside one bucket all give the JSS of the calendar of days."""
    m = Market()
    for build in histories.builders:
        build(m)
    fids = [f for f in out if f.startswith("f-lt-")]
    for shift in range(0, 90, 7):
        base = 5 + shift  # the last payment at most 89 days ago: recent enough
        patterns = {
            "g90": [base + 180, base + 90, base],
            "g91": [base + 181, base + 90, base],
            "g89-1": [base + 179, base + 90, base + 89, base],
            "weekly-then-91": [base + 300, base + 293, base + 286, base + 195, base + 188, base + 97],
            "g200": [base + 200, base],  # a whole bucket without a payment between the two
        }
        for name, days in patterns.items():
            fid = f"f-gap-{name}-{shift}"
            long_term(m, fid, [ago(d) for d in days])
            fids.append(fid)
    try:
        days = m.evaluate(entities=fids)
        store = m._open()
        weekly_p = PROGRAMME.model_copy(
            update={"top_rated": PROGRAMME.top_rated.model_copy(update={"weeks_window": 1, "weeks_required": 1})}
        )
        with Scratch(store.ibis()) as scratch:
            fr, _, _ = evaluate_days(Sources.from_backend(store.ibis()), weekly_p, [AS_OF], scratch)
            one_day = {r["entity_id"]: r["jss"] for r in fr.to_pyarrow().to_pylist() if r["entity_id"] in fids}
    finally:
        m.close()
    assert {f: days[f].jss for f in fids} == one_day
    for shift in range(0, 90, 7):  # long-term, so it counts: a JSS; else one eligible contract, none
        assert one_day[f"f-gap-g90-{shift}"] is not None and one_day[f"f-gap-g89-1-{shift}"] is not None
        assert one_day[f"f-gap-g91-{shift}"] is None and one_day[f"f-gap-weekly-then-91-{shift}"] is None
        assert one_day[f"f-gap-g200-{shift}"] is None


# Eligibility --------------------------------------------------------------------------------------


@histories
def _enough_history(m: Market):
    m.freelancer("f-one-client", joined=ago(700))
    m.job("f-one-client-c1", "f-one-client", "f-one-client-k", ago(200))
    m.job("f-one-client-c2", "f-one-client", "f-one-client-k", ago(100))
    scored(m, "f-two-clients", dict(S), dict(S))
    # one job with feedback and one running contract (no feedback, not long-term): not enough
    scored(m, "f-one-eligible", dict(S))
    m.work("f-one-eligible-run", "f-one-eligible", "f-one-eligible-k9", [(ago(10), "500.00")])


def test_two_contracts_from_one_client_give_no_jss(out):
    assert out["f-one-client"].jss is None
    assert not out["f-one-client"].met("top_rated", "jss")


def test_two_contracts_from_two_clients_give_a_jss(out):
    assert out["f-two-clients"].jss == 100


def test_a_running_contract_is_not_history(out):
    assert out["f-one-eligible"].jss is None


@histories
def _disputes(m: Market):
    # open dispute: the (negative) contract is not counted
    probe(m, "f-dispute-open", **NEG)
    m.dispute("f-dispute-open-c1", ago(95))
    # won: counted with its feedback (successful) — S, N, S
    scored(m, "f-dispute-won", dict(S), dict(N), dict(S))
    m.resolve(m.dispute("f-dispute-won-c2", ago(95)), ago(50), "freelancer_won")
    # settled: counted with its feedback — S, N, S
    scored(m, "f-dispute-settled", dict(S), dict(N), dict(S))
    m.resolve(m.dispute("f-dispute-settled-c2", ago(95)), ago(50), "settled")
    # lost: negative whatever the feedback — S, S, NEG
    scored(m, "f-dispute-lost", dict(S), dict(S), dict(S))
    m.resolve(m.dispute("f-dispute-lost-c2", ago(95)), ago(50), "freelancer_lost")


def test_open_dispute_excludes_the_contract(out):
    assert out["f-dispute-open"].jss is None  # one eligible contract left


def test_dispute_won_or_settled_counts_by_feedback(out):
    assert out["f-dispute-won"].jss == 67
    assert out["f-dispute-settled"].jss == 67


def test_dispute_lost_is_negative(out):
    assert out["f-dispute-lost"].jss == 33


@histories
def _no_work_delivered(m: Market):
    scored(m, "f-nwd", dict(S), dict(S), dict(S, reason="no_work_delivered"))
    # no payment, negative: still counted (weight 1): (2.5 − 1)/3.5 = 42.9
    scored(m, "f-nwd-unpaid", dict(S), dict(S), dict(public=1.0, private=None, amount=None, reason="no_work_delivered"))


def test_no_work_delivered_is_negative(out):
    assert out["f-nwd"].jss == 33


def test_negative_contract_counts_even_with_zero_earnings(out):
    assert out["f-nwd-unpaid"].jss == 43


@histories
def _zero_earnings(m: Market):
    scored(m, "f-zero-positive", dict(S), dict(N), dict(S, amount=None))
    scored(m, "f-refunded-positive", dict(S), dict(N), dict(S))
    m.refund("f-refunded-positive-c2", ago(50), "400.00")


def test_zero_dollar_contract_with_positive_feedback_is_not_counted(out):
    assert out["f-zero-positive"].jss == 50


def test_fully_refunded_contract_with_positive_feedback_is_not_counted(out):
    assert out["f-refunded-positive"].jss == 50


# Feedback -----------------------------------------------------------------------------------------


@histories
def _latest_feedback(m: Market):
    # negative private feedback, then public-only 5.0 the next day: the latest replaces it entirely
    scored(m, "f-fb-improved", dict(S), dict(N), dict(NEG, ended=ago(60)))
    m.feedback("f-fb-improved-c2", ago(59), public=5.0)
    # 5.0/10, then public 2.0: negative
    scored(m, "f-fb-worsened", dict(S), dict(N), dict(S, ended=ago(60)))
    m.feedback("f-fb-worsened-c2", ago(59), public=2.0)


def test_latest_feedback_replaces_earlier_entirely(out):
    assert out["f-fb-improved"].jss == 67  # S, N, S
    assert out["f-fb-worsened"].jss == 0  # S, N, NEG: (1.25 − 1.25)/3.75


@histories
def _same_day_order(m: Market):
    d = ago(60).isoformat()
    # same day: 09:00 (id zz…) successful, 10:00 (id aa…) negative → the 10:00 one is the latest
    scored(m, "f-order-time", dict(S), dict(N), dict(amount="400.00", public=None, private=None, ended=ago(60)))
    m.feedback("f-order-time-c2", f"{d}T09:00:00Z", event_id="f-order-time-zz", **S)
    m.feedback("f-order-time-c2", f"{d}T10:00:00Z", event_id="f-order-time-aa", **NEG)
    # same instant: ordered by id → x-2 (successful) is the latest
    scored(m, "f-order-id", dict(S), dict(N), dict(amount="400.00", public=None, private=None, ended=ago(60)))
    m.feedback("f-order-id-c2", f"{d}T12:00:00Z", event_id="f-order-id-x-2", **S)
    m.feedback("f-order-id-c2", f"{d}T12:00:00Z", event_id="f-order-id-x-1", **NEG)
    # instants compared in UTC: 23:30 at UTC−2 is 01:30 UTC the next day, after 01:00 UTC
    nxt = ago(59).isoformat()
    scored(m, "f-order-tz", dict(S), dict(N), dict(amount="400.00", public=None, private=None, ended=ago(60)))
    m.feedback("f-order-tz-c2", f"{d}T23:30:00-02:00", event_id="f-order-tz-1", **NEG)
    m.feedback("f-order-tz-c2", f"{nxt}T01:00:00Z", event_id="f-order-tz-2", **S)


def test_same_day_events_apply_in_time_order(out):
    assert out["f-order-time"].jss == 0


def test_same_instant_events_apply_in_id_order(out):
    assert out["f-order-id"].jss == 67


def test_event_times_are_compared_in_utc(out):
    assert out["f-order-tz"].jss == 0


# Whose contracts ----------------------------------------------------------------------------------


@histories
def _agency_contracts(m: Market):
    # the freelancer's JSS uses their agency contracts too; the agency's uses only its own
    m.freelancer("f-ag-own", joined=ago(700))
    m.agency("a-jss", "f-ag-own", created=ago(600))
    m.freelancer("f-ag-worker", joined=ago(700))
    m.member_joined("a-jss", "f-ag-worker", ago(600))
    m.job("a-jss-c1", "f-ag-worker", "k-aj1", ago(200), agency="a-jss", **S)
    m.job("a-jss-c2", "f-ag-worker", "k-aj2", ago(150), agency="a-jss", **N)
    m.job("f-ag-worker-solo", "f-ag-worker", "k-aj3", ago(100), **S)


def test_whose_contracts(out):
    assert out["f-ag-worker"].jss == 67  # S, N, S
    assert out["a-jss"].jss == 50  # S, N
    assert out["f-ag-own"].jss is None
