"""The evaluation service: what the CLI, the API and the scheduler call.

`evaluate_store` answers spec/output.md's document for one as-of day from an Ibis backend holding
the typed tables (DuckDB file, PostgreSQL, …).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis

from toprated.evaluation.criteria import STATIC
from toprated.evaluation.engine import BADGES, Removal, badges_for, evaluate, evaluate_days, qualifying_days
from toprated.evaluation.removals import Decision, decide_removals
from toprated.evaluation.scratch import Scratch
from toprated.metrics.sources import Sources, restrict
from toprated.programme import Programme


def entity_closure(src: Sources, ids: Iterable[str], agency_badges: bool = True) -> list[str]:
    """The entities whose facts an evaluation of `ids` reads: for agencies among them, their owners
    and members (the agency's own criteria); with `agency_badges`, also the agencies of the
    freelancers among them, with their owners and members (the badge a member shows)."""
    ids = sorted(set(ids))
    m, a = src.memberships, src.agencies
    agencies = set(a.filter(a.agency_id.isin(ids)).agency_id.to_pyarrow().to_pylist())
    if agency_badges:
        agencies |= set(m.filter(m.freelancer_id.isin(ids)).agency_id.to_pyarrow().to_pylist())
        agencies |= set(a.filter(a.owner_id.isin(ids)).agency_id.to_pyarrow().to_pylist())
    if not agencies:
        return ids
    ag = sorted(agencies)
    members = set(m.filter(m.agency_id.isin(ag)).freelancer_id.to_pyarrow().to_pylist())
    owners = set(a.filter(a.agency_id.isin(ag)).owner_id.to_pyarrow().to_pylist())
    return sorted(set(ids) | agencies | members | owners)


#: Requests whose days share a weekday and lie within this many weeks are evaluated together: their
#: weekly points overlap, so the calendar stays short (at most 2 × 16 − 1 days for 16 weeks).
STATUS_BLOCK_WEEKS = 16


def status_groups(pairs: set[tuple[str, date]], block_weeks: int = STATUS_BLOCK_WEEKS) -> list[set[tuple[str, date]]]:
    """Split (entity, day) pairs into groups evaluated on one calendar each.

    One calendar for all pairs would evaluate every entity on every day and on each day's 16 weekly
    points: entities × days. Grouping by weekday and block of weeks evaluates each entity only near
    its own days, at the cost of one evaluation per group.
    """
    groups: dict[tuple[int, int], set[tuple[str, date]]] = defaultdict(set)
    for entity, day in pairs:
        n = day.toordinal()
        groups[(n % 7, n // (7 * block_weeks))].add((entity, day))
    return [groups[k] for k in sorted(groups)]


def _status_at(p: Programme):
    """Top Rated and JSS of some entities on some days (for feedback-removal decisions)."""

    def status(
        src: Sources, removals: list[Removal], pairs: set[tuple[str, date]]
    ) -> dict[tuple[str, date], tuple[bool, Any]]:
        out: dict[tuple[str, date], tuple[bool, Any]] = {}
        for group in status_groups(pairs):
            entities = sorted({e for e, _ in group})
            scope = restrict(src, entity_closure(src, entities, agency_badges=False))
            with Scratch(src.backend) as scratch:
                fr, ag, _ = evaluate_days(scope, p, sorted({d for _, d in group}), scratch, removals)
                for t in (fr, ag):
                    rows = t.filter(t.entity_id.isin(entities)).select("entity_id", "at", "top_rated_held", "jss")
                    for row in rows.to_pyarrow().to_pylist():
                        key = (row["entity_id"], row["at"])
                        if key in group:
                            out[key] = (bool(row["top_rated_held"]), row["jss"])
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
    # Decisions depend only on the deciding entity's own requests (and an agency's owner's), all of
    # which the closure holds, so a restricted evaluation decides only what it shows.
    src = restrict(full, entity_closure(full, entity_ids)) if entity_ids else full
    decisions = decide_removals(src, p, as_of, _status_at(p))
    removals = [(d.entity_id, d.contract_id, d.day) for d in decisions if d.granted]
    with Scratch(con) as scratch:
        ev = evaluate(src, p, as_of, scratch, removals)
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
    _add_qualifies_on(full, p, as_of, removals, fr, ag, project)
    return Result(as_of, fr, ag, decisions, contracts)


def criteria_names(row: dict[str, Any], badge: str) -> list[str]:
    """A badge's criteria in the rule book's order (the engine emits its columns in that order)."""
    prefix, suffix = f"{badge}__", "__value"
    return [k[len(prefix) : -len(suffix)] for k in row if k.startswith(prefix) and k.endswith(suffix)]


def to_project(row: dict[str, Any], agency: bool) -> list[str]:
    """The badges of this entity that are not held and could still come without a new event."""
    out: list[str] = []
    for badge in badges_for(agency):
        if row[f"{badge}_held"]:
            continue
        if badge == "top_rated_plus" and not (row["top_rated_held"] or "top_rated" in out):
            continue  # it needs Top Rated, which cannot come
        failing = [n for n in criteria_names(row, badge) if not row[f"{badge}__{n}__met"]]
        if not any(n in STATIC for n in failing):
            out.append(badge)
    return out


def _add_qualifies_on(
    full: Sources,
    p: Programme,
    as_of: date,
    removals: list[Removal],
    fr: list[dict[str, Any]],
    ag: list[dict[str, Any]],
    project: bool,
) -> None:
    """Set `<badge>__qualifies_on` on every row, projecting only the entities that need it."""
    wanted = {r["entity_id"]: to_project(r, agency) for rows, agency in ((fr, False), (ag, True)) for r in rows}
    wanted = {k: v for k, v in wanted.items() if v} if project else {}
    found: dict[str, dict[str, Any]] = {}
    if wanted:
        scope = restrict(full, entity_closure(full, wanted, agency_badges=False))
        with Scratch(full.backend) as scratch:
            for t in qualifying_days(scope, p, as_of, scratch, removals):
                found.update({r["entity_id"]: r for r in t.to_pyarrow().to_pylist()})
    for rows, agency in ((fr, False), (ag, True)):
        for r in rows:
            q = found.get(r["entity_id"], {})
            for badge in badges_for(agency):
                r[f"{badge}__qualifies_on"] = (
                    q.get(f"{badge}__qualifies_on") if badge in wanted.get(r["entity_id"], ()) else None
                )


def badge_list(row: dict[str, Any], agency: bool) -> list[str]:
    return [b for b in BADGES if not (agency and b == "expert_vetted") and row.get(f"{b}_held")]
