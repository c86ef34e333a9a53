"""The template lane of staging: one regular expression per event type proves a row's shape at once.

The templates (`_templates`), matched against the whole JSON line or against Parquet's `data`, prove
the shape: compact JSON, fields in model order (or the simulator's, for account.hold_placed), no
escapes or control characters in strings, each value in the canonical form pydantic writes (money
`123.45`, scores `4.5`, integers in range, enums, exactly one party, a score, expert_vetted for
freelancers only), a valid envelope (an id with a letter or digit, `time` as
`YYYY-MM-DD[THH:MM:SS(Z|±HH:MM)]`, years 1100–9899). The data is then its own canonical JSON
(payment.made gets its default `"refund":false`); only calendar validity (February 30th) is checked
after. This is every event the simulator writes; the rest takes the general lane (checks.py).
"""

from __future__ import annotations

from typing import Any

from toprated.events import DATA_MODELS
from toprated.store.fast.spec import (
    _KEY_FIELDS,
    _SPEC,
    _TIME_RE,
    _TYPES,
    BOOL,
    BOOL_FALSE,
    DAY_OPT,
    ENUM,
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
    _lit,
    _paths,
    _q,
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
