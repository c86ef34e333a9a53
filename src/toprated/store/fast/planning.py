"""Planning of the fast import: which staged rows are decided in SQL (S), which by plan.py (K).

`plan_import` decides over the valid items of the whole batch; here the valid staged rows are split
into a *simple* set S, decided in SQL, and the rest, which joins the slow valid items in the set K
that `plan_import` decides as today. A staged row whose id is already stored is decided on its own
(plan.py's `unique` looks only at the store for it): same content (the type, the UTC instant and
the canonical data: what `content_digest` hashes), a duplicate; else the fixed "already stored"
conflict. Of the others ("live"), a row is in S when

- its id occurs once among the live rows and the slow valid items (no duplicate or conflict in the
  batch involves it);
- if it defines an entity, its (namespace, key) occurs once among them and is not stored (so the
  once-per-entity rule has nothing to choose), and, for `agency.created`, its agency id is no
  agency.created's `owner_id` in the batch (see below);
- every entity it refers to is stored or defined by a row of S (computed in dependency order:
  freelancers, agencies, contracts, disputes and holds).

Every event of S is accepted by `plan_import` over the whole batch: nothing competes with it and all
it needs is accepted. K is then planned with `plan_import(K, known')`, where `known'` is the store
plus S's definitions, as if S were stored. That is the same decision as over the whole batch: K's ids
and defining keys are disjoint from S's (they occur once), so `unique` and `once` see the same
groups; a reference from K resolves against the same entities because S's are accepted anyway, and
each stage only consults entities of earlier stages. The one place where plan.py reads a set before
that set is complete is the message hint of a rejected agency owner (`'a1' is an agency`, checked
against stored agencies only); keeping agencies named as an owner out of S keeps that hint exact.
Staged rows that go to K become events from their canonical JSON (the values `validate` gives).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from toprated.events import DATA_MODELS, Event, digest_of
from toprated.store import schema
from toprated.store.fast.spec import _KEY_FIELDS, FIELDS, _in, _lit, _paths, _q
from toprated.store.fast.staging import _PFX, _STAGE
from toprated.store.plan import DEFINING, Item, Known
from toprated.store.rows import TYPED_TABLE

_NS = "CASE type " + " ".join(f"WHEN {_lit(t)} THEN {_lit(ns)}" for t, (ns, _) in DEFINING.items()) + " END"
_NS_KEY = "CASE type " + " ".join(f"WHEN {_lit(t)} THEN {_q(k)}" for t, (_, k) in DEFINING.items()) + " END"
#: knowledge relation of each namespace: (key, event_id) of what the store holds
_KNOWN_NS = {
    "party": ("k_fl", "k_ag"),
    "contract": ("k_contract",),
    "contract_end": ("k_contract_end",),
    "dispute": ("k_dispute",),
    "dispute_resolution": ("k_dispute_resolution",),
    "hold": ("k_hold",),
    "hold_lift": ("k_hold_lift",),
}
#: knowledge relation -> (table, key column)
KNOWLEDGE = {
    "k_fl": ("freelancers", "freelancer_id"),
    "k_ag": ("agencies", "agency_id"),
    "k_contract": ("contracts", "contract_id"),
    "k_contract_end": ("contract_ends", "contract_id"),
    "k_dispute": ("disputes", "dispute_id"),
    "k_dispute_resolution": ("dispute_resolutions", "dispute_id"),
    "k_hold": ("holds", "hold_id"),
    "k_hold_lift": ("hold_lifts", "hold_id"),
}
#: A staged row `s` says what the stored event `k` says (`toprated.events.digest_of`'s parts).
_SAME_CONTENT = "k.type = s.type AND k.time = s.ts AND k.data = s.data"


def _t(name: str) -> str:
    return f"{_PFX}_{name}"


class _Planner:
    """The split of the staged rows into S (decided here) and K (plan.py), and the writes of S."""

    def __init__(self, duck: Any, known: str) -> None:
        self.duck = duck
        self.k = known  # prefix of the knowledge relations (k_events, k_fl, …)

    def sql(self, text: str) -> list[tuple[Any, ...]]:
        return self.duck.execute(text).fetchall()

    def store_duplicates(self) -> tuple[np.ndarray, int, list[tuple[int, int, str]]]:
        """Staged rows whose id the store holds: their positions, how many have the same content, and
        (pos, line, id) of those that do not (conflicts)."""
        self.sql(
            f"CREATE TEMP TABLE {_t('sdup')} AS SELECT s.pos, s.line, s.id, {_SAME_CONTENT} AS same "
            f"FROM {_STAGE} s JOIN {self.k}k_events k ON k.id = s.id WHERE s.ok"
        )
        positions = self.duck.sql(f"SELECT pos FROM {_t('sdup')}").fetchnumpy()["pos"]
        (same,) = self.sql(f"SELECT count(*) FROM {_t('sdup')} WHERE same")[0]
        conflicts = self.sql(f"SELECT pos, line, id FROM {_t('sdup')} WHERE NOT same ORDER BY pos")
        return np.asarray(positions, dtype=np.int64), int(same), conflicts

    def split(self, slow: list[Item]) -> list[tuple[Any, ...]]:
        """The staged rows that go to the exact path (K), as their stage rows, in position order."""
        kv = pa.table(
            {
                "id": pa.array([it.event.id for it in slow], pa.string()),
                "type": pa.array([it.event.type for it in slow], pa.string()),
                "owner_id": pa.array([getattr(it.event.data, "owner_id", None) for it in slow], pa.string()),
                "ns": pa.array([DEFINING.get(it.event.type, (None, None))[0] for it in slow], pa.string()),
                "key": pa.array([_defining_key(it) for it in slow], pa.string()),
            }
        )
        self.duck.register(_t("kv"), kv)
        k = self.k
        stored = " UNION ALL ".join(
            f"SELECT {_lit(ns)} AS ns, key FROM {k}{rel}" for ns, rels in _KNOWN_NS.items() for rel in rels
        )
        (stored_duplicates,) = self.sql(f"SELECT count(*) FROM {_t('sdup')}")[0]
        not_stored = f" AND pos NOT IN (SELECT pos FROM {_t('sdup')})" if stored_duplicates else ""
        self.sql(
            f"CREATE TEMP VIEW {_t('live')} AS SELECT pos, id, type, {_NS} AS ns, {_NS_KEY} AS key, "
            f"{', '.join(_q(f) for f in _KEY_FIELDS)} FROM {_STAGE} WHERE ok{not_stored}"
        )
        live, kvt = _t("live"), _t("kv")
        # ids and defining keys that occur twice among the live rows and the slow valid items, or are stored
        self.sql(
            f"CREATE TEMP TABLE {_t('seed')} AS "
            f"WITH ids AS (SELECT id FROM {live} GROUP BY id HAVING count(*) > 1 UNION ALL SELECT id FROM {kvt}), "
            f"keys AS (SELECT ns, key FROM {live} WHERE ns IS NOT NULL GROUP BY ns, key HAVING count(*) > 1 "
            f"UNION ALL SELECT ns, key FROM {kvt} WHERE ns IS NOT NULL UNION ALL {stored}), "
            f"owners AS (SELECT owner_id FROM {live} WHERE type = 'agency.created' "
            f"UNION SELECT owner_id FROM {kvt} WHERE type = 'agency.created') "
            f"SELECT pos FROM {live} SEMI JOIN ids USING (id) "
            f"UNION SELECT pos FROM {live} l SEMI JOIN keys k ON l.ns = k.ns AND l.key = k.key "
            f"UNION SELECT pos FROM {live} l SEMI JOIN owners o "
            f"ON l.type = 'agency.created' AND l.agency_id = o.owner_id"
        )
        seed = f"pos NOT IN (SELECT pos FROM {_t('seed')})"

        def defined(name: str, type_: str, column: str, where: str) -> str:
            self.sql(
                f"CREATE TEMP TABLE {_t(name)} AS SELECT {_q(column)} AS key FROM {live} "
                f"WHERE type = {_lit(type_)} AND {seed} AND {where} "
                f"UNION ALL SELECT key FROM {k}{'k_' + name}"
            )
            return _t(name)

        def inside(column: str, rel: str) -> str:
            return f"({_q(column)} IS NULL OR {_q(column)} IN (SELECT key FROM {rel}))"

        fl = defined("fl", "freelancer.joined", "freelancer_id", "true")
        ag = defined("ag", "agency.created", "agency_id", inside("owner_id", fl))
        party = f"{inside('freelancer_id', fl)} AND {inside('agency_id', ag)}"
        ct = defined("contract", "contract.started", "contract_id", party)
        dp = defined("dispute", "dispute.opened", "dispute_id", inside("contract_id", ct))
        hd = defined("hold", "account.hold_placed", "hold_id", party)
        refs = " AND ".join(
            [party, inside("owner_id", fl), inside("contract_id", ct), inside("dispute_id", dp), inside("hold_id", hd)]
        )
        self.sql(
            f"CREATE TEMP TABLE {_t('excl')} AS SELECT pos FROM {_t('seed')} "
            f"UNION ALL SELECT pos FROM {live} WHERE {seed} AND NOT ({refs})"
        )
        self.sql(
            f"CREATE TEMP TABLE {_t('out')} AS SELECT pos FROM {_t('excl')} UNION ALL SELECT pos FROM {_t('sdup')}"
        )
        return self.sql(
            f"SELECT s.pos, s.line, s.id, s.type, s.ts, s.source, s.specversion, s.data FROM {_STAGE} s "
            f"SEMI JOIN {_t('excl')} USING (pos) ORDER BY s.pos"
        )

    def simple_count(self) -> int:
        (n,) = self.sql(f"SELECT count(*) FROM {_STAGE} WHERE ok AND pos NOT IN (SELECT pos FROM {_t('out')})")[0]
        return int(n)

    def known_for(self, items: list[Item]) -> dict[str, list[tuple[Any, ...]]]:
        """Store and S definitions of the keys K's items name: knowledge relation -> (key, event_id)."""
        keys = {it.event.id for it in items}
        for it in items:
            data = it.event.data
            keys.update(v for f in _KEY_FIELDS if (v := getattr(data, f, None)) is not None)
        self.duck.register(_t("kk"), pa.table({"k": pa.array(sorted(keys), pa.string())}))
        out: dict[str, list[tuple[Any, ...]]] = {}
        events = f"SELECT id, type, time, data FROM {self.k}k_events SEMI JOIN {_t('kk')} ON id = k"
        out["k_events"] = [(i, digest_of(*rest)) for i, *rest in self.sql(events)]
        simple = f"ok AND pos NOT IN (SELECT pos FROM {_t('out')})"
        for rel in KNOWLEDGE:
            out[rel] = self.sql(f"SELECT key, event_id FROM {self.k}{rel} SEMI JOIN {_t('kk')} ON key = k")
        for type_, (_, column) in DEFINING.items():
            rel = _RELATION_OF[type_]
            out[rel] += self.sql(
                f"SELECT {_q(column)}, id FROM {_STAGE} SEMI JOIN {_t('kk')} ON {_q(column)} = k "
                f"WHERE type = {_lit(type_)} AND {simple}"
            )
        self.duck.unregister(_t("kk"))
        return out

    def shift(self, nonaccepted: np.ndarray) -> str:
        """SQL of `seq - base` for stage rows `s` (with `{join}` to add), given the non-accepted positions."""
        if len(nonaccepted) == 0:
            return ""
        table = pa.table({"pos": pa.array(nonaccepted), "shift": pa.array(np.arange(1, len(nonaccepted) + 1))})
        self.duck.register(_t("shift"), table)
        return f"ASOF LEFT JOIN {_t('shift')} n ON s.pos > n.pos"

    def selects(self, base: int, now: datetime, join: str) -> Iterator[tuple[sa.Table, str]]:
        """(table, SELECT of its rows from S) for the raw log and every typed table."""
        keep = f"s.ok AND s.pos NOT IN (SELECT pos FROM {_t('out')})"
        shift = "coalesce(n.shift, 0)" if join else "0"
        exprs = {
            "id": "s.id",
            "seq": f"{base} + s.pos - {shift}",
            "type": "s.type",
            "time": "s.ts",
            "day": "CAST(s.ts AS DATE)",
            "source": "s.source",
            "specversion": "s.specversion",
            "data": "s.data",
            "imported_at": f"TIMESTAMP {_lit(now.isoformat(sep=' '))}",
        }
        cols = ", ".join(exprs[c.name] for c in schema.events.columns)
        yield schema.events, f"SELECT {cols} FROM {_STAGE} s {join} WHERE {keep}"
        by_table: dict[str, list[str]] = {}
        for type_, (name, _) in TYPED_TABLE.items():
            by_table.setdefault(name, []).append(type_)
        for name, types in by_table.items():
            table = schema.metadata.tables[name]
            fields = [_FIELD_OF.get(c.name, c.name) for c in table.columns]
            fields = [f for f in fields if f in FIELDS and f not in _KEY_FIELDS]
            cols = ", ".join(_typed_expr(c.name, fields) for c in table.columns)
            inner = f"SELECT s.*, json_extract_string(s.data, {_paths('$.', fields)}) AS v" if fields else "SELECT s.*"
            yield table, f"SELECT {cols} FROM ({inner} FROM {_STAGE} s WHERE s.type IN {_in(types)} AND {keep}) s"

    def drop(self) -> None:
        for kind, name in self.sql(
            "SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, "
            f"{_lit(_PFX)}) UNION ALL SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND "
            f"starts_with(view_name, {_lit(_PFX)})"
        ):
            self.duck.execute(f"DROP {kind} IF EXISTS temp.{_q(name)}")
        for view in ("kv", "shift", "kk"):
            with contextlib.suppress(Exception):
                self.duck.unregister(_t(view))


