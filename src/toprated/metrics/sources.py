"""The typed tables an evaluation reads, as Ibis tables, cut to what was known on a given day.

"If no event after D existed" (programme.md §10, `qualifies_on`) is literally this cut: every fact
dated after `known_until` is dropped before anything is computed, so projecting into the future
uses only the past.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

from toprated.metrics.compiled import fetch

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
        tables = _duckdb_tables(con) if con.name == "duckdb" else None
        return cls(backend=con, **(tables or {name: con.table(name) for name in TABLES}))

    def known_until(self, day: date) -> Sources:
        """Only the facts whose UTC day is on or before `day`."""
        cut = ibis.literal(day, type="date")
        return replace(self, **{name: getattr(self, name).filter(lambda t: t.day <= cut) for name in TABLES})


_DUCKDB_TYPES: dict[tuple[str, bool], dt.DataType] = {}


def _duckdb_tables(con: ibis.BaseBackend) -> dict[str, ir.Table] | None:
    """The typed tables with their schemas read in one query of DuckDB's catalogue, as `con.table`
    would give them (it asks once per table: 20 ms against 2 ms, at every explanation). None when
    one is missing: `con.table` then says which."""
    rows = con.con.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns()"
        " WHERE database_name = current_database() AND schema_name = current_schema()"
        " AND table_name IN (SELECT unnest($1)) ORDER BY table_name, column_index",
        [list(TABLES)],
    ).fetchall()
    columns: dict[str, dict[str, dt.DataType]] = {}
    for table, column, type_, nullable in rows:
        key = (type_, nullable)
        if key not in _DUCKDB_TYPES:  # parsing a type's name costs more than the query
            _DUCKDB_TYPES[key] = con.compiler.type_mapper.from_string(type_, nullable=nullable)
        columns.setdefault(table, {})[column] = _DUCKDB_TYPES[key]
    if set(columns) != set(TABLES):
        return None
    here = ops.Namespace()  # the current database, as `con.table(name)` takes it
    return {
        name: ops.DatabaseTable(name, schema=ibis.schema(columns[name]), source=con, namespace=here).to_expr()
        for name in TABLES
    }


#: Columns of the largest tables that no rule reads (their instant and event id order nothing there):
#: a copy of some entities' facts (`toprated.evaluation.scratch.Scratch.facts_of`) leaves them out,
#: since a scan reads every column it copies. At a million freelancers, copying 2,000 freelancers'
#: payments took 0.42 s whole and 0.18 s without them; their activities, 0.37 s and 0.13 s.
UNREAD = {"payments": ("event_id", "ts"), "activities": ("event_id", "ts")}


#: Entity ids as `column.isin(…)` takes them: a list, or a one-column table's column.
Ids = list[str] | ir.Column


def contracts_of(src: Sources, entity_ids: Ids) -> ir.Table:
    """The contracts of these freelancers and agencies (as freelancer or as agency)."""
    ids = _isin_arg(entity_ids)
    c = src.contracts
    # Two filters of one column each rather than one OR of both: each can skip the blocks of the
    # table that cannot match (an OR of two columns reads every row: 140 ms of 4.4M contracts,
    # against 4 ms, when `explain` asks for one freelancer).
    as_freelancer = c.filter(c.freelancer_id.isin(ids))
    as_agency_only = c.filter(c.agency_id.isin(ids) & ~c.freelancer_id.isin(ids))
    return as_freelancer.union(as_agency_only)


def restrict(
    src: Sources, entity_ids: Ids, contracts: ir.Table | None = None, contract_ids: list[str] | None = None
) -> Sources:
    """Only the facts of these freelancers and agencies, their contracts and those contracts' facts.

    Clients' flags stay whole (they are few and any contract may need them). The caller passes the
    closure it needs (see `entity_closure`): an agency's evaluation reads its owner's and members'
    facts too. `contracts`: `contracts_of(src, entity_ids)` already computed (a copy), which the
    contracts' own facts are then cut by instead of scanning every contract again for each;
    `contract_ids`: their ids, when few, so that their facts are found through the store's lookup
    indexes rather than joined (see `Scratch.facts_of`).
    """
    ids = _isin_arg(entity_ids)

    def of_ids(t: ir.Table, column: str) -> ir.Table:
        return t.filter(t[column].isin(ids))

    c = contracts if contracts is not None else contracts_of(src, entity_ids)
    cids = c.select("contract_id")

    def by_contract(t: ir.Table) -> ir.Table:
        if contract_ids is not None:
            return t.filter(t.contract_id.isin(contract_ids))
        return t.semi_join(cids, "contract_id")

    d = by_contract(src.disputes)
    holds = of_ids(src.holds, "entity_id")
    return replace(
        src,
        freelancers=of_ids(src.freelancers, "freelancer_id"),
        agencies=of_ids(src.agencies, "agency_id"),
        profiles=of_ids(src.profiles, "freelancer_id"),
        availability=of_ids(src.availability, "freelancer_id"),
        activities=of_ids(src.activities, "freelancer_id"),
        readiness_tests=of_ids(src.readiness_tests, "freelancer_id"),
        agency_profiles=of_ids(src.agency_profiles, "agency_id"),
        memberships=of_ids(src.memberships, "agency_id"),
        contracts=c,
        contract_ends=by_contract(src.contract_ends),
        payments=by_contract(src.payments),
        feedback=by_contract(src.feedback),
        disputes=d,
        dispute_resolutions=src.dispute_resolutions.semi_join(d.select("dispute_id"), "dispute_id"),
        holds=holds,
        hold_lifts=src.hold_lifts.semi_join(holds.select("hold_id"), "hold_id"),
        violations=of_ids(src.violations, "entity_id"),
        manual_badges=of_ids(src.manual_badges, "entity_id"),
        removal_requests=by_contract(src.removal_requests),
    )


def entity_closure(src: Sources, ids: Iterable[str], agency_badges: bool = True) -> list[str]:
    """The entities whose facts an evaluation of `ids` reads: for agencies among them, their owners
    and members (the agency's own criteria); with `agency_badges`, also the agencies of the
    freelancers among them, with their owners and members (the badge a member shows)."""
    ids = sorted(set(ids))
    m, a = src.memberships, src.agencies
    found = a.filter(a.agency_id.isin(one_of(ids))).select("agency_id")
    if agency_badges:
        of_members = m.filter(m.freelancer_id.isin(one_of(ids))).select("agency_id")
        found = found.union(of_members).union(a.filter(a.owner_id.isin(one_of(ids))).select("agency_id"))
    agencies = set(fetch(found)["agency_id"].to_pylist())
    if not agencies:
        return ids
    ag = one_of(sorted(agencies))
    members = m.filter(m.agency_id.isin(ag)).select(entity_id="freelancer_id")
    owners = a.filter(a.agency_id.isin(ag)).select(entity_id="owner_id")
    return sorted(set(ids) | agencies | set(fetch(members.union(owners))["entity_id"].to_pylist()))


def one_of(ids: list[str]) -> list[str] | ir.Column:
    """What `column.isin(…)` takes for these ids: the list itself when short, else a one-column
    table (thousands of literals make SQL that is slow to compile and to run)."""
    if len(ids) <= 100:
        return ids
    return ibis.memtable(pa.table({"_id": pa.array(ids, type=pa.string())}))._id


def _isin_arg(entity_ids: Ids) -> list[str] | ir.Column:
    return entity_ids if isinstance(entity_ids, ir.Column) else one_of(list(entity_ids))
