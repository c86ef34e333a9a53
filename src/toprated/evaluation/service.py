"""The evaluation service: what the CLI, the API and the scheduler call.

`evaluate_store` answers spec/output.md's document for one as-of day from an Ibis backend holding
the typed tables (DuckDB file, PostgreSQL, …).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis

from toprated.evaluation.engine import BADGES, Removal, evaluate, evaluate_days
from toprated.evaluation.removals import Decision, decide_removals
from toprated.evaluation.scratch import Scratch
from toprated.metrics.sources import Sources, restrict
from toprated.programme import Programme


def entity_closure(src: Sources, ids: Iterable[str]) -> list[str]:
    """The entities whose facts an evaluation of `ids` reads: their agencies (for the agency badge),
    and those agencies' owners and members (for the agencies' own criteria)."""
    ids = sorted(set(ids))
    m, a = src.memberships, src.agencies
    agencies = set(ids) & set(a.filter(a.agency_id.isin(ids)).agency_id.to_pyarrow().to_pylist())
    agencies |= set(m.filter(m.freelancer_id.isin(ids)).agency_id.to_pyarrow().to_pylist())
    agencies |= set(a.filter(a.owner_id.isin(ids)).agency_id.to_pyarrow().to_pylist())
    if not agencies:
        return ids
    ag = sorted(agencies)
    members = set(m.filter(m.agency_id.isin(ag)).freelancer_id.to_pyarrow().to_pylist())
    owners = set(a.filter(a.agency_id.isin(ag)).owner_id.to_pyarrow().to_pylist())
    return sorted(set(ids) | agencies | members | owners)


def _status_at(p: Programme):
    """Top Rated and JSS of some entities on some days (for feedback-removal decisions)."""

    def status(
        src: Sources, removals: list[Removal], days: list[date], entities: list[str]
    ) -> dict[tuple[str, date], tuple[bool, Any]]:
        scope = restrict(src, entity_closure(src, entities))
        out: dict[tuple[str, date], tuple[bool, Any]] = {}
        with Scratch(src.backend) as scratch:
            fr, ag, _ = evaluate_days(scope, p, days, scratch, removals)
            for t in (fr, ag):
                rows = t.filter(t.entity_id.isin(entities)).select("entity_id", "at", "top_rated_held", "jss")
                for row in rows.to_pyarrow().to_pylist():
                    out[(row["entity_id"], row["at"])] = (bool(row["top_rated_held"]), row["jss"])
        return out

    return status


@dataclass(frozen=True)
class Result:
    """Rows (one dict per entity, all columns of the engine) and the removal decisions."""

    as_of: date
    freelancers: list[dict[str, Any]]
    agencies: list[dict[str, Any]]
    decisions: list[Decision]
    contracts: list[dict[str, Any]] = field(default_factory=list)  # with `contracts_of`: the JSS breakdown


def evaluate_store(
    con: ibis.BaseBackend,
    p: Programme,
    as_of: date,
    entity_ids: list[str] | None = None,
    project: bool = True,
    contracts_of: str | None = None,
) -> Result:
    """Evaluate every entity (or only `entity_ids`) of the store behind `con` at `as_of`.

    `contracts_of` names an entity whose contracts, as its JSS sees them on `as_of`, are returned
    too (outcome, weight, eligibility, windows): the per-contract breakdown of `explain`.
    """
    full = Sources.from_backend(con)
    decisions = decide_removals(full, p, as_of, _status_at(p))
    src = restrict(full, entity_closure(full, entity_ids)) if entity_ids else full
    removals = [(d.entity_id, d.contract_id, d.day) for d in decisions if d.granted]
    with Scratch(con) as scratch:
        ev = evaluate(src, p, as_of, scratch, removals, project=project)
        fr = ev.freelancers.order_by("entity_id").to_pyarrow().to_pylist()
        ag = ev.agencies.order_by("entity_id").to_pyarrow().to_pylist()
        contracts: list[dict[str, Any]] = []
        if contracts_of is not None:
            ec = ev.days.contracts
            mine = ec.filter((ec.entity_id == contracts_of) & (ec.at == as_of)).order_by(["started", "contract_id"])
            contracts = mine.to_pyarrow().to_pylist()
    if entity_ids:
        wanted = set(entity_ids)
        fr = [r for r in fr if r["entity_id"] in wanted]
        ag = [r for r in ag if r["entity_id"] in wanted]
    return Result(as_of, fr, ag, decisions, contracts)


def badge_list(row: dict[str, Any], agency: bool) -> list[str]:
    return [b for b in BADGES if not (agency and b == "expert_vetted") and row.get(f"{b}_held")]
