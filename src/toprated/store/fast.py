"""Column-wise import of event files: the fast path behind `Store.import_files`, exact by construction.

`Store.import_records` (core.py) validates one event at a time with pydantic and plans in Python; this
module gets the same result for whole files at DuckDB speed. Every rule stays where it is: a row
the vectorised checks cannot vouch for, or that interacts with anything unusual, goes through the
per-event path (`validate`, `plan_import`) and so gets exactly today's outcome and message.

**1. Staging** (before the transaction; one SQL statement per Parquet file or JSON Lines chunk).
JSON Lines are split into lines with numpy (line numbers and blank lines exactly as `read_records`:
only `\\n` ends a line; lines that may not be UTF-8 or do not start with `{` are read by Python)
and handed to DuckDB as zero-copy Arrow strings; Parquet is read by `read_parquet` after a schema
check (envelope columns as strings; empty cells are absent, as for the reader). Each row gets its
position `pos` among all records of the batch (as `enumerate` in `import_records`) and lands in one
staging table with `ok` and, when ok, its UTC instant, its canonical `data` JSON (as pydantic writes
it) and its entity keys; typed values are read back from the canonical JSON when writing. `ok` is a
*sufficient* condition for `validate()` to accept the event with exactly those values. Two lanes:

- the *template lane*: one regular expression per event type (`_templates`), matched against the
  whole JSON line or against Parquet's `data`, proves the shape: compact JSON, fields in model order
  (or the simulator's, for account.hold_placed), no escapes or control characters in strings, each
  value in the canonical form pydantic writes (money `123.45`, scores `4.5`, integers in range,
  enums, exactly one party, a score, expert_vetted for freelancers only), a valid envelope (an id
  with a letter or digit, `time` as `YYYY-MM-DD[THH:MM:SS(Z|±HH:MM)]`, years 1100–9899). The data is
  then its own canonical JSON (payment.made gets its default `"refund":false`); only calendar
  validity (February 30th) is checked after. This is every event the simulator writes.
- the *general lane*, for the rest: no backslash anywhere (so no escapes: decoded strings are their
  own JSON text, no lone surrogate or NUL), valid JSON for DuckDB and no trailing comma (the one
  laxity of its parser that could reach a kept value; NaN/Infinity can only sit in a field whose
  type check fails), only the envelope keys, each once, of the right JSON types, and data keys that
  are fields of the model (`_SPEC`, which a test keeps in step with models.py), each once, every
  value of the JSON type the strict model takes and in range; the canonical JSON is rebuilt.

Anything else — a bad line, a wrong type, an unknown field, a float amount, an escaped string, a
gzip or CSV file — is a *slow* record: read by the reader's own code (`jsonl_record`, `row_record`)
and validated by `validate()`, so its reason is today's. A chunk DuckDB cannot read is slow whole.

**2. Planning.** `plan_import` decides over the valid items of the whole batch; here the valid
staged rows are split into a *simple* set S, decided in SQL, and the rest, which joins the slow
valid items in the set K that `plan_import` decides as today. A staged row whose id is already
stored is decided on its own (plan.py's `unique` looks only at the store for it): same digest, a
duplicate; else the fixed "already stored" conflict. Of the others ("live"), a row is in S when

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

**3. Writing**, in one transaction with the planning (DuckDB: on the store's own connection, so the
rows go from the staging table to the raw log and the typed tables by `INSERT … SELECT`, digests by
DuckDB's sha256; PostgreSQL: staging in a private DuckDB, then `COPY`). `seq` follows arrival order
over all accepted events, exactly as the per-event path numbers them; K's accepted events are
written by the per-event writer.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from toprated.errors import UserError
from toprated.events import DATA_MODELS, Event, Record, content_digest, file_format, read_records
from toprated.events.readers import jsonl_record, row_record
from toprated.store import schema
from toprated.store.bulk import copy_batches, load_knowledge, next_seq
from toprated.store.core import (
    PG_IMPORT_LOCK,
    ImportReport,
    Rejection,
    Store,
    duckdb_config,
    validate_pairs,
    write_items,
)
from toprated.store.plan import DEFINING, Item, Known, plan_import
from toprated.store.rows import TYPED_TABLE

__all__ = ["CHUNK_BYTES", "LAST_STATS", "import_files"]

#: What the last `import_files` did: records read, staged as ok, read per event (slow), ok but
#: decided by plan.py (exact), decided here (simple). For tests and benchmarks.
LAST_STATS: dict[str, int] = {}

#: JSON Lines are staged this many bytes at a time (whole lines).
CHUNK_BYTES = 128 << 20
_PFX = "_toprated_fast"
_STAGE = f"{_PFX}_stage"

# --- what the vectorised checks accept, per type (mirrors models.py; tests/store check they agree) ---

ID, ID_OPT, TEXT, STR_OPT = "id", "id?", "text", "str?"
BOOL, BOOL_FALSE, INT, INT_OPT, SCORE_OPT = "bool", "bool=false", "int", "int?", "score?"
ENUM, MONEY, MONEY_OPT, DAY_OPT, STRLIST_OPT = "enum", "money", "money?", "day?", "strlist?"

_ACTIVITY = ("proposal", "invitation_accepted", "message", "login")
_BADGES = ("expert_vetted", "rising_talent")
_PARTY_FIELDS = {"freelancer_id": (ID_OPT,), "agency_id": (ID_OPT,)}

#: type -> data field -> (kind, *arguments): int bounds or enum values
_SPEC: dict[str, dict[str, tuple[Any, ...]]] = {
    "freelancer.joined": {"freelancer_id": (ID,), "name": (STR_OPT,), "migrated_from": (STR_OPT,)},
    "freelancer.profile_updated": {
        "freelancer_id": (ID,),
        "completeness": (INT, 0, 100),
        "has_photo": (BOOL,),
        "missing": (STRLIST_OPT,),
    },
    "freelancer.availability_updated": {
        "freelancer_id": (ID,),
        "available": (BOOL,),
        "hours_per_week": (INT_OPT, 0, 168),
        "return_on": (DAY_OPT,),
    },
    "freelancer.activity": {"freelancer_id": (ID,), "kind": (ENUM, *_ACTIVITY)},
    "freelancer.readiness_test_passed": {"freelancer_id": (ID,)},
    "agency.created": {"agency_id": (ID,), "owner_id": (ID,), "name": (STR_OPT,)},
    "agency.profile_updated": {
        "agency_id": (ID,),
        "has_logo": (BOOL,),
        "has_overview": (BOOL,),
        "has_services": (BOOL,),
        "completeness": (INT_OPT, 0, 100),
    },
    "agency.member_joined": {"agency_id": (ID,), "freelancer_id": (ID,)},
    "agency.member_left": {"agency_id": (ID,), "freelancer_id": (ID,)},
    "client.flagged": {"client_id": (ID,), "reason": (TEXT,)},
    "contract.started": {
        "contract_id": (ID,),
        "freelancer_id": (ID,),
        "client_id": (ID,),
        "kind": (ENUM, "hourly", "fixed"),
        "category": (TEXT,),
        "agency_id": (ID_OPT,),
        "budget": (MONEY_OPT,),
    },
    "payment.made": {"contract_id": (ID,), "amount": (MONEY,), "refund": (BOOL_FALSE,)},
    "contract.ended": {"contract_id": (ID,), "reason": (ENUM, "completed", "cancelled", "no_work_delivered")},
    "feedback.given": {"contract_id": (ID,), "public_score": (SCORE_OPT,), "private_score": (INT_OPT, 0, 10)},
    "dispute.opened": {"contract_id": (ID,), "dispute_id": (ID,)},
    "dispute.resolved": {"dispute_id": (ID,), "outcome": (ENUM, "freelancer_won", "freelancer_lost", "settled")},
    "account.hold_placed": {**_PARTY_FIELDS, "hold_id": (ID,), "reason": (TEXT,)},
    "account.hold_lifted": {"hold_id": (ID,)},
    "account.tos_violation": {**_PARTY_FIELDS, "kind": (ENUM, "off_platform_payment", "other")},
    "badge.granted": {**_PARTY_FIELDS, "badge": (ENUM, *_BADGES), "by": (TEXT,), "reason": (STR_OPT,)},
    "badge.revoked": {**_PARTY_FIELDS, "badge": (ENUM, *_BADGES), "by": (TEXT,), "reason": (TEXT,)},
    "feedback.removal_requested": {
        "contract_id": (ID,),
        "scope": (ENUM, "jss_only", "jss_and_profile"),
        "by": (TEXT,),
    },
}

_SQL_TYPE = {
    ID: "VARCHAR",
    ID_OPT: "VARCHAR",
    TEXT: "VARCHAR",
    STR_OPT: "VARCHAR",
    ENUM: "VARCHAR",
    BOOL: "BOOLEAN",
    BOOL_FALSE: "BOOLEAN",
    INT: "INTEGER",
    INT_OPT: "INTEGER",
    SCORE_OPT: "DOUBLE",
    MONEY: "DECIMAL(18,2)",
    MONEY_OPT: "DECIMAL(18,2)",
    DAY_OPT: "DATE",
    STRLIST_OPT: "VARCHAR",  # as the typed table keeps it: json.dumps of the list
}

#: every data field of any type -> its SQL type (as the typed tables hold it)
FIELDS: dict[str, str] = {}
for _fields in _SPEC.values():
    for _name, (_kind, *_) in _fields.items():
        FIELDS.setdefault(_name, _SQL_TYPE[_kind])
        assert FIELDS[_name] == _SQL_TYPE[_kind], _name

_KEY_FIELDS = ("freelancer_id", "agency_id", "owner_id", "contract_id", "dispute_id", "hold_id")
_ENVELOPE = ("id", "type", "time", "source", "specversion", "data")
_TYPES = list(_SPEC)
#: years 1100–9899 (the UTC instant and its ISO text stay in four-digit years), hours < 24, no leap second
_TIME_RE = (
    "(1[1-9]|[2-8][0-9]|9[0-8])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    "(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?"
)
_STRLIST_RE = '\\[("[ !#-\\[\\]-~]*"(,"[ !#-\\[\\]-~]*")*)?\\]'
_REQUIRED = {ID, TEXT, ENUM, BOOL, INT, MONEY}


def _q(name: str) -> str:
    return f'"{name}"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(_lit(v) for v in values) + ")"


def _tc(types: Sequence[str]) -> str:
    """`tc IN (…)` for event types (tc: the type's 1-based position in `_TYPES`)."""
    return "tc IN (" + ", ".join(str(_TYPES.index(t) + 1) for t in types) + ")"


#: data field -> its bit in the masks of present / non-null fields
_BIT = {name: 1 << i for i, name in enumerate(FIELDS)}


def _mask(names: Sequence[str]) -> int:
    return sum(_BIT[n] for n in names)


def _check(kind: str, args: Sequence[Any], r: str) -> tuple[str, str, str]:
    """(check of a non-null JSON text `r`, typed value, canonical JSON text) for one kind of field.

    With no backslash in the input, a string's text is its quoted value unchanged, which is also its
    canonical JSON text; numbers and literals are as DuckDB writes them back (yyjson).
    """
    string = f"starts_with({r}, '\"')"
    unquoted = f"{r}[2:-2]"
    if kind in (ID, ID_OPT, TEXT):
        return f"({string} AND length({r}) > 2)", unquoted, r
    if kind == STR_OPT:
        return string, unquoted, r
    if kind == ENUM:
        return f"({r} IN {_in([json.dumps(a) for a in args])})", unquoted, r
    if kind in (BOOL, BOOL_FALSE):
        return f"({r} IN ('true', 'false'))", f"({r} = 'true')", r
    if kind in (INT, INT_OPT):
        lo, hi = args
        integer = f"regexp_full_match({r}, '-?[0-9]{{1,18}}')"
        value = f"(CASE WHEN {integer} THEN TRY_CAST({r} AS BIGINT) END)"
        return f"({value} BETWEEN {lo} AND {hi})", f"CAST({value} AS INTEGER)", f"CAST({value} AS VARCHAR)"
    if kind == SCORE_OPT:
        number = f"regexp_full_match({r}, '-?[0-9]+([.][0-9]+)?([eE][+-]?[0-9]+)?')"
        value = f"(CASE WHEN {number} THEN TRY_CAST({r} AS DOUBLE) END)"
        # DuckDB prints a double as Python's repr does (shortest round trip) in this range
        return f"({value} BETWEEN 1 AND 5)", value, f"CAST({value} AS VARCHAR)"
    if kind in (MONEY, MONEY_OPT):
        text = f"regexp_full_match({r}, '\"[0-9]{{1,14}}([.][0-9]{{1,2}})?\"')"
        whole = f"regexp_full_match({r}, '[1-9][0-9]{{0,13}}')"
        value = (
            f"(CASE WHEN {text} THEN TRY_CAST({unquoted} AS DECIMAL(18,2)) "
            f"WHEN {whole} THEN TRY_CAST({r} AS DECIMAL(18,2)) END)"
        )
        return f"({value} > 0)", value, f"('\"' || CAST({value} AS VARCHAR) || '\"')"
    if kind == DAY_OPT:
        text = f"regexp_full_match({r}, '\"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}\"')"
        value = f"(CASE WHEN {text} AND NOT starts_with({r}, '\"0000') THEN TRY_CAST({unquoted} AS DATE) END)"
        return f"({value} IS NOT NULL)", value, r
    if kind == STRLIST_OPT:
        return f"regexp_full_match({r}, {_lit(_STRLIST_RE)})", f"replace({r}, '\",\"', '\", \"')", r
    raise AssertionError(kind)


def _field_exprs(name: str) -> tuple[str, str, str]:
    """(valid, typed value, canonical JSON text or NULL) of data field `name` in a row of type `tc`.

    Valid: absent, or JSON null where the model takes None, or a value of the type's kind for it.
    Kinds that differ between types (`reason`, `kind`) are chosen by `tc`.
    """
    r = f"r_{name}"
    nonnull = f"({r} IS NOT NULL AND {r} <> 'null')"
    kinds: dict[tuple[Any, ...], list[str]] = {}
    for t, fields in _SPEC.items():
        if name in fields:
            kind, *args = fields[name]
            kinds.setdefault((kind, *args), []).append(t)
    if len(kinds) == 1:
        ((kind, *args),) = kinds
        check, value, canonical = _check(kind, args, r)
    else:
        parts = [(_tc(types), _check(kind, args, r)) for (kind, *args), types in kinds.items()]
        check = "(CASE " + " ".join(f"WHEN {c} THEN {ch}" for c, (ch, _, _) in parts) + " ELSE false END)"
        value = parts[0][1][1]  # the same text for every kind of these fields (strings)
        canonical = parts[0][1][2]
        assert all(p[1][1:] == (value, canonical) for p in parts), name
    if any(k[0] == BOOL_FALSE for k in kinds):  # a default, not Optional: null is an error
        return f"({r} IS NULL OR {check})", f"coalesce({r} = 'true', false)", f"coalesce({r}, 'false')"
    valid = f"(NOT {nonnull} OR {check})"
    return valid, f"(CASE WHEN {nonnull} THEN {value} END)", f"(CASE WHEN {nonnull} THEN {canonical} END)"


def _checked_sql(env: str) -> str:
    """Every row of `env` (pos, line, id, type, time, source, specversion, env_ok, dk, r_<field>…) checked.

    Out: pos, line, ok, id, type, ts, source, specversion, data (canonical JSON), the typed values.
    """
    exprs = {name: _field_exprs(name) for name in FIELDS}
    present = " + ".join(f"(CASE WHEN r_{n} IS NOT NULL THEN {_BIT[n]} ELSE 0 END)" for n in FIELDS)
    nonnull = " + ".join(f"(CASE WHEN r_{n} IS NOT NULL AND r_{n} <> 'null' THEN {_BIT[n]} ELSE 0 END)" for n in FIELDS)
    allowed = "[" + ", ".join(str(_mask(list(f))) for f in _SPEC.values()) + "][tc]"
    required = "[" + ", ".join(str(_mask([n for n, k in f.items() if k[0] in _REQUIRED])) for f in _SPEC.values())
    required += "][tc]"
    one_party = [t for t, f in _SPEC.items() if f.get("freelancer_id") == (ID_OPT,)]
    fl, ag = _BIT["freelancer_id"], _BIT["agency_id"]
    pub, priv = _BIT["public_score"], _BIT["private_score"]
    rules = [
        "len(dk) = bit_count(pm)",
        f"pm & ~{allowed} = 0",
        f"nm & {required} = {required}",
        f"(NOT {_tc(one_party)} OR ((nm & {fl}) = 0) <> ((nm & {ag}) = 0))",
        f"(NOT {_tc(['feedback.given'])} OR nm & {pub + priv} <> 0)",
        f"(NOT {_tc(['badge.granted', 'badge.revoked'])} OR r_badge <> '\"expert_vetted\"' OR nm & {fl} <> 0)",
        *(valid for valid, _, _ in exprs.values()),
    ]
    ok = "coalesce(ok0 AND " + " AND ".join(rules) + ", false)"
    cases = []
    for t in _TYPES:
        parts = []
        for name in DATA_MODELS[t].model_fields:  # canonical order: the model's
            canonical = exprs[name][2]
            parts.append(f"('\"{name}\":' || {canonical})")
        cases.append(f"WHEN {_TYPES.index(t) + 1} THEN '{{' || concat_ws(',', {', '.join(parts)}) || '}}'")
    data = f"CASE WHEN {ok} THEN (CASE tc {' '.join(cases)} END) END"
    values = ", ".join(f"{exprs[name][1]} AS {_q(name)}" for name in _KEY_FIELDS)
    oh, om = (f"TRY_CAST(substr(time, {a}, 2) AS INTEGER)" for a in (21, 24))
    sign = "(CASE WHEN substr(time, 20, 1) = '-' THEN -1 ELSE 1 END)"
    offset = f"(CASE WHEN length(time) = 25 THEN {sign} * ({oh} * 3600 + {om} * 60) ELSE 0 END)"
    ts = f"TRY_CAST(time AS TIMESTAMP) - to_seconds({offset})"
    ok0 = (
        f"coalesce(tc IS NOT NULL AND env_ok AND regexp_full_match(time, {_lit(_TIME_RE)})"
        " AND regexp_matches(id, '[0-9A-Za-z]') AND NOT contains(id, chr(0))"
        " AND NOT contains(coalesce(source, ''), chr(0)) AND NOT contains(coalesce(specversion, ''), chr(0)), false)"
    )
    typed = (
        f"SELECT *, list_position({'[' + ', '.join(_lit(t) for t in _TYPES) + ']'}, type) AS tc, "
        f"{present} AS pm, {nonnull} AS nm FROM ({env})"
    )
    timed = f"SELECT *, CASE WHEN ok0 THEN {ts} END AS ts FROM (SELECT *, {ok0} AS ok0 FROM ({typed}))"
    return f"SELECT pos, line, {ok} AS ok, id, type, ts, source, specversion, {data} AS data, {values} FROM ({timed})"


def _paths(prefix: str, names: Sequence[str]) -> str:
    return "[" + ", ".join(_lit(f"{prefix}{n}") for n in names) + "]"


def _fields_of(x: str, first: int) -> str:
    return ", ".join(f"{x}[{first + i}] AS r_{name}" for i, name in enumerate(FIELDS))


def _jsonl_env(src: str) -> str:
    """pos, line, the envelope, env_ok, data keys `dk` and data JSON texts `r_<field>` of lines `src` (j)."""
    paths = _paths("$.", _ENVELOPE[:-1])[:-1] + ", " + _paths("$.data.", list(FIELDS))[1:]

    def text(i: int) -> str:
        return f"(CASE WHEN starts_with(x[{i}], '\"') THEN x[{i}][2:-2] END)"

    present = " + ".join(f"(CASE WHEN x[{i}] IS NOT NULL THEN 1 ELSE 0 END)" for i in range(1, 6))
    optional = " AND ".join(f"(x[{i}] IS NULL OR x[{i}] = 'null' OR starts_with(x[{i}], '\"'))" for i in (4, 5))
    env_ok = f"coalesce(list_contains(k[1], 'data') AND len(k[1]) = 1 + {present} AND {optional}, false)"
    guard = "NOT contains(j, '\\') AND json_valid(j) AND NOT regexp_matches(j, ',\\s*[\\]}]')"
    parsed = (
        f"SELECT pos, line, json_keys(j, ['$', '$.data']) AS k, CAST(json_extract(j, {paths}) AS VARCHAR[]) AS x "
        f"FROM (SELECT pos, line, CASE WHEN {guard} THEN j END AS j FROM ({src}))"
    )
    return (
        f"SELECT pos, line, {text(1)} AS id, {text(2)} AS type, {text(3)} AS time, {text(4)} AS source, "
        f"{text(5)} AS specversion, {env_ok} AS env_ok, k[2] AS dk, {_fields_of('x', 6)} FROM ({parsed})"
    )


def _parquet_env(src: str) -> str:
    """pos, line, the envelope, env_ok, data keys `dk` and data JSON texts `r_<field>` of Parquet rows `src`."""
    guard = "NOT contains(data, '\\') AND json_valid(data) AND NOT regexp_matches(data, ',\\s*[\\]}]')"
    inner = f"SELECT pos, line, id, type, time, source, specversion, CASE WHEN {guard} THEN data END AS d FROM ({src})"
    fields = _paths("$.", list(FIELDS))
    parsed = f"SELECT *, json_keys(d) AS dk, CAST(json_extract(d, {fields}) AS VARCHAR[]) AS x FROM ({inner})"
    return (
        f"SELECT pos, line, id, type, time, source, specversion, d IS NOT NULL AS env_ok, dk, {_fields_of('x', 1)} "
        f"FROM ({parsed})"
    )


# --- the template lane: the exact shapes the simulator (and any compact, model-ordered writer) produces ---
#
# A regular expression that matches the whole text proves everything `_checked_sql` checks (but the
# calendar validity of dates, checked after): JSON without whitespace or escapes, values in canonical
# form, each field once. In model field order such data is its own canonical JSON (but for
# payment.made's default `"refund":false`); in another order it is rebuilt field by field. Rows no
# template matches take the general lane.

_STR = '"[^"\\\\\\x00-\\x1f]*"'
_NONEMPTY = '"[^"\\\\\\x00-\\x1f]+"'
_ENVELOPE_ID = '"[^"\\\\\\x00-\\x1f]*[0-9A-Za-z][^"\\\\\\x00-\\x1f]*"'
_MONEY_RE = '"([1-9][0-9]{0,13}[.][0-9]{2}|0[.](0[1-9]|[1-9][0-9]))"'
_VALUE_RE = {
    ID: _NONEMPTY,
    ID_OPT: _NONEMPTY,
    TEXT: _NONEMPTY,
    STR_OPT: _STR,
    BOOL: "(true|false)",
    BOOL_FALSE: "(true|false)",
    SCORE_OPT: "([1-4][.][0-9]|5[.]0)",  # one decimal: its own repr
    MONEY: _MONEY_RE,
    MONEY_OPT: _MONEY_RE,
    DAY_OPT: '"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"',
    STRLIST_OPT: '\\[("[ !#-\\[\\]-~]*"(,"[ !#-\\[\\]-~]*")*)?\\]',
}
_INT_RE = {(0, 100): "(100|[1-9]?[0-9])", (0, 168): "(16[0-8]|1[0-5][0-9]|[1-9]?[0-9])", (0, 10): "(10|[0-9])"}
#: types whose simulated data comes in another order than the model's: that order too
_OTHER_ORDER = {"account.hold_placed": ["hold_id", "freelancer_id", "agency_id", "reason"]}


def _value_re(spec: tuple[Any, ...]) -> str:
    kind, *args = spec
    if kind == ENUM:
        return '"(' + "|".join(a.replace(".", "[.]") for a in args) + ')"'
    if kind in (INT, INT_OPT):
        return _INT_RE[tuple(args)]
    return _VALUE_RE[kind]


def _template(event_type: str, names: list[str]) -> str:
    """The data objects of `event_type` with fields in the order `names` (no nulls) as a regex."""
    spec = _SPEC[event_type]

    def member(name: str) -> str:
        return f'"{name}":{_value_re(spec[name])}'

    def optional(name: str) -> bool:
        return spec[name][0].endswith("?") or spec[name][0] == BOOL_FALSE

    parts = []  # (regex, optional) in order; a party pair becomes one required part
    for name in names:
        if name == "agency_id" and spec.get("freelancer_id") == (ID_OPT,):
            continue
        if name == "badge" and event_type.startswith("badge."):
            continue
        if name == "freelancer_id" and spec.get("freelancer_id") == (ID_OPT,):  # exactly one party
            if event_type.startswith("badge."):  # expert_vetted is for freelancers only
                freelancer, agency = member("freelancer_id"), member("agency_id")
                party = f'({freelancer},"badge":"(expert_vetted|rising_talent)"|{agency},"badge":"rising_talent")'
            else:
                party = f"({member('freelancer_id')}|{member('agency_id')})"
            parts.append((party, False))
        elif event_type == "feedback.given" and name in ("public_score", "private_score"):
            if name == "public_score":  # at least one score
                public, private = member("public_score"), member("private_score")
                parts.append((f"({public}(,{private})?|{private})", False))
        else:
            parts.append((member(name), optional(name)))
    body = ""
    for i, (regex, opt) in enumerate(parts):
        sep = "," if i else ""
        body += f"({sep}{regex})?" if opt else f"{sep}{regex}"
    return "\\{" + body + "\\}"


def _templates(event_type: str) -> list[str]:
    model = list(DATA_MODELS[event_type].model_fields)
    out = [_template(event_type, model)]
    if event_type in _OTHER_ORDER:
        out.append(_template(event_type, _OTHER_ORDER[event_type]))
    return out


def _matches(type_: str, text: str, lines: bool = False) -> str:
    """SQL: does `text` (the data, or with `lines` the whole JSON line) match a template of its `type_`."""
    time = '"' + _TIME_RE + '"'
    head = f'\\{{"id":{_ENVELOPE_ID},"type":"{{}}","time":{time}(,"source":{_STR})?(,"specversion":{_STR})?,"data":'
    whens = []
    for t in _TYPES:
        regexes = _templates(t)
        if lines:
            regexes = [head.replace("{}", t.replace(".", "[.]")) + r + "\\}\\r?\\n?" for r in regexes]
        test = " OR ".join(f"regexp_full_match({text}, {_lit(r)})" for r in regexes)
        whens.append(f"WHEN {_lit(t)} THEN {test}")
    return f"coalesce(CASE {type_} {' '.join(whens)} ELSE false END, false)"


def _canonical(d: str) -> str:
    """The canonical JSON of template-lane data `d` of type `type`."""
    whens = []
    for t, order in _OTHER_ORDER.items():
        model = list(DATA_MODELS[t].model_fields)
        if order != model:
            parts = ", ".join(f"('\"{n}\":' || json_extract({d}, '$.{n}'))" for n in model)
            whens.append(f"WHEN type = {_lit(t)} THEN '{{' || concat_ws(',', {parts}) || '}}'")
    refund = f"WHEN type = 'payment.made' AND NOT contains({d}, '\"refund\":') THEN {d}[1:-2] || ',\"refund\":false}}'"
    return f"CASE {refund} {' '.join(whens)} ELSE {d} END"


def _ts(time: str) -> str:
    """The UTC instant of a `time` text that matches `_TIME_RE`, as a naive TIMESTAMP."""
    oh, om = (f"TRY_CAST(substr({time}, {a}, 2) AS INTEGER)" for a in (21, 24))
    sign = f"(CASE WHEN substr({time}, 20, 1) = '-' THEN -1 ELSE 1 END)"
    offset = f"(CASE WHEN length({time}) = 25 THEN {sign} * ({oh} * 3600 + {om} * 60) ELSE 0 END)"
    return f"(TRY_CAST({time} AS TIMESTAMP) - to_seconds({offset}))"


def _template_select(src: str) -> str:
    """Stage rows of the template lane from `src` (pos, line, id, type, time, source, specversion, d)."""
    keys = _paths("$.", _KEY_FIELDS)
    return_on = (
        "(type <> 'freelancer.availability_updated' OR NOT contains(d, '\"return_on\":') "
        "OR TRY_CAST(json_extract_string(d, '$.return_on') AS DATE) IS NOT NULL)"
    )
    cols = ", ".join(f"k[{i}] AS {_q(f)}" for i, f in enumerate(_KEY_FIELDS, 1))
    return (
        f"SELECT pos, line, coalesce(ts IS NOT NULL AND {return_on}, false) AS ok, id, type, ts, source, specversion, "
        f"{_canonical('d')} AS data, {cols} "
        f"FROM (SELECT *, {_ts('time')} AS ts, json_extract_string(d, {keys}) AS k FROM ({src}))"
    )


def _jsonl_sql(chunk: str) -> str:
    """Stage every candidate line of `chunk` (pos, line, cand, j): template lane, else general lane."""
    # A template line is `{"id":…,"type":…,"time":…[,"source":…][,"specversion":…],"data":{…}}` whose strings
    # hold no quote: its type lies between the first `","type":"` and `","time":"`. Once matched, DuckDB's
    # JSON reader takes it apart (the data object written back compact is the same text).
    p_type, p_time = (f"strpos(j, {_lit(sep)})" for sep in ('","type":"', '","time":"'))
    type_ = f"substr(j, {p_type} + 10, {p_time} - {p_type} - 10)"
    src = f"SELECT pos, line, j, {_matches(type_, 'j', lines=True)} AS m FROM {chunk} WHERE cand"
    fields = (
        "SELECT pos, line, x[1] AS id, x[2] AS type, x[3] AS time, x[4] AS source, x[5] AS specversion, x[6] AS d "
        f"FROM (SELECT pos, line, json_extract_string(j, {_paths('$.', _ENVELOPE)}) AS x FROM src WHERE m)"
    )
    return (
        f"INSERT INTO {_STAGE} WITH src AS MATERIALIZED ({src}) {_template_select(fields)} "
        f"UNION ALL {_checked_sql(_jsonl_env('SELECT pos, line, j FROM src WHERE NOT m'))}"
    )


def _parquet_sql(path: str, first: int, columns: set[str]) -> str:
    """Stage every row of a Parquet file: template lane, else general lane (empty cells are absent)."""

    def col(name: str) -> str:
        return f"NULLIF({_q(name)}, '')" if name in columns else "NULL::VARCHAR"

    envelope = (
        f"regexp_matches(id, '[0-9A-Za-z]') AND NOT contains(id, chr(0)) AND regexp_full_match(time, {_lit(_TIME_RE)})"
        " AND NOT contains(coalesce(source, ''), chr(0)) AND NOT contains(coalesce(specversion, ''), chr(0))"
    )
    rows = (
        f"SELECT file_row_number + {first} AS pos, file_row_number + 1 AS line, {col('id')} AS id, "
        f"{col('type')} AS type, {col('time')} AS time, {col('source')} AS source, "
        f"{col('specversion')} AS specversion, data FROM read_parquet({_lit(path)}, file_row_number = true)"
    )
    src = f"SELECT *, coalesce({envelope}, false) AND {_matches('type', 'data')} AS m FROM ({rows})"
    template = "SELECT pos, line, id, type, time, source, specversion, data AS d FROM src WHERE m"
    general = "SELECT pos, line, id, type, time, source, specversion, data FROM src WHERE NOT m"
    return (
        f"INSERT INTO {_STAGE} WITH src AS MATERIALIZED ({src}) {_template_select(template)} "
        f"UNION ALL {_checked_sql(_parquet_env(general))}"
    )


# --- staging ---------------------------------------------------------------------------------------


@dataclass
class _Staged:
    """What staging found: file names by first position, the slow records, the number of records."""

    files: list[str] = field(default_factory=list)
    firsts: list[int] = field(default_factory=list)
    slow: list[tuple[int, Record]] = field(default_factory=list)
    records: int = 0

    def file_of(self, pos: int) -> str:
        return self.files[int(np.searchsorted(self.firsts, pos, side="right")) - 1]


class _Stager:
    def __init__(self, duck: Any, progress: Callable[[int], None] | None) -> None:
        self.duck = duck
        self.progress = progress
        self.out = _Staged()
        keys = ", ".join(f"{_q(n)} VARCHAR" for n in _KEY_FIELDS)
        duck.execute(
            f"CREATE TEMP TABLE {_STAGE} (pos BIGINT, line BIGINT, ok BOOLEAN, id VARCHAR, type VARCHAR, "
            f"ts TIMESTAMP, source VARCHAR, specversion VARCHAR, data VARCHAR, {keys})"
        )

    def _advance(self, n: int) -> None:
        if self.progress is not None and n:
            self.progress(n)

    def add(self, path: Path) -> None:
        fmt = file_format(path)
        if not path.is_file():
            raise UserError(f"{path}: no such file")  # as read_records says it
        name = str(path)
        self.out.files.append(name)
        self.out.firsts.append(self.out.records)
        if fmt == "jsonl" and path.suffix.lower() != ".gz":
            self._jsonl(path, name)
        elif fmt == "parquet" and (columns := _parquet_columns(path)) is not None:
            self._parquet(path, name, columns)
        else:
            self._records(read_records(path))

    def _records(self, records: Iterator[Record]) -> None:
        pending = 0
        for record in records:
            self.out.slow.append((self.out.records, record))
            self.out.records += 1
            pending += 1
            if pending == 10_000:
                self._advance(pending)
                pending = 0
        self._advance(pending)

    def _not_ok(self, lo: int, hi: int) -> list[tuple[int, int]]:
        sql = f"SELECT pos, line FROM {_STAGE} WHERE NOT ok AND pos BETWEEN {lo} AND {hi} ORDER BY pos"
        return self.duck.execute(sql).fetchall()

    def _parquet(self, path: Path, name: str, columns: set[str]) -> None:
        first = self.out.records
        rows = pq.ParquetFile(path).metadata.num_rows
        try:
            self.duck.execute(_parquet_sql(str(path), first, columns))
        except duckdb.Error:  # e.g. text that is not UTF-8: the reader and validate() will say
            self.duck.execute(f"DELETE FROM {_STAGE} WHERE pos >= {first}")
            self._records(read_records(path))
            return
        slow = self._not_ok(first, first + rows - 1)
        if slow:
            pf = pq.ParquetFile(path)
            bounds = np.cumsum([0] + [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)])
            wanted = np.array([line - 1 for _, line in slow], dtype=np.int64)
            groups = np.searchsorted(bounds, wanted, side="right") - 1
            taken: list[dict[str, Any]] = []
            for g in np.unique(groups):
                local = wanted[groups == g] - bounds[g]
                taken += pf.read_row_group(int(g)).take(pa.array(local)).to_pylist()
            for (pos, line), row in zip(slow, taken, strict=True):
                self.out.slow.append((pos, row_record(name, line, row)))
        self.out.records += rows
        self._advance(rows)

    def _jsonl(self, path: Path, name: str) -> None:
        """Stage a JSON Lines file chunk by chunk; the next chunk is read and split while DuckDB works."""
        blocks = _blocks(path)
        with ThreadPoolExecutor(1) as pool:
            ahead = pool.submit(_Lines.next, blocks, name, 0, self.out.records)
            while (lines := ahead.result()) is not None:
                ahead = pool.submit(_Lines.next, blocks, name, lines.line_base + lines.n, lines.first_pos + lines.count)
                self._stage_lines(lines)

    def _stage_lines(self, lines: _Lines) -> None:
        view = f"{_PFX}_chunk"
        self.duck.register(view, lines.table)
        try:
            self.duck.execute(_jsonl_sql(view))
            slow = self._not_ok(lines.first_pos, lines.first_pos + lines.n)
        except duckdb.Error:  # unreadable for DuckDB as a whole: every line through Python
            self.duck.execute(f"DELETE FROM {_STAGE} WHERE pos >= {lines.first_pos}")
            slow = [(int(lines.pos[i]), lines.line_base + int(i) + 1) for i in np.flatnonzero(lines.cand)]
        finally:
            self.duck.unregister(view)
        for pos, number in slow:
            record = jsonl_record(lines.name, number, lines.text_of(number - lines.line_base - 1))
            assert record is not None
            self.out.slow.append((pos, record))
        for i, record in lines.by_python.items():
            self.out.slow.append((int(lines.pos[i]), record))
        self.out.records += lines.count
        self._advance(lines.count)


