"""The evaluation service: what the CLI, the API and the scheduler call.

`evaluate_store` answers spec/output.md's document for one as-of day from an Ibis backend holding
the typed tables (DuckDB file, PostgreSQL, …).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis

from toprated.evaluation.engine import BADGES, Evaluation, evaluate, removals_table
from toprated.evaluation.removals import Decision, decide_removals
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
    def status(src: Sources, removals: list[tuple[str, str, date]], day: date, entity: str) -> tuple[bool, Any]:
        ev = evaluate(src, p, day, removals_table(removals), project=False)
        for t in (ev.freelancers, ev.agencies):
            rows = t.filter(t.entity_id == entity).select("top_rated_held", "jss").to_pyarrow().to_pylist()
            if rows:
                return bool(rows[0]["top_rated_held"]), rows[0]["jss"]
        return False, None

    return status


@dataclass(frozen=True)
class Result:
    """Rows (one dict per entity, all columns of the engine) and the removal decisions."""

    as_of: date
    freelancers: list[dict[str, Any]]
    agencies: list[dict[str, Any]]
    decisions: list[Decision]


def evaluate_store(
    con: ibis.BaseBackend,
    p: Programme,
    as_of: date,
    entity_ids: list[str] | None = None,
    project: bool = True,
) -> Result:
    """Evaluate every entity (or only `entity_ids`) of the store behind `con` at `as_of`."""
    full = Sources.from_backend(con)
    decisions = decide_removals(full, p, as_of, _status_at(p), lambda ids: entity_closure(full, ids))
    src = restrict(full, entity_closure(full, entity_ids)) if entity_ids else full
    removals = [(d.entity_id, d.contract_id, d.day) for d in decisions if d.granted]
    ev: Evaluation = evaluate(src, p, as_of, removals_table(removals), project=project)
    fr = ev.freelancers.order_by("entity_id").to_pyarrow().to_pylist()
    ag = ev.agencies.order_by("entity_id").to_pyarrow().to_pylist()
    if entity_ids:
        wanted = set(entity_ids)
        fr = [r for r in fr if r["entity_id"] in wanted]
        ag = [r for r in ag if r["entity_id"] in wanted]
    return Result(as_of, fr, ag, decisions)


def badge_list(row: dict[str, Any], agency: bool) -> list[str]:
    return [b for b in BADGES if not (agency and b == "expert_vetted") and row.get(f"{b}_held")]
