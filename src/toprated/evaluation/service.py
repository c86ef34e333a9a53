"""The evaluation service: what the CLI, the API and the scheduler call.

`evaluate_store` answers spec/output.md's document for one as-of day from an Ibis backend holding
the typed tables (DuckDB file, PostgreSQL, …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from toprated.evaluation.criteria import STATIC
from toprated.evaluation.engine import BADGES, Removal, badges_for, evaluate, qualifying_days
from toprated.evaluation.plans import Same
from toprated.evaluation.removals import Decision, decide_removals
from toprated.evaluation.request_status import RequestStatus
from toprated.evaluation.scratch import Scratch, table_names
from toprated.metrics.compiled import fetch
from toprated.metrics.sources import Sources, entity_closure, restrict
from toprated.programme import Programme


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
    with Scratch(con) as facts:
        # Decisions depend only on the deciding entity's own requests (and an agency's owner's), all
        # of which the closure holds, so a restricted evaluation decides only what it shows. Its facts
        # are copied once: every later step then reads a few rows instead of the store's tables.
        src = facts.facts_of(full, entity_closure(full, entity_ids)) if entity_ids else full
        with RequestStatus(p, copy_facts=not entity_ids) as status_at:
            decisions = decide_removals(src, p, as_of, status_at)
        removals = [(d.entity_id, d.contract_id, d.day) for d in decisions if d.granted]
        # A few entities are projected in the same pass as they are evaluated (see `evaluate`);
        # all of them only where it is needed, after the evaluation (`_add_qualifies_on`).
        in_one_pass = bool(entity_ids) and project
        projected: dict[str, dict[str, Any]] | None = None
        contracts: list[dict[str, Any]] = []
        with Scratch(con) as scratch:
            if entity_ids:
                # a few entities' results are copied, and the copies read (see `_evaluate_few`)
                out = _evaluate_few(src, p, as_of, scratch, removals, in_one_pass, contracts_of is not None)
                read = {k: fetch(t.order_by(_ORDER[k])).to_pylist() for k, t in out.items()}
                fr, ag = read["freelancers"], read["agencies"]
                if in_one_pass:
                    projected = {r["entity_id"]: r for k in ("projected_f", "projected_a") for r in read[k]}
                if contracts_of is not None:
                    contracts = [c for c in read["contracts"] if c["entity_id"] == contracts_of]
            else:
                # everyone's are read once, without copying them first
                ev = evaluate(src, p, as_of, scratch, removals, contracts=False)
                fr = ev.freelancers.order_by("entity_id").to_pyarrow().to_pylist()
                ag = ev.agencies.order_by("entity_id").to_pyarrow().to_pylist()
        if entity_ids:
            wanted = set(entity_ids)
            fr = [r for r in fr if r["entity_id"] in wanted]
            ag = [r for r in ag if r["entity_id"] in wanted]
        _add_qualifies_on(src, p, as_of, removals, fr, ag, project, projected)
    return Result(as_of, fr, ag, decisions, contracts)


_ORDER = {
    "freelancers": ["entity_id"],
    "agencies": ["entity_id"],
    "projected_f": ["entity_id"],
    "projected_a": ["entity_id"],
    "contracts": ["entity_id", "started", "contract_id"],
}


def _evaluate_few(
    src: Sources,
    p: Programme,
    as_of: date,
    scratch: Scratch,
    removals: list[Removal],
    project: bool,
    with_contracts: bool,
) -> dict[str, ir.Table]:
    """A few entities' evaluation (`src`: their facts, copied by `Scratch.facts_of`), kept in
    `scratch`: freelancers, agencies, with `with_contracts` the contracts as their JSS sees them on
    `as_of`, and with `project`, every entity's `qualifies_on` (projected_f, projected_a).

    The next explanation of the same day replays this one's statements (`Scratch.replayable`):
    they read the facts' copies, whose names are the same whoever is explained."""

    def build() -> dict[str, ir.Table]:
        ev = evaluate(src, p, as_of, scratch, removals, project=project)
        out = {"freelancers": ev.freelancers, "agencies": ev.agencies}
        if with_contracts:
            out["contracts"] = ev.days.contracts.filter(ev.days.contracts.at == as_of)
        if ev.projected is not None:
            out["projected_f"], out["projected_a"] = ev.projected
        return {k: scratch.keep(t) for k, t in out.items()}

    tables = table_names(src)
    if tables is None:
        return build()
    key = ("evaluate_few", tables, as_of, Same(p), tuple(removals), project, with_contracts)
    return scratch.replayable(key, build)


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
    projected: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Set `<badge>__qualifies_on` on every row, projecting only the entities that need it.

    `projected`: every entity's projection, already made with the evaluation (`evaluate`)."""
    wanted = {r["entity_id"]: to_project(r, agency) for rows, agency in ((fr, False), (ag, True)) for r in rows}
    wanted = {k: v for k, v in wanted.items() if v} if project else {}
    found: dict[str, dict[str, Any]] = projected if projected is not None else {}
    if wanted and projected is None:
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
