"""The general lane of staging: rows no template matches, checked field by field in SQL.

For the rows the template lane (templates.py) does not take: no backslash anywhere (so no escapes:
decoded strings are their own JSON text, no lone surrogate or NUL), valid JSON for DuckDB and no
trailing comma (the one laxity of its parser that could reach a kept value; NaN/Infinity can only sit
in a field whose type check fails), only the envelope keys, each once, of the right JSON types, and
data keys that are fields of the model (`_SPEC`, which a test keeps in step with models.py), each
once, every value of the JSON type the strict model takes and in range; the canonical JSON is
rebuilt. `ok` is a *sufficient* condition for `validate()` to accept the event with exactly those
values; a row that fails is read again by Python (a *slow* record, see staging.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from toprated.events import DATA_MODELS
from toprated.store.fast.spec import (
    _BIT,
    _ENVELOPE,
    _KEY_FIELDS,
    _REQUIRED,
    _SPEC,
    _STRLIST_RE,
    _TIME_RE,
    _TYPES,
    BOOL,
    BOOL_FALSE,
    DAY_OPT,
    ENUM,
    FIELDS,
    ID,
    ID_OPT,
    INT,
    INT_OPT,
    MONEY,
    MONEY_OPT,
    SCORE_OPT,
    STR_OPT,
    STRLIST_OPT,
    TEXT,
    _in,
    _lit,
    _mask,
    _paths,
    _q,
    _tc,
)


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