def _blocks(path: Path) -> Iterator[tuple[memoryview, bool]]:
    """The file in blocks of whole lines (about CHUNK_BYTES each), and whether a block is the last."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        while fh.tell() < size:
            block = fh.read(CHUNK_BYTES)
            while (cut := block.rfind(b"\n") + 1) == 0 and (more := fh.read(CHUNK_BYTES)):
                block += more  # a line longer than a chunk
            final = fh.tell() >= size
            if final:
                cut = len(block)  # the last line may have no newline
            else:
                fh.seek(cut - len(block), 1)  # the partial line is read again with the next block
            yield memoryview(block)[:cut], final


@dataclass
class _Lines:
    """A block of JSON lines split for DuckDB: the candidate lines as Arrow, the others read by Python."""

    name: str
    buf: memoryview
    line_base: int  # number of the line before the block's first
    first_pos: int  # position of the block's first record
    n: int  # lines
    count: int  # records (lines that are not blank)
    starts: np.ndarray
    ends: np.ndarray
    cand: np.ndarray  # lines DuckDB reads
    pos: np.ndarray  # position of each line's record
    by_python: dict[int, Record]  # line index -> record of the lines Python reads
    table: pa.Table

    def text_of(self, i: int) -> bytes:
        """Line `i` of the block with its newline, as `read_records` reads it."""
        return bytes(self.buf[self.starts[i] : self.ends[i] + 1])

    @classmethod
    def next(
        cls, blocks: Iterator[tuple[memoryview, bool]], name: str, line_base: int, first_pos: int
    ) -> _Lines | None:
        block = next(blocks, None)
        return None if block is None else cls.split(name, *block, line_base, first_pos)

    @classmethod
    def split(cls, name: str, buf: memoryview, final: bool, line_base: int, first_pos: int) -> _Lines:
        arr = np.frombuffer(buf, np.uint8)
        high = bool(len(arr)) and int(arr.max()) >= 0x80  # some bytes are not ASCII
        ends = np.flatnonzero(arr == 10)
        if final and (len(ends) == 0 or ends[-1] != len(buf) - 1):
            ends = np.append(ends, len(buf))
        n = len(ends)
        starts = np.empty(n, np.int64)
        starts[:1] = 0
        starts[1:] = ends[:-1] + 1
        lengths = ends - starts
        first = np.zeros(n, np.uint8)
        nonempty = lengths > 0
        first[nonempty] = arr[starts[nonempty]]
        cand = first == ord("{")
        record = cand.copy()
        lines = cls(name, buf, line_base, first_pos, n, 0, starts, ends, cand, np.empty(0), {}, pa.table({}))
        if high:  # lines that may not be UTF-8 are read by Python
            for i in np.unique(np.searchsorted(starts, np.flatnonzero(arr >= 0x80), side="right") - 1):
                if cand[i]:
                    try:
                        lines.text_of(i).decode()
                    except UnicodeDecodeError:
                        cand[i] = False
        for i in np.flatnonzero(nonempty & ~cand):
            rec = jsonl_record(name, line_base + int(i) + 1, lines.text_of(i))
            if rec is not None:
                record[i] = True
                lines.by_python[int(i)] = rec
        text: Any = buf
        if high and not cand.all():  # keep Arrow's text valid: blank what Python reads
            copy = bytearray(buf)
            for i in np.flatnonzero(~cand):
                copy[starts[i] : ends[i]] = b" " * int(lengths[i])
            text = bytes(copy)
        lines.pos = first_pos + np.cumsum(record) - 1
        lines.count = int(record.sum())
        offsets = np.append(starts, len(buf)).astype(np.int32)
        strings = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text)])
        numbers = np.arange(line_base + 1, line_base + n + 1)
        lines.table = pa.table({"pos": lines.pos, "line": numbers, "cand": cand, "j": strings})
        return lines


def _parquet_columns(path: Path) -> set[str] | None:
    """The envelope columns of a Parquet file when all are plain strings, else None (read row by row)."""
    try:
        names = pq.read_schema(path)
    except Exception:
        return None
    if len(set(names.names)) != len(names.names):
        return None
    columns = {n for n in names.names if n in _ENVELOPE}
    if not {"id", "type", "time", "data"} <= columns:
        return None
    if any(names.field(n).type not in (pa.string(), pa.large_string()) for n in columns):
        return None
    return columns


# --- planning ------------------------------------------------------------------------------------

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
_DIGEST = "sha256(s.type || chr(10) || strftime(s.ts, '%Y-%m-%dT%H:%M:%S') || '+00:00' || chr(10) || s.data)"


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
            f"CREATE TEMP TABLE {_t('sdup')} AS SELECT s.pos, s.line, s.id, k.digest = {_DIGEST} AS same "
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

    def known_for(self, items: list[Item]) -> dict[str, list[tuple[str, str]]]:
        """Store and S definitions of the keys K's items name: knowledge relation -> (key, event_id)."""
        keys = {it.event.id for it in items}
        for it in items:
            data = it.event.data
            keys.update(v for f in _KEY_FIELDS if (v := getattr(data, f, None)) is not None)
        self.duck.register(_t("kk"), pa.table({"k": pa.array(sorted(keys), pa.string())}))
        out: dict[str, list[tuple[str, str]]] = {}
        out["k_events"] = self.sql(f"SELECT id, digest FROM {self.k}k_events SEMI JOIN {_t('kk')} ON id = k")
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
            "digest": _DIGEST,
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


