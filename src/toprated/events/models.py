"""One pydantic model per event type's `data` (spec/events.md, "Types and their `data`").

Every model forbids unknown fields (events.md: "Unknown fields are rejected with their name") and
is strict about JSON types: a boolean is `true`/`false`, never `"yes"` or `1`; an integer is never
`8.0` or `"8"`. Only `amount`/`budget` take a decimal string or a number (events.md, "Money").
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

_CENT = Decimal("0.01")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _money(value: Any) -> Decimal:
    """events.md "Money": a decimal string or number in USD, > 0, at most 2 decimals."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be a decimal string or a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        value = repr(value)  # the shortest decimal that round-trips: 10.1 -> "10.1"
    elif isinstance(value, str):
        value = value.strip()
        if not _DECIMAL.fullmatch(value):  # Decimal() alone would take "NaN", "1_000", "Infinity"
            raise ValueError("must be a decimal number such as 12.50")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError("must be a decimal number such as 12.50") from None
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount <= 0:
        raise ValueError("must be > 0")
    if amount != amount.quantize(_CENT):
        raise ValueError("must have at most 2 decimals")
    if amount >= Decimal("1e16"):
        raise ValueError("must be less than 10^16")  # DECIMAL(18,2) in the stores
    return amount.quantize(_CENT)


def _day(value: Any) -> date:
    """A calendar day: an ISO 8601 date string `YYYY-MM-DD` (or a date from a Parquet column)."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date (YYYY-MM-DD)") from None


Id = Annotated[StrictStr, Field(min_length=1)]
Text = Annotated[StrictStr, Field(min_length=1)]
Percent = Annotated[StrictInt, Field(ge=0, le=100)]
Money = Annotated[Decimal, BeforeValidator(_money)]
Day = Annotated[date, BeforeValidator(_day)]
PublicScore = Annotated[float, Field(ge=1.0, le=5.0, strict=True)]
PrivateScore = Annotated[StrictInt, Field(ge=0, le=10)]
Badge = Literal["expert_vetted", "rising_talent"]


class EventData(BaseModel):
    """Base of every `data` model: unknown fields are rejected, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _OneParty(EventData):
    """Holds, violations and badges name exactly one of `freelancer_id` / `agency_id` (events.md)."""

    freelancer_id: Id | None = None
    agency_id: Id | None = None

    @model_validator(mode="after")
    def _exactly_one_party(self) -> _OneParty:
        if (self.freelancer_id is None) == (self.agency_id is None):
            raise ValueError("exactly one of freelancer_id, agency_id is required")
        return self

    @property
    def entity_id(self) -> str:
        """The freelancer or agency id (one namespace, programme.md section 10)."""
        return self.freelancer_id if self.freelancer_id is not None else self.agency_id  # type: ignore[return-value]


class FreelancerJoined(EventData):
    """`freelancer.joined`; `migrated_from: "elance"` gives the 90% profile rule."""

    freelancer_id: Id
    name: StrictStr | None = None
    migrated_from: StrictStr | None = None


class FreelancerProfileUpdated(EventData):
    """`freelancer.profile_updated`: completeness is an integer percentage."""

    freelancer_id: Id
    completeness: Percent
    has_photo: StrictBool
    missing: list[StrictStr] | None = None


class FreelancerAvailabilityUpdated(EventData):
    """`freelancer.availability_updated`; `return_on` matters when not available."""

    freelancer_id: Id
    available: StrictBool
    hours_per_week: Annotated[StrictInt, Field(ge=0, le=168)] | None = None
    return_on: Day | None = None


class FreelancerActivity(EventData):
    """`freelancer.activity`."""

    freelancer_id: Id
    kind: Literal["proposal", "invitation_accepted", "message", "login"]


class FreelancerReadinessTestPassed(EventData):
    """`freelancer.readiness_test_passed`."""

    freelancer_id: Id


class AgencyCreated(EventData):
    """`agency.created`; `owner_id` is a freelancer."""

    agency_id: Id
    owner_id: Id
    name: StrictStr | None = None


class AgencyProfileUpdated(EventData):
    """`agency.profile_updated`."""

    agency_id: Id
    has_logo: StrictBool
    has_overview: StrictBool
    has_services: StrictBool
    completeness: Percent | None = None


