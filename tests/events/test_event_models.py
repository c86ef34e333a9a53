"""The `data` rules of spec/events.md ("Types and their data", "Money", scores), one case each."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from toprated.events import EVENT_TYPES, EventError, validate

VALID: dict[str, dict[str, Any]] = {
    "freelancer.joined": {"freelancer_id": "f1", "name": "Ann", "migrated_from": "elance"},
    "freelancer.profile_updated": {
        "freelancer_id": "f1",
        "completeness": 100,
        "has_photo": True,
        "missing": ["portfolio"],
    },
    "freelancer.availability_updated": {
        "freelancer_id": "f1",
        "available": False,
        "hours_per_week": 10,
        "return_on": "2026-03-01",
    },
    "freelancer.activity": {"freelancer_id": "f1", "kind": "proposal"},
    "freelancer.readiness_test_passed": {"freelancer_id": "f1"},
    "agency.created": {"agency_id": "a1", "owner_id": "f1", "name": "A"},
    "agency.profile_updated": {
        "agency_id": "a1",
        "has_logo": True,
        "has_overview": False,
        "has_services": True,
        "completeness": 80,
    },
    "agency.member_joined": {"agency_id": "a1", "freelancer_id": "f2"},
    "agency.member_left": {"agency_id": "a1", "freelancer_id": "f2"},
    "client.flagged": {"client_id": "k1", "reason": "suspended"},
    "contract.started": {
        "contract_id": "c1",
        "freelancer_id": "f1",
        "client_id": "k1",
        "kind": "hourly",
        "category": "writing",
        "agency_id": "a1",
        "budget": "500",
    },
    "payment.made": {"contract_id": "c1", "amount": "12.50", "refund": True},
    "contract.ended": {"contract_id": "c1", "reason": "no_work_delivered"},
    "feedback.given": {"contract_id": "c1", "public_score": 4.5, "private_score": 8},
    "dispute.opened": {"contract_id": "c1", "dispute_id": "d1"},
    "dispute.resolved": {"dispute_id": "d1", "outcome": "freelancer_lost"},
    "account.hold_placed": {"hold_id": "h1", "agency_id": "a1", "reason": "review"},
    "account.hold_lifted": {"hold_id": "h1"},
    "account.tos_violation": {"freelancer_id": "f1", "kind": "off_platform_payment"},
    "badge.granted": {"freelancer_id": "f1", "badge": "expert_vetted", "by": "op1"},
    "badge.revoked": {"agency_id": "a1", "badge": "rising_talent", "by": "op1", "reason": "abuse"},
    "feedback.removal_requested": {"contract_id": "c1", "scope": "jss_and_profile", "by": "f1"},
}


def event(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": "e1", "type": kind, "time": "2026-01-05T09:30:00Z", "data": data}


def with_(type_: str, /, **changes: Any) -> dict[str, Any]:
    data = {**VALID[type_], **changes}
    return event(type_, {k: v for k, v in data.items() if v is not ...})


def reason(raw: dict[str, Any]) -> str:
    with pytest.raises(EventError) as info:
        validate(raw)
    return info.value.reason


def test_every_type_of_the_spec_has_a_valid_example() -> None:
    assert set(VALID) == set(EVENT_TYPES)
    for kind, data in VALID.items():
        assert validate(event(kind, data)).data.model_dump(exclude_none=True).keys() == data.keys()


@pytest.mark.parametrize("kind", sorted(VALID))
def test_unknown_field_is_rejected_by_name(kind: str) -> None:
    assert reason(with_(kind, colour="red")) == "data.colour: unknown field"


@pytest.mark.parametrize("kind", sorted(VALID))
def test_every_required_field_is_named_when_missing(kind: str) -> None:
    model_fields = type(validate(event(kind, VALID[kind])).data).model_fields
    for name, info in model_fields.items():
        if info.is_required():
            assert f"data.{name}: required" in reason(with_(kind, **{name: ...}))


def test_unknown_type_is_rejected() -> None:
    assert reason(event("contract.paused", {})) == "type: unknown event type 'contract.paused'"


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        ("0.01", "0.01"),
        ("12.5", "12.50"),
        (12.5, "12.50"),
        (10.1, "10.10"),
        (7, "7.00"),
        ("1e2", "100.00"),
        ("9999999999999999.99", "9999999999999999.99"),
    ],
)
def test_amount_decimal_string_or_number(amount: Any, stored: str) -> None:
    data = validate(with_("payment.made", amount=amount)).data
    assert data.amount == Decimal(stored) and str(data.amount) == stored


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "must be > 0"),
        (0, "must be > 0"),
        ("-5", "must be > 0"),
        ("0.00", "must be > 0"),
        ("0.001", "must have at most 2 decimals"),
        (1.005, "must have at most 2 decimals"),
        ("12.345", "must have at most 2 decimals"),
        ("abc", "must be a decimal number"),
        (True, "must be a decimal string or a number"),
        (None, "must be a decimal string or a number"),
        (float("nan"), "must be a finite number"),
        ("Infinity", "must be a decimal number"),
        ("1_000", "must be a decimal number"),
        ("12,50", "must be a decimal number"),
        ("", "must be a decimal number"),
    ],
)
def test_amount_rules(amount: Any, message: str) -> None:
    assert reason(with_("payment.made", amount=amount)).startswith(f"data.amount: {message}")


def test_amount_zero_message_is_exactly_as_documented() -> None:
    assert reason(with_("payment.made", amount="0")) == "data.amount: must be > 0 (got '0')"


def test_budget_follows_the_money_rule() -> None:
    assert reason(with_("contract.started", budget="0.001")).startswith("data.budget: must have at most 2 decimals")


@pytest.mark.parametrize("score", [1, 1.0, 3.3, 5, 5.0])
def test_public_score_in_range(score: float) -> None:
    assert validate(with_("feedback.given", public_score=score)).data.public_score == score


@pytest.mark.parametrize("score", [0.99, 5.01, 0, 6, "4.5", True, float("nan")])
def test_public_score_out_of_range_or_not_a_number(score: Any) -> None:
    assert reason(with_("feedback.given", public_score=score)).startswith("data.public_score: must be")


@pytest.mark.parametrize("score", [0, 5, 10])
def test_private_score_in_range(score: int) -> None:
    assert validate(with_("feedback.given", private_score=score)).data.private_score == score


@pytest.mark.parametrize("score", [-1, 11, 8.0, 7.5, "8", False])
def test_private_score_is_an_integer_0_to_10(score: Any) -> None:
    assert reason(with_("feedback.given", private_score=score)).startswith("data.private_score: must be")


def test_feedback_needs_at_least_one_score() -> None:
    assert validate(with_("feedback.given", public_score=...)).data.private_score == 8
    assert validate(with_("feedback.given", private_score=...)).data.public_score == 4.5
    message = reason(with_("feedback.given", public_score=..., private_score=...))
    assert message == "data: at least one of public_score, private_score is required"
    assert "at least one" in reason(with_("feedback.given", public_score=None, private_score=None))


@pytest.mark.parametrize(("value", "ok"), [(0, True), (100, True), (-1, False), (101, False), (99.0, False)])
def test_completeness_is_an_integer_0_to_100(value: Any, ok: bool) -> None:
    for kind in ("freelancer.profile_updated", "agency.profile_updated"):
        raw = with_(kind, completeness=value)
        if ok:
            assert validate(raw).data.completeness == value
        else:
            assert reason(raw).startswith("data.completeness: must be")


@pytest.mark.parametrize("kind", ["account.hold_placed", "account.tos_violation", "badge.granted", "badge.revoked"])
def test_exactly_one_of_freelancer_or_agency(kind: str) -> None:
    badge = {"badge": "rising_talent"} if kind.startswith("badge.") else {}
    both = reason(with_(kind, freelancer_id="f1", agency_id="a1", **badge))
    neither = reason(with_(kind, freelancer_id=..., agency_id=..., **badge))
    assert both == neither == "data: exactly one of freelancer_id, agency_id is required"
    assert validate(with_(kind, freelancer_id="f9", agency_id=..., **badge)).data.entity_id == "f9"
    assert validate(with_(kind, freelancer_id=..., agency_id="a9", **badge)).data.entity_id == "a9"


def test_expert_vetted_only_for_freelancers() -> None:
    raw = with_("badge.granted", freelancer_id=..., agency_id="a1")
    assert reason(raw) == "data: badge expert_vetted is for freelancers only (needs freelancer_id)"
    assert validate(with_("badge.granted", freelancer_id=..., agency_id="a1", badge="rising_talent"))
    assert reason(with_("badge.granted", badge="top_rated")).startswith("data.badge: must be")


def test_reason_required_on_revoke_only() -> None:
    assert reason(with_("badge.revoked", reason=...)) == "data.reason: required"
    assert reason(with_("badge.revoked", reason="")).startswith("data.reason: must not be empty")
    assert validate(with_("badge.granted", reason="vetted")).data.reason == "vetted"


@pytest.mark.parametrize("category", ["writing", "legal", "underwater_basket_weaving"])
def test_any_non_empty_category(category: str) -> None:
    assert validate(with_("contract.started", category=category)).data.category == category


def test_empty_category_or_id_is_rejected() -> None:
    assert reason(with_("contract.started", category="")) == "data.category: must not be empty (got '')"
    assert reason(with_("contract.started", contract_id="")).startswith("data.contract_id: must not be empty")


@pytest.mark.parametrize(
    ("kind", "name", "bad"),
    [
        ("contract.started", "kind", "weekly"),
        ("contract.ended", "reason", "done"),
        ("dispute.resolved", "outcome", "won"),
        ("freelancer.activity", "kind", "typing"),
        ("account.tos_violation", "kind", "spam"),
        ("feedback.removal_requested", "scope", "all"),
    ],
)
def test_enumerations(kind: str, name: str, bad: str) -> None:
    assert reason(with_(kind, **{name: bad})).startswith(f"data.{name}: must be ")


def test_json_types_are_strict() -> None:
    assert reason(with_("freelancer.profile_updated", has_photo="yes")).startswith("data.has_photo: must be a valid")
    assert reason(with_("payment.made", refund=1)).startswith("data.refund: must be a valid boolean")
    assert reason(with_("payment.made", contract_id=7)).startswith("data.contract_id: must be a valid string")
    assert reason(with_("freelancer.availability_updated", return_on="soon")).startswith("data.return_on: must be")


def test_several_problems_are_all_named() -> None:
    message = reason(with_("contract.started", kind="weekly", category="", extra=1))
    assert "data.kind:" in message and "data.category:" in message and "data.extra: unknown field" in message


def test_refund_defaults_to_false() -> None:
    assert validate(with_("payment.made", refund=...)).data.refund is False