def _known(rows: dict[str, list[tuple[str, str]]]) -> Known:
    known = Known()
    known.digests.update(rows["k_events"])
    for ns, rels in _KNOWN_NS.items():
        for rel in rels:
            known.firsts[ns].update(rows[rel])
    known.freelancers.update(k for k, _ in rows["k_fl"])
    known.agencies.update(k for k, _ in rows["k_ag"])
    return known


# --- the whole import ------------------------------------------------------------------------------


def import_files(store: Store, paths: Sequence[str | Path], progress: Callable[[int], None] | None) -> ImportReport:
    """Import the event files `paths` into `store` in one transaction (see the module docstring)."""
    if store.dialect == "duckdb":
        with store.engine.connect() as conn:
            duck = conn.connection.driver_connection
            planner = _Planner(duck, f"temp.{_PFX}_")
            try:
                staged = _stage(duck, paths, progress)
                items, rejected = validate_pairs(staged.slow)
                _knowledge_views(duck)
                with conn.begin():
                    return _plan_and_write(store, conn, planner, staged, items, rejected)
            finally:
                planner.drop()
    duck = duckdb.connect(config=duckdb_config())
    try:
        planner = _Planner(duck, f"temp.{_PFX}_")
        staged = _stage(duck, paths, progress)
        items, rejected = validate_pairs(staged.slow)
        with store.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_IMPORT_LOCK})
            load_knowledge(conn, duck, f"{_PFX}_", KNOWLEDGE, _batch_keys(duck, items))
            return _plan_and_write(store, conn, planner, staged, items, rejected)
    finally:
        duck.close()


