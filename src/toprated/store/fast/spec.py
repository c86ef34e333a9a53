"""What the fast import's vectorised checks accept, per event type, and the SQL-text helpers its modules share.

`_SPEC` mirrors models.py field by field (kind, bounds, enum values; tests/store check they agree);
`FIELDS` is every data field with its SQL type, `_BIT`/`_mask` give each field a bit in the masks of
present and non-null fields. The checks (checks.py), the templates (templates.py), staging, planning
and writing all build their SQL from these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def _paths(prefix: str, names: Sequence[str]) -> str:
    return "[" + ", ".join(_lit(f"{prefix}{n}") for n in names) + "]"
