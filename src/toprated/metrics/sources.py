"""The typed tables an evaluation reads, as Ibis tables, cut to what was known on a given day.

"If no event after D existed" (programme.md §10, `qualifies_on`) is literally this cut: every fact
dated after `known_until` is dropped before anything is computed, so projecting into the future
uses only the past.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
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

    @classmethod
    def from_backend(cls, con: ibis.BaseBackend) -> Sources:
        return cls(**{name: con.table(name) for name in TABLES})

    def known_until(self, day: date) -> Sources:
        """Only the facts whose UTC day is on or before `day`."""
        cut = ibis.literal(day, type="date")
        return replace(self, **{f.name: getattr(self, f.name).filter(lambda t: t.day <= cut) for f in fields(self)})