def _stage(duck: Any, paths: Sequence[str | Path], progress: Callable[[int], None] | None) -> _Staged:
    stager = _Stager(duck, progress)
    for path in paths:
        stager.add(Path(path))
    stager.out.slow.sort(key=lambda pair: pair[0])
    return stager.out


def _knowledge_views(duck: Any) -> None:
    duck.execute(f"CREATE TEMP VIEW {_PFX}_k_events AS SELECT id, digest FROM main.events")
    for rel, (table, key) in KNOWLEDGE.items():
        duck.execute(f"CREATE TEMP VIEW {_PFX}_{rel} AS SELECT {_q(key)} AS key, event_id FROM main.{_q(table)}")


def _batch_keys(duck: Any, items: list[Item]) -> pa.Table:
    """Every id and entity key of the batch (staged ok rows and the slow valid items), for PostgreSQL."""
    cols = ", ".join(_q(f) for f in _KEY_FIELDS)
    staged = duck.sql(
        f"SELECT DISTINCT k FROM (SELECT unnest([id, {cols}]) AS k FROM {_STAGE} WHERE ok) WHERE k IS NOT NULL"
    ).to_arrow_table()
    extra = {it.event.id for it in items}
    for it in items:
        extra.update(v for f in _KEY_FIELDS if (v := getattr(it.event.data, f, None)) is not None)
    extra_table = pa.table({"k": pa.array(sorted(extra), pa.string())})
    return pa.concat_tables([staged.cast(extra_table.schema), extra_table])