_RELATION_OF = {
    "freelancer.joined": "k_fl",
    "agency.created": "k_ag",
    "contract.started": "k_contract",
    "contract.ended": "k_contract_end",
    "dispute.opened": "k_dispute",
    "dispute.resolved": "k_dispute_resolution",
    "account.hold_placed": "k_hold",
    "account.hold_lifted": "k_hold_lift",
}


def _typed_expr(column: str, fields: list[str]) -> str:
    """A typed table's column from a staged row `s` (canonical data's values in `s.v`, by `fields`)."""
    special = {
        "event_id": "s.id",
        "ts": "s.ts",
        "day": "CAST(s.ts AS DATE)",
        "entity_id": "coalesce(s.freelancer_id, s.agency_id)",
        "joined": "s.type = 'agency.member_joined'",
        "granted": "s.type = 'badge.granted'",
    }
    if column in special:
        return special[column]
    if column in _KEY_FIELDS:
        return f"s.{_q(column)}"
    field = _FIELD_OF.get(column, column)
    value = f"s.v[{fields.index(field) + 1}]"
    if column == "missing":  # as json.dumps writes the list (its strings are printable ASCII here)
        return f"replace({value}, '\",\"', '\", \"')"
    return value if FIELDS[field] == "VARCHAR" else f"CAST({value} AS {FIELDS[field]})"


#: typed table column -> the data field it holds, where the names differ
_FIELD_OF = {"actor": "by"}


def _defining_key(item: Item) -> str | None:
    found = DEFINING.get(item.event.type)
    return None if found is None else getattr(item.event.data, found[1])


def _event_of(row: tuple[Any, ...]) -> Event:
    """The event `validate()` makes of a staged ok row (same values: the canonical data says them all)."""
    _, _, event_id, type_, ts, source, specversion, data = row
    time = ts.replace(tzinfo=UTC)
    typed = DATA_MODELS[type_].model_validate(json.loads(data))
    return Event(event_id, type_, time, time.date(), source, specversion, typed, data)


def _known(rows: dict[str, list[tuple[Any, ...]]]) -> Known:
    known = Known()
    known.digests.update(rows["k_events"])
    for ns, rels in _KNOWN_NS.items():
        for rel in rels:
            known.firsts[ns].update(rows[rel])
    known.freelancers.update(k for k, _ in rows["k_fl"])
    known.agencies.update(k for k, _ in rows["k_ag"])
    return known
