"""The typed tables an evaluation reads, as Ibis tables, cut to what was known on a given day.

"If no event after D existed" (programme.md §10, `qualifies_on`) is literally this cut: every fact
dated after `known_until` is dropped before anything is computed, so projecting into the future
uses only the past.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import ibis
import ibis.expr.types as ir

TABLES = (
    "freelancers",
    "agencies",
    "profiles",
    "availability",
    "activities",
    "readiness_tests",
    "agency_profiles",
    "memberships",
    "client_flags",
    "contracts",
    "contract_ends",
    "payments",
    "feedback",
    "disputes",
    "dispute_resolutions",
    "holds",
    "hold_lifts",
    "violations",
    "manual_badges",
    "removal_requests",
)


@dataclass(frozen=True)
class Sources:
    """One Ibis table per typed table of the store (see toprated.store.schema)."""

    freelancers: ir.Table
    agencies: ir.Table
    profiles: ir.Table
    availability: ir.Table
    activities: ir.Table
    readiness_tests: ir.Table
    agency_profiles: ir.Table
    memberships: ir.Table
    client_flags: ir.Table
    contracts: ir.Table
    contract_ends: ir.Table
    payments: ir.Table
    feedback: ir.Table
    disputes: ir.Table
    dispute_resolutions: ir.Table
    holds: ir.Table
    hold_lifts: ir.Table
    violations: ir.Table
    manual_badges: ir.Table
    removal_requests: ir.Table
    backend: ibis.BaseBackend

    @classmethod
    def from_backend(cls, con: ibis.BaseBackend) -> Sources:
        return cls(backend=con, **{name: con.table(name) for name in TABLES})

    def known_until(self, day: date) -> Sources:
        """Only the facts whose UTC day is on or before `day`."""
        cut = ibis.literal(day, type="date")
        return replace(self, **{name: getattr(self, name).filter(lambda t: t.day <= cut) for name in TABLES})


def restrict(src: Sources, entity_ids: list[str]) -> Sources:
    """Only the facts of these freelancers and agencies, their contracts and those contracts' facts.

    Clients' flags stay whole (they are few and any contract may need them). The caller passes the
    closure it needs (see `toprated.evaluation.service.entity_closure`): an agency's evaluation reads
    its owner's and members' facts too.
    """
    ids = list(entity_ids)
    c = src.contracts.filter(src.contracts.freelancer_id.isin(ids) | src.contracts.agency_id.isin(ids))
    cids = c.select("contract_id")

    def by_contract(t: ir.Table) -> ir.Table:
        return t.semi_join(cids, "contract_id")

    d = by_contract(src.disputes)
    holds = src.holds.filter(src.holds.entity_id.isin(ids))
    return replace(
        src,
        freelancers=src.freelancers.filter(src.freelancers.freelancer_id.isin(ids)),
        agencies=src.agencies.filter(src.agencies.agency_id.isin(ids)),
        profiles=src.profiles.filter(src.profiles.freelancer_id.isin(ids)),
        availability=src.availability.filter(src.availability.freelancer_id.isin(ids)),
        activities=src.activities.filter(src.activities.freelancer_id.isin(ids)),
        readiness_tests=src.readiness_tests.filter(src.readiness_tests.freelancer_id.isin(ids)),
        agency_profiles=src.agency_profiles.filter(src.agency_profiles.agency_id.isin(ids)),
        memberships=src.memberships.filter(src.memberships.agency_id.isin(ids)),
        contracts=c,
        contract_ends=by_contract(src.contract_ends),
        payments=by_contract(src.payments),
        feedback=by_contract(src.feedback),
        disputes=d,
        dispute_resolutions=src.dispute_resolutions.semi_join(d.select("dispute_id"), "dispute_id"),
        holds=holds,
        hold_lifts=src.hold_lifts.semi_join(holds.select("hold_id"), "hold_id"),
        violations=src.violations.filter(src.violations.entity_id.isin(ids)),
        manual_badges=src.manual_badges.filter(src.manual_badges.entity_id.isin(ids)),
        removal_requests=by_contract(src.removal_requests),
    )
