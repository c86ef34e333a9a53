"""The planning rules on their own (no database): order of checks, namespaces, cascades."""

from __future__ import annotations

from typing import Any

from store_helpers import ev

from toprated.events import content_digest, validate
from toprated.store import Rejection
from toprated.store.plan import Item, Known, plan_import


def items(*raws: dict[str, Any]) -> list[Item]:
    out = []
    for pos, raw in enumerate(raws):
        event = validate(raw)
        out.append(Item(pos, "f.jsonl", pos + 1, event, content_digest(event)))
    return out


def outcome(known: Known, *raws: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    plan = plan_import(items(*raws), known)
    return [it.event.id for it in plan.accepted], {it.event.id: reason for it, reason in plan.rejected}


def test_references_are_checked_before_the_once_rule() -> None:
    """A first contract.started that is itself rejected does not block a valid later one."""
    accepted, rejected = outcome(
        Known(),
        ev("j", "freelancer.joined", freelancer_id="f1"),
        ev(
            "bad",
            "contract.started",
            "2026-01-01",
            contract_id="c1",
            freelancer_id="f404",
            client_id="k",
            kind="fixed",
            category="x",
        ),
        ev(
            "good",
            "contract.started",
            "2026-01-02",
            contract_id="c1",
            freelancer_id="f1",
            client_id="k",
            kind="fixed",
            category="x",
        ),
    )
    assert accepted == ["j", "good"] and list(rejected) == ["bad"]


def test_an_owner_id_taken_by_an_earlier_agency_is_not_a_freelancer() -> None:
    accepted, rejected = outcome(
        Known(),
        ev("j1", "freelancer.joined", "2026-01-01", freelancer_id="f1"),
        ev("a1", "agency.created", "2026-01-02", agency_id="x", owner_id="f1"),
        ev("j2", "freelancer.joined", "2026-01-03", freelancer_id="x"),  # too late: x is an agency
        ev("a2", "agency.created", "2026-01-04", agency_id="y", owner_id="x"),
    )
    assert accepted == ["j1", "a1"]
    assert rejected == {
        "j2": "second freelancer.joined for freelancer/agency id 'x': the first is event a1",
        "a2": "unknown freelancer 'x' (data.owner_id): no freelancer.joined for it; 'x' is an agency",
    }


def test_known_entities_come_from_the_store() -> None:
    known = Known(freelancers={"f1"})
    known.firsts["party"]["f1"] = "old"
    known.firsts["contract"]["c1"] = "start"
    known.digests["p0"] = "not the same digest"
    accepted, rejected = outcome(
        known,
        ev("p1", "payment.made", contract_id="c1", amount="1"),
        ev("p0", "payment.made", contract_id="c1", amount="1"),
        ev("s", "contract.started", contract_id="c2", freelancer_id="f1", client_id="k", kind="fixed", category="x"),
        ev("j", "freelancer.joined", freelancer_id="f1"),
    )
    assert accepted == ["p1", "s"]
    assert rejected == {
        "p0": "conflict: an event with this id and different content is already stored",
        "j": "second freelancer.joined for freelancer/agency id 'f1': the first is event old",
    }


def test_hold_lift_needs_a_hold_and_resolution_needs_a_dispute_of_the_batch() -> None:
    accepted, rejected = outcome(
        Known(),
        ev("l", "account.hold_lifted", hold_id="h1"),
        ev("r", "dispute.resolved", dispute_id="d1", outcome="settled"),
        ev("h", "account.hold_placed", hold_id="h1", freelancer_id="f1", reason="x"),  # f1 unknown
        ev("j", "freelancer.joined", freelancer_id="f2"),
    )
    assert accepted == ["j"]
    assert rejected["h"].startswith("unknown freelancer 'f1'") and rejected["l"].startswith("unknown hold 'h1'")
    assert rejected["r"].startswith("unknown dispute 'd1'")


def test_rejection_text() -> None:
    assert str(Rejection("a.jsonl", 3, "e1", "why")) == "a.jsonl:3 e1: why"
    assert str(Rejection("a.jsonl", 3, None, "why")) == "a.jsonl:3: why"
    assert str(Rejection(None, None, "e1", "why")) == "e1: why"
    assert str(Rejection(None, None, None, "why")) == "why"