class AgencyMembership(EventData):
    """`agency.member_joined` and `agency.member_left` (the type says which)."""

    agency_id: Id
    freelancer_id: Id


class ClientFlagged(EventData):
    """`client.flagged`: the client's feedback is ignored from `time` on (client ids are not entities)."""

    client_id: Id
    reason: Text


class ContractStarted(EventData):
    """`contract.started`; any non-empty category is accepted (unknown ones count as "other")."""

    contract_id: Id
    freelancer_id: Id
    client_id: Id
    kind: Literal["hourly", "fixed"]
    category: Text
    agency_id: Id | None = None
    budget: Money | None = None


class PaymentMade(EventData):
    """`payment.made`; `refund: true` is money returned to the client."""

    contract_id: Id
    amount: Money
    refund: StrictBool = False


class ContractEnded(EventData):
    """`contract.ended`."""

    contract_id: Id
    reason: Literal["completed", "cancelled", "no_work_delivered"]


class FeedbackGiven(EventData):
    """`feedback.given`: public 1.0–5.0, private integer 0–10, at least one of them."""

    contract_id: Id
    public_score: PublicScore | None = None
    private_score: PrivateScore | None = None

    @model_validator(mode="after")
    def _at_least_one_score(self) -> FeedbackGiven:
        if self.public_score is None and self.private_score is None:
            raise ValueError("at least one of public_score, private_score is required")
        return self


class DisputeOpened(EventData):
    """`dispute.opened`."""

    contract_id: Id
    dispute_id: Id


class DisputeResolved(EventData):
    """`dispute.resolved`."""

    dispute_id: Id
    outcome: Literal["freelancer_won", "freelancer_lost", "settled"]


class HoldPlaced(_OneParty):
    """`account.hold_placed` on a freelancer or an agency."""

    hold_id: Id
    reason: Text


class HoldLifted(EventData):
    """`account.hold_lifted`."""

    hold_id: Id


class TosViolation(_OneParty):
    """`account.tos_violation` by a freelancer or an agency."""

    kind: Literal["off_platform_payment", "other"]


class BadgeGranted(_OneParty):
    """`badge.granted`: `expert_vetted` is for freelancers only."""

    badge: Badge
    by: Text
    reason: StrictStr | None = None

    @model_validator(mode="after")
    def _vetted_for_freelancers(self) -> BadgeGranted:
        if self.badge == "expert_vetted" and self.freelancer_id is None:
            raise ValueError("badge expert_vetted is for freelancers only (needs freelancer_id)")
        return self


class BadgeRevoked(BadgeGranted):
    """`badge.revoked`: like a grant, but `reason` is required."""

    reason: Text


class FeedbackRemovalRequested(EventData):
    """`feedback.removal_requested`: decided by the engine (programme.md section 7 and 10)."""

    contract_id: Id
    scope: Literal["jss_only", "jss_and_profile"]
    by: Text


#: The event types of events.md and the model of their `data`.
DATA_MODELS: dict[str, type[EventData]] = {
    "freelancer.joined": FreelancerJoined,
    "freelancer.profile_updated": FreelancerProfileUpdated,
    "freelancer.availability_updated": FreelancerAvailabilityUpdated,
    "freelancer.activity": FreelancerActivity,
    "freelancer.readiness_test_passed": FreelancerReadinessTestPassed,
    "agency.created": AgencyCreated,
    "agency.profile_updated": AgencyProfileUpdated,
    "agency.member_joined": AgencyMembership,
    "agency.member_left": AgencyMembership,
    "client.flagged": ClientFlagged,
    "contract.started": ContractStarted,
    "payment.made": PaymentMade,
    "contract.ended": ContractEnded,
    "feedback.given": FeedbackGiven,
    "dispute.opened": DisputeOpened,
    "dispute.resolved": DisputeResolved,
    "account.hold_placed": HoldPlaced,
    "account.hold_lifted": HoldLifted,
    "account.tos_violation": TosViolation,
    "badge.granted": BadgeGranted,
    "badge.revoked": BadgeRevoked,
    "feedback.removal_requested": FeedbackRemovalRequested,
}

EVENT_TYPES: tuple[str, ...] = tuple(DATA_MODELS)
