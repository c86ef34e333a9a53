"""Small event histories and helpers for the store tests (imported by them, not collected)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from toprated.events import Record
from toprated.store import ImportReport, Store, schema


def ev(event_id: str, type_: str, time: str = "2026-01-05", /, **data: Any) -> dict[str, Any]:
    """A raw event."""
    return {"id": event_id, "type": type_, "time": time, "data": data}


def records(events: list[dict[str, Any]], file: str = "batch.jsonl") -> list[Record]:
    """The events as the records of one file, lines numbered from 1."""
    return [Record(file, n, raw) for n, raw in enumerate(events, 1)]


#: A history using every event type once at least, valid as a whole.
WORLD: list[dict[str, Any]] = [
    ev("e01", "freelancer.joined", "2025-01-01", freelancer_id="f1", name="Ann", migrated_from="elance"),
    ev("e02", "freelancer.joined", "2025-01-02T23:30:00-02:00", freelancer_id="f2"),
    ev("e03", "agency.created", "2025-01-03", agency_id="a1", owner_id="f1", name="Ann & Co"),
    ev(
        "e04",
        "freelancer.profile_updated",
        "2025-01-04",
        freelancer_id="f1",
        completeness=95,
        has_photo=True,
        missing=["video"],
    ),
    ev(
        "e05",
        "freelancer.availability_updated",
        "2025-01-04",
        freelancer_id="f1",
        available=False,
        hours_per_week=20,
        return_on="2025-02-01",
    ),
    ev("e06", "freelancer.activity", "2025-01-05", freelancer_id="f2", kind="invitation_accepted"),
    ev("e07", "freelancer.readiness_test_passed", "2025-01-05", freelancer_id="f2"),
    ev(
        "e08",
        "agency.profile_updated",
        "2025-01-06",
        agency_id="a1",
        has_logo=True,
        has_overview=True,
        has_services=False,
    ),
    ev("e09", "agency.member_joined", "2025-01-06", agency_id="a1", freelancer_id="f2"),
    ev("e10", "agency.member_left", "2025-06-06", agency_id="a1", freelancer_id="f2"),
    ev("e11", "client.flagged", "2025-07-01", client_id="k9", reason="suspended"),
    ev(
        "e12",
        "contract.started",
        "2025-02-01",
        contract_id="c1",
        freelancer_id="f1",
        client_id="k1",
        kind="hourly",
        category="writing",
        budget=1500,
    ),
    ev(
        "e13",
        "contract.started",
        "2025-02-02",
        contract_id="c2",
        freelancer_id="f2",
        client_id="k2",
        kind="fixed",
        category="other_stuff",
        agency_id="a1",
    ),
    ev("e14", "payment.made", "2025-02-10T12:00:00Z", contract_id="c1", amount="250.50"),
    ev("e15", "payment.made", "2025-02-11", contract_id="c1", amount=20, refund=True),
    ev("e16", "contract.ended", "2025-03-01", contract_id="c1", reason="completed"),
    ev("e17", "feedback.given", "2025-03-02", contract_id="c1", public_score=4.7, private_score=9),
    ev("e18", "feedback.given", "2025-03-03", contract_id="c2", private_score=3),
    ev("e19", "dispute.opened", "2025-03-04", contract_id="c2", dispute_id="d1"),
    ev("e20", "dispute.resolved", "2025-03-20", dispute_id="d1", outcome="settled"),
    ev("e21", "account.hold_placed", "2025-04-01", hold_id="h1", agency_id="a1", reason="review"),
    ev("e22", "account.hold_lifted", "2025-04-10", hold_id="h1"),
    ev("e23", "account.tos_violation", "2025-04-11", freelancer_id="f2", kind="other"),
    ev("e24", "badge.granted", "2025-05-01", freelancer_id="f1", badge="expert_vetted", by="op"),
    ev("e25", "badge.revoked", "2025-05-02", agency_id="a1", badge="rising_talent", by="op", reason="abuse"),
    ev("e26", "feedback.removal_requested", "2025-05-03", contract_id="c1", scope="jss_only", by="f1"),
]


def typed_tables(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every typed table's rows, sorted: what the evaluation engine reads."""
    with store.engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(sa.select(t))) for t in schema.TYPED_TABLES}


def event_ids(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(conn.execute(sa.select(schema.events.c.id)).scalars())


def reasons(report: ImportReport) -> dict[str | None, str]:
    """event id -> reason of every rejection."""
    return {r.event_id: r.reason for r in report.rejected}
