"""The marketplace looks like one: skewed activity, mostly excellent feedback, every kind of incident."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from simulate_checks import AS_OF, parse_time

from toprated.simulate.settings import CATEGORY_MIX

Events = list[dict[str, Any]]


@pytest.fixture(scope="module")
def market(small_run: tuple[Path, Events]) -> dict[str, Any]:
    """Per-entity views of the small run."""
    _, events = small_run
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ev in events:
        by_type[ev["type"]].append(ev)
    contracts = {ev["data"]["contract_id"]: ev["data"] for ev in by_type["contract.started"]}
    payments: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ev in by_type["payment.made"]:
        payments[ev["data"]["contract_id"]].append(ev)
    per_freelancer = Counter(c["freelancer_id"] for c in contracts.values())
    return {
        "by_type": by_type,
        "contracts": contracts,
        "payments": payments,
        "per_freelancer": per_freelancer,
        "freelancers": len(by_type["freelancer.joined"]),
    }


def _feedback_classes(by_type: dict[str, list[dict[str, Any]]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for ev in by_type["feedback.given"]:
        pub, priv = ev["data"].get("public_score"), ev["data"].get("private_score")
        negative = (pub is not None and pub < 3.0) or (priv is not None and priv <= 5)
        excellent = not negative and (pub is None or pub >= 4.5) and (priv is None or priv >= 8)
        out["negative" if negative else "excellent" if excellent else "neutral"] += 1
    return out


def test_activity_is_skewed(market: dict[str, Any]) -> None:
    counts = market["per_freelancer"]
    active = len(counts)
    assert 0.35 <= active / market["freelancers"] <= 0.55
    assert 8 <= sum(counts.values()) / active <= 12
    few = sum(1 for n in counts.values() if n <= 2) / active
    busy = sum(1 for n in counts.values() if n >= 24) / active
    assert few >= 0.25 and 0.03 <= busy <= 0.25
    assert max(counts.values()) >= 50
    payments = sum(1 for ev in market["by_type"]["payment.made"] if not ev["data"].get("refund"))
    assert 40 <= payments / active <= 60


def test_feedback_is_mostly_excellent_with_some_neutral_and_a_few_negative(market: dict[str, Any]) -> None:
    by_type = market["by_type"]
    classes = _feedback_classes(by_type)
    total = sum(classes.values())
    assert classes["excellent"] / total >= 0.7
    assert 0.08 <= classes["neutral"] / total <= 0.25
    assert 0.02 <= classes["negative"] / total <= 0.06
    ended = len(by_type["contract.ended"])
    assert 0.7 <= total / ended <= 0.9  # some contracts never get feedback
    publics = [ev["data"]["public_score"] for ev in by_type["feedback.given"] if "public_score" in ev["data"]]
    assert any(p == 5.0 for p in publics) and any(4.5 <= p < 5.0 for p in publics)
    assert any("public_score" not in ev["data"] for ev in by_type["feedback.given"])
    assert any("private_score" not in ev["data"] for ev in by_type["feedback.given"])


def test_long_term_hourly_contracts_with_regular_payments(market: dict[str, Any]) -> None:
    long_term = 0
    for cid, pays in market["payments"].items():
        if market["contracts"][cid]["kind"] != "hourly":
            continue
        days = sorted(parse_time(p["time"]).date() for p in pays if not p["data"].get("refund"))
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        if len(days) >= 10 and (days[-1] - days[0]).days >= 180 and max(gaps) <= 90:
            long_term += 1
            assert 5 <= sorted(gaps)[len(gaps) // 2] <= 15  # weekly or biweekly, with skipped weeks
    assert long_term >= 50


def test_contract_mix(market: dict[str, Any]) -> None:
    contracts = list(market["contracts"].values())
    kinds = Counter(c["kind"] for c in contracts)
    assert 0.35 <= kinds["hourly"] / len(contracts) <= 0.55
    categories = Counter(c["category"] for c in contracts)
    assert set(categories) == set(CATEGORY_MIX)
    assert categories.most_common(1)[0][0] == "web_mobile_software_dev"
    pairs = Counter((c["freelancer_id"], c["client_id"]) for c in contracts)
    assert sum(n - 1 for n in pairs.values()) / len(contracts) >= 0.15  # rehires
    with_agency = sum(1 for c in contracts if "agency_id" in c)
    assert 0.005 <= with_agency / len(contracts) <= 0.15
    reasons = Counter(ev["data"]["reason"] for ev in market["by_type"]["contract.ended"])
    assert reasons["completed"] > 10 * reasons["cancelled"] > 0 and reasons["no_work_delivered"] > 0


def test_money_and_refunds(market: dict[str, Any]) -> None:
    pays = market["by_type"]["payment.made"]
    refunds = [p for p in pays if p["data"].get("refund")]
    assert 0.01 <= len(refunds) / len(market["contracts"]) <= 0.06
    amounts = sorted(float(p["data"]["amount"]) for p in pays)
    assert 50 <= amounts[len(amounts) // 2] <= 600  # median payment
    assert amounts[-1] >= 2000


def test_incidents_of_every_kind(market: dict[str, Any]) -> None:
    by_type = market["by_type"]
    outcomes = Counter(ev["data"]["outcome"] for ev in by_type["dispute.resolved"])
    assert set(outcomes) == {"freelancer_won", "freelancer_lost", "settled"}
    assert 0 < len(by_type["dispute.opened"]) / len(market["contracts"]) < 0.03
    assert 0 < len(by_type["account.hold_lifted"]) < len(by_type["account.hold_placed"])
    assert {ev["data"]["kind"] for ev in by_type["account.tos_violation"]} == {"off_platform_payment", "other"}
    assert by_type["client.flagged"] and by_type["feedback.removal_requested"]
    badges = {(ev["type"], ev["data"]["badge"]) for ev in by_type["badge.granted"] + by_type["badge.revoked"]}
    assert {
        ("badge.granted", "rising_talent"),
        ("badge.granted", "expert_vetted"),
        ("badge.revoked", "rising_talent"),
    } <= badges


def test_profiles_availability_and_activity(market: dict[str, Any]) -> None:
    by_type = market["by_type"]
    latest: dict[str, dict[str, Any]] = {}
    for ev in by_type["freelancer.profile_updated"]:
        latest[ev["data"]["freelancer_id"]] = ev["data"]
    active = set(market["per_freelancer"])
    complete = [fid for fid, p in latest.items() if p["completeness"] == 100 and p["has_photo"]]
    share_active = len(active.intersection(complete)) / len(active)
    share_idle = len(set(complete) - active) / (market["freelancers"] - len(active))
    assert share_active >= 0.55 and share_idle <= 0.4
    assert any(ev["data"].get("migrated_from") == "elance" for ev in by_type["freelancer.joined"])
    avail: dict[str, dict[str, Any]] = {}
    for ev in by_type["freelancer.availability_updated"]:
        avail[ev["data"]["freelancer_id"]] = ev["data"]
    away = [a for a in avail.values() if not a["available"]]
    assert away and all("return_on" in a for a in away)
    assert any(date.fromisoformat(a["return_on"]) > AS_OF for a in away)
    assert any(date.fromisoformat(a["return_on"]) < AS_OF for a in away)
    kinds = Counter(ev["data"]["kind"] for ev in by_type["freelancer.activity"])
    assert kinds["proposal"] > kinds["invitation_accepted"] > 0 and kinds["message"] and kinds["login"]
    assert 0.15 <= len(by_type["freelancer.readiness_test_passed"]) / market["freelancers"] <= 0.45


def test_agencies(market: dict[str, Any]) -> None:
    by_type = market["by_type"]
    assert 0.015 <= len(by_type["agency.created"]) / market["freelancers"] <= 0.06
    members = Counter(ev["data"]["agency_id"] for ev in by_type["agency.member_joined"])
    assert min(members.values()) >= 1 and max(members.values()) <= 10
    assert by_type["agency.member_left"] and by_type["agency.profile_updated"]
