"""From a valid event to its rows: one in the raw `events` log, one in its typed table (schema.py).

Each builder maps one event type of spec/events.md to the columns of its typed table; `ts` is the
event's UTC instant (naive, as stored), `day` its UTC calendar day (programme.md section 10).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from toprated.events import Event
from toprated.events import models as m

Row = dict[str, Any]

__all__ = ["TYPED_TABLE", "Row", "raw_row", "typed_row"]


def raw_row(event: Event, seq: int, imported_at: datetime, ts: datetime) -> Row:
    """The row of the append-only `events` log; `data` is the canonical JSON of the event's data.

    `ts` is the event's time as stored: naive UTC (that of its typed row, computed once).
    """
    return {
        "id": event.id,
        "seq": seq,
        "type": event.type,
        "time": ts,
        "day": event.day,
        "source": event.source,
        "specversion": event.specversion,
        "data": event.data_json,
        "imported_at": imported_at,
    }


def _when(event: Event) -> Row:
    return {"event_id": event.id, "ts": event.time.replace(tzinfo=None), "day": event.day}


def _freelancer(e: Event, d: m.FreelancerJoined) -> Row:
    return {**_when(e), "freelancer_id": d.freelancer_id, "name": d.name, "migrated_from": d.migrated_from}


def _profile(e: Event, d: m.FreelancerProfileUpdated) -> Row:
    missing = None if d.missing is None else json.dumps(d.missing)
    return {
        **_when(e),
        "freelancer_id": d.freelancer_id,
        "completeness": d.completeness,
        "has_photo": d.has_photo,
        "missing": missing,
    }


def _availability(e: Event, d: m.FreelancerAvailabilityUpdated) -> Row:
    return {
        **_when(e),
        "freelancer_id": d.freelancer_id,
        "available": d.available,
        "hours_per_week": d.hours_per_week,
        "return_on": d.return_on,
    }


def _activity(e: Event, d: m.FreelancerActivity) -> Row:
    return {**_when(e), "freelancer_id": d.freelancer_id, "kind": d.kind}


def _readiness(e: Event, d: m.FreelancerReadinessTestPassed) -> Row:
    return {**_when(e), "freelancer_id": d.freelancer_id}


def _agency(e: Event, d: m.AgencyCreated) -> Row:
    return {**_when(e), "agency_id": d.agency_id, "owner_id": d.owner_id, "name": d.name}


def _agency_profile(e: Event, d: m.AgencyProfileUpdated) -> Row:
    return {
        **_when(e),
        "agency_id": d.agency_id,
        "has_logo": d.has_logo,
        "has_overview": d.has_overview,
        "has_services": d.has_services,
        "completeness": d.completeness,
    }


def _membership(e: Event, d: m.AgencyMembership) -> Row:
    return {
        **_when(e),
        "agency_id": d.agency_id,
        "freelancer_id": d.freelancer_id,
        "joined": e.type == "agency.member_joined",
    }


def _client_flag(e: Event, d: m.ClientFlagged) -> Row:
    return {**_when(e), "client_id": d.client_id, "reason": d.reason}


def _contract(e: Event, d: m.ContractStarted) -> Row:
    return {
        **_when(e),
        "contract_id": d.contract_id,
        "freelancer_id": d.freelancer_id,
        "client_id": d.client_id,
        "agency_id": d.agency_id,
        "kind": d.kind,
        "category": d.category,
        "budget": d.budget,
    }


def _payment(e: Event, d: m.PaymentMade) -> Row:
    return {**_when(e), "contract_id": d.contract_id, "amount": d.amount, "refund": d.refund}


def _contract_end(e: Event, d: m.ContractEnded) -> Row:
    return {**_when(e), "contract_id": d.contract_id, "reason": d.reason}


def _feedback(e: Event, d: m.FeedbackGiven) -> Row:
    return {**_when(e), "contract_id": d.contract_id, "public_score": d.public_score, "private_score": d.private_score}


def _dispute(e: Event, d: m.DisputeOpened) -> Row:
    return {**_when(e), "dispute_id": d.dispute_id, "contract_id": d.contract_id}


def _resolution(e: Event, d: m.DisputeResolved) -> Row:
    return {**_when(e), "dispute_id": d.dispute_id, "outcome": d.outcome}


def _hold(e: Event, d: m.HoldPlaced) -> Row:
    return {**_when(e), "hold_id": d.hold_id, "entity_id": d.entity_id, "reason": d.reason}


def _hold_lift(e: Event, d: m.HoldLifted) -> Row:
    return {**_when(e), "hold_id": d.hold_id}


def _violation(e: Event, d: m.TosViolation) -> Row:
    return {**_when(e), "entity_id": d.entity_id, "kind": d.kind}


def _badge(e: Event, d: m.BadgeGranted) -> Row:
    return {
        **_when(e),
        "entity_id": d.entity_id,
        "badge": d.badge,
        "granted": e.type == "badge.granted",
        "actor": d.by,
        "reason": d.reason,
    }


def _removal(e: Event, d: m.FeedbackRemovalRequested) -> Row:
    return {**_when(e), "contract_id": d.contract_id, "scope": d.scope, "actor": d.by}


#: event type -> (typed table name, row builder)
TYPED_TABLE: dict[str, tuple[str, Callable[[Event, Any], Row]]] = {
    "freelancer.joined": ("freelancers", _freelancer),
    "freelancer.profile_updated": ("profiles", _profile),
    "freelancer.availability_updated": ("availability", _availability),
    "freelancer.activity": ("activities", _activity),
    "freelancer.readiness_test_passed": ("readiness_tests", _readiness),
    "agency.created": ("agencies", _agency),
    "agency.profile_updated": ("agency_profiles", _agency_profile),
    "agency.member_joined": ("memberships", _membership),
    "agency.member_left": ("memberships", _membership),
    "client.flagged": ("client_flags", _client_flag),
    "contract.started": ("contracts", _contract),
    "payment.made": ("payments", _payment),
    "contract.ended": ("contract_ends", _contract_end),
    "feedback.given": ("feedback", _feedback),
    "dispute.opened": ("disputes", _dispute),
    "dispute.resolved": ("dispute_resolutions", _resolution),
    "account.hold_placed": ("holds", _hold),
    "account.hold_lifted": ("hold_lifts", _hold_lift),
    "account.tos_violation": ("violations", _violation),
    "badge.granted": ("manual_badges", _badge),
    "badge.revoked": ("manual_badges", _badge),
    "feedback.removal_requested": ("removal_requests", _removal),
}


def typed_row(event: Event) -> tuple[str, Row]:
    """The typed table and row of an event (every event type has exactly one)."""
    table, build = TYPED_TABLE[event.type]
    return table, build(event, event.data)
