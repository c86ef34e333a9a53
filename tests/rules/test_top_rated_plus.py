"""Top Rated Plus for freelancers (programme.md §4, §10 "Top Rated Plus large contract").

Each freelancer is a typical established Top Rated freelancer ($3,200 in 365 days) plus a running
*large candidate* contract paid 30 days ago and, where earnings need it, a $7,000 `legal` filler
contract (category "other", threshold $20,000: never large here).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import Histories, Market, ago, established

histories = Histories()

THRESHOLDS = {
    "writing": Decimal("5000.00"),
    "design": Decimal("5000.00"),
    "engineering_architecture": Decimal("5000.00"),
    "sales_marketing": Decimal("10000.00"),
    "web_mobile_software_dev": Decimal("30000.00"),
    "admin_support": Decimal("20000.00"),  # a listed category without its own threshold
    "quantum_basketry": Decimal("20000.00"),  # an unknown category
}
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def out():
    return histories.evaluate()


def plus(
    m: Market, fid: str, amount: str | None = "6000.00", category: str = "writing", filler: str | None = "7000.00"
):
    """An established Top Rated freelancer with a running large candidate `<fid>-big` paid `amount`
    30 days ago, and a filler contract paid `filler`."""
    established(m, fid)
    if amount is not None:
        m.work(f"{fid}-big", fid, f"{fid}-kb", [(ago(30), amount)], category=category)
    if filler is not None:
        m.work(f"{fid}-filler", fid, f"{fid}-kf", [(ago(30), filler)], category="legal")


def large(e) -> bool:
    return e.met("top_rated_plus", "large_contract")


@histories
def _typical(m: Market):
    plus(m, "f-plus")


def test_typical_top_rated_plus(out):
    f = out["f-plus"]
    assert f.badges == ["top_rated", "top_rated_plus"]
    assert f.failing("top_rated_plus") == []
    assert Decimal(str(f.value("top_rated_plus", "earnings_12m"))) == Decimal("16200.00")


@histories
def _thresholds(m: Market):
    for category, t in THRESHOLDS.items():
        plus(m, f"f-plus-{category}-at", amount=str(t), category=category)
        plus(m, f"f-plus-{category}-under", amount=str(t - CENT), category=category)


@pytest.mark.parametrize("category", sorted(THRESHOLDS))
def test_large_contract_threshold_by_category(out, category):
    at, under = out[f"f-plus-{category}-at"], out[f"f-plus-{category}-under"]
    assert large(at), f"{category}: {THRESHOLDS[category]} is large"
    assert at.held("top_rated_plus")
    assert not large(under), f"{category}: {THRESHOLDS[category] - CENT} is not large"
    assert under.failing("top_rated_plus") == ["large_contract"]


@histories
def _earnings(m: Market):
    plus(m, "f-plus-9999.99", amount="5000.00", filler="1799.99")
    plus(m, "f-plus-10000.00", amount="5000.00", filler="1800.00")


def test_top_rated_plus_needs_10000_in_365_days(out):
    under, at = out["f-plus-9999.99"], out["f-plus-10000.00"]
    assert Decimal(str(under.value("top_rated_plus", "earnings_12m"))) == Decimal("9999.99")
    assert under.failing("top_rated_plus") == ["earnings_12m"]
    assert at.held("top_rated_plus")


@histories
def _which_contract(m: Market):
    # two $3,000 writing contracts with the same client do not add up
    plus(m, "f-plus-split", amount=None)
    for i in (1, 2):
        m.work(f"f-plus-split-{i}", "f-plus-split", "f-plus-split-k", [(ago(30 + i), "3000.00")])
    # no payment on it in the last 365 days
    plus(m, "f-plus-old", amount=None)
    m.work("f-plus-old-big", "f-plus-old", "f-plus-old-kb", [(ago(400), "6000.00")])
    # refunds count: $6,000 − $1,000.01
    plus(m, "f-plus-refunded")
    m.refund("f-plus-refunded-big", ago(20), "1000.01")
    # an agency contract of the freelancer counts for them
    plus(m, "f-plus-agency", amount=None)
    m.freelancer("f-plus-agency-owner", joined=ago(800))
    m.agency("a-plus-f", "f-plus-agency-owner", created=ago(800))
    m.member_joined("a-plus-f", "f-plus-agency", ago(800))
    m.work("f-plus-agency-big", "f-plus-agency", "f-plus-agency-kb", [(ago(30), "6000.00")], agency="a-plus-f")
    # $4,990 paid 400 days ago and $10 30 days ago: $5,000 on one contract, paid in the window
    plus(m, "f-plus-topped-up", amount=None)
    m.work(
        "f-plus-topped-up-big", "f-plus-topped-up", "f-plus-topped-up-kb", [(ago(400), "4990.00"), (ago(30), "10.00")]
    )
    # ended long ago but paid within 365 days: still a payment in the window
    plus(m, "f-plus-ended", amount=None)
    m.job("f-plus-ended-big", "f-plus-ended", "f-plus-ended-kb", ago(300), amount="6000.00")


@pytest.mark.parametrize(
    ("fid", "is_large"),
    [
        ("f-plus-split", False),
        ("f-plus-old", False),
        ("f-plus-refunded", False),
        ("f-plus-agency", True),
        ("f-plus-topped-up", True),
        ("f-plus-ended", True),
    ],
)
def test_large_contract_is_one_contract_paid_in_365_days(out, fid, is_large):
    f = out[fid]
    assert large(f) is is_large
    assert f.held("top_rated_plus") is is_large


@histories
def _outcomes(m: Market):
    plus(m, "f-plus-open-dispute")
    m.dispute("f-plus-open-dispute-big", ago(10))
    plus(m, "f-plus-dispute-won")
    m.resolve(m.dispute("f-plus-dispute-won-big", ago(20)), ago(10), "freelancer_won")
    plus(m, "f-plus-dispute-lost")
    m.resolve(m.dispute("f-plus-dispute-lost-big", ago(20)), ago(10), "freelancer_lost")
    plus(m, "f-plus-no-work")
    m.end("f-plus-no-work-big", ago(20), "no_work_delivered")
    plus(m, "f-plus-negative")
    m.end("f-plus-negative-big", ago(20))
    m.feedback("f-plus-negative-big", ago(20), private=2)
    # the flagged client's feedback is ignored everywhere: no negative outcome
    plus(m, "f-plus-flagged")
    m.end("f-plus-flagged-big", ago(20))
    m.feedback("f-plus-flagged-big", ago(20), private=2)
    m.flag_client("f-plus-flagged-kb", ago(5))


@pytest.mark.parametrize(
    ("fid", "is_large"),
    [
        ("f-plus-open-dispute", False),
        ("f-plus-dispute-won", True),
        ("f-plus-dispute-lost", False),
        ("f-plus-no-work", False),
        ("f-plus-negative", False),
        ("f-plus-flagged", True),
    ],
)
def test_large_contract_without_negative_outcome_or_open_dispute(out, fid, is_large):
    assert large(out[fid]) is is_large


def test_open_dispute_disqualifies_top_rated_plus(out):
    f = out["f-plus-open-dispute"]
    assert f.badges == ["top_rated"]
    assert f.failing("top_rated_plus") == ["large_contract"]


@histories
def _top_rated_first(m: Market):
    plus(m, "f-plus-profile-99")
    m.profile("f-plus-profile-99", ago(10), 99)
    plus(m, "f-plus-banned")
    m.violation(ago(120), freelancer="f-plus-banned", kind="off_platform_payment")


def test_top_rated_plus_needs_top_rated(out):
    f = out["f-plus-profile-99"]
    assert f.failing("top_rated_plus") == ["top_rated"]
    assert f.badges == []


def test_off_platform_payment_removes_top_rated_plus(out):
    f = out["f-plus-banned"]
    assert f.badges == []
    assert not f.held("top_rated_plus")