def _plan_and_write(
    store: Store,
    conn: sa.Connection,
    planner: _Planner,
    staged: _Staged,
    slow_items: list[Item],
    rejected: list[tuple[int, Rejection]],
) -> ImportReport:
    report = ImportReport()
    stored_positions, report.duplicates, conflicts = planner.store_duplicates()
    for pos, line, event_id in conflicts:
        reason = "conflict: an event with this id and different content is already stored"
        rejected.append((pos, Rejection(staged.file_of(pos), line, event_id, reason)))
    moved = planner.split(slow_items)
    items = slow_items + [_item_of(staged, row) for row in moved]
    items.sort(key=lambda it: it.pos)
    accepted: list[Item] = []
    if items:
        plan = plan_import(items, _known(planner.known_for(items)))
        accepted = plan.accepted
        report.duplicates += plan.duplicates
        rejected += [(it.pos, Rejection(it.file, it.line, it.event.id, why)) for it, why in plan.rejected]
    # seq: arrival order over everything accepted, as the per-event path numbers it
    taken = np.array([it.pos for it in accepted], dtype=np.int64)
    slow_positions = np.array([pos for pos, _ in staged.slow] + [row[0] for row in moved], dtype=np.int64)
    nonaccepted = np.setdiff1d(np.concatenate([slow_positions, stored_positions]), taken)  # sorted
    base = next_seq(conn)
    now = datetime.now(UTC).replace(tzinfo=None)
    simple = planner.simple_count()
    if simple:
        join = planner.shift(nonaccepted)
        for table, select in planner.selects(base, now, join):
            _write_select(store, conn, planner.duck, table, select)
    if accepted:
        seqs = base + taken - np.searchsorted(nonaccepted, taken)
        write_items(conn, accepted, [int(s) for s in seqs], now)
    report.accepted = simple + len(accepted)
    (staged_ok,) = planner.sql(f"SELECT count(*) FROM {_STAGE} WHERE ok")[0]
    LAST_STATS.clear()
    LAST_STATS.update(records=staged.records, ok=int(staged_ok), slow=len(staged.slow), exact=len(moved), simple=simple)
    rejected.sort(key=lambda pair: pair[0])
    report.rejected = [r for _, r in rejected]
    return report


def _item_of(staged: _Staged, row: tuple[Any, ...]) -> Item:
    event = _event_of(row)
    return Item(row[0], staged.file_of(row[0]), row[1], event, content_digest(event))


def _write_select(store: Store, conn: sa.Connection, duck: Any, table: sa.Table, select: str) -> None:
    names = ", ".join(_q(c.name) for c in table.columns)
    if store.dialect == "duckdb":
        duck.execute(f"INSERT INTO main.{_q(table.name)} ({names}) {select}")
        return
    copy_batches(conn, table, duck.sql(select).to_arrow_reader(500_000))
