"""An events.md contract checker for the simulator tests (uniquely named: imported by bare name).

It is deliberately independent of `toprated.events` (written in parallel): it restates events.md's
table as plain Python so the simulator is tested against the contract itself.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

AS_OF = date(2026, 3, 31)

#: type -> (required fields, optional fields); "a|b" means exactly one of a and b.
CONTRACT: dict[str, tuple[set[str], set[str]]] = {
    "freelancer.joined": ({"freelancer_id"}, {"name", "migrated_from"}),
    "freelancer.profile_updated": ({"freelancer_id", "completeness", "has_photo"}, {"missing"}),
    "freelancer.availability_updated": ({"freelancer_id", "available"}, {"hours_per_week", "return_on"}),
    "freelancer.activity": ({"freelancer_id", "kind"}, set()),
    "freelancer.readiness_test_passed": ({"freelancer_id"}, set()),
    "agency.created": ({"agency_id", "owner_id"}, {"name"}),
    "agency.profile_updated": ({"agency_id", "has_logo", "has_overview", "has_services"}, {"completeness"}),
    "agency.member_joined": ({"agency_id", "freelancer_id"}, set()),
    "agency.member_left": ({"agency_id", "freelancer_id"}, set()),
    "client.flagged": ({"client_id", "reason"}, set()),
    "contract.started": ({"contract_id", "freelancer_id", "client_id", "kind", "category"}, {"agency_id", "budget"}),
    "payment.made": ({"contract_id", "amount"}, {"refund"}),
    "contract.ended": ({"contract_id", "reason"}, set()),
    "feedback.given": ({"contract_id"}, {"public_score", "private_score"}),
    "dispute.opened": ({"contract_id", "dispute_id"}, set()),
    "dispute.resolved": ({"dispute_id", "outcome"}, set()),
    "account.hold_placed": ({"hold_id", "freelancer_id|agency_id", "reason"}, set()),
    "account.hold_lifted": ({"hold_id"}, set()),
    "account.tos_violation": ({"freelancer_id|agency_id", "kind"}, set()),
    "badge.granted": ({"freelancer_id|agency_id", "badge", "by"}, {"reason"}),
    "badge.revoked": ({"freelancer_id|agency_id", "badge", "by", "reason"}, set()),
    "feedback.removal_requested": ({"contract_id", "scope", "by"}, set()),
}
ENUMS = {
    ("freelancer.activity", "kind"): {"proposal", "invitation_accepted", "message", "login"},
    ("contract.started", "kind"): {"hourly", "fixed"},
    ("contract.ended", "reason"): {"completed", "cancelled", "no_work_delivered"},
    ("dispute.resolved", "outcome"): {"freelancer_won", "freelancer_lost", "settled"},
    ("account.tos_violation", "kind"): {"off_platform_payment", "other"},
    ("badge.granted", "badge"): {"expert_vetted", "rising_talent"},
    ("badge.revoked", "badge"): {"expert_vetted", "rising_talent"},
    ("feedback.removal_requested", "scope"): {"jss_only", "jss_and_profile"},
}
#: Which event defines each kind of reference, and the entity-defining types (once per id).
DEFINES = {
    "freelancer.joined": "freelancer_id",
    "agency.created": "agency_id",
    "contract.started": "contract_id",
    "dispute.opened": "dispute_id",
    "account.hold_placed": "hold_id",
}
ONCE = {"contract.ended": "contract_id", "dispute.resolved": "dispute_id", "account.hold_lifted": "hold_id"}
MONEY = re.compile(r"^\d+\.\d{2}$")


def parse_time(text: str) -> datetime:
    """ISO 8601 date or date-time, as an aware UTC datetime."""
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.tzinfo is not None, text
    return value.astimezone(UTC)


def _fields_problems(ev: dict[str, Any]) -> list[str]:
    required, optional = CONTRACT[ev["type"]]
    data, out = ev["data"], []
    allowed = set(optional)
    for name in required:
        options = name.split("|")
        present = [o for o in options if o in data]
        allowed.update(options)
        if len(present) != 1:
            out.append(f"{ev['id']}: needs exactly one of {options}")
    out += [f"{ev['id']}: unknown field {k}" for k in data if k not in allowed]
    for (etype, key), values in ENUMS.items():
        if ev["type"] == etype and data.get(key) not in values:
            out.append(f"{ev['id']}: bad {key} {data.get(key)!r}")
    for key in ("amount", "budget"):
        if key in data and not (isinstance(data[key], str) and MONEY.match(data[key]) and float(data[key]) > 0):
            out.append(f"{ev['id']}: bad money {key}={data[key]!r}")
    if ev["type"] == "feedback.given":
        pub, priv = data.get("public_score"), data.get("private_score")
        if pub is None and priv is None:
            out.append(f"{ev['id']}: feedback without score")
        if pub is not None and not 1.0 <= pub <= 5.0:
            out.append(f"{ev['id']}: public_score {pub}")
        if priv is not None and not (isinstance(priv, int) and 0 <= priv <= 10):
            out.append(f"{ev['id']}: private_score {priv}")
    if ev["type"] == "freelancer.profile_updated" and not (
        isinstance(data["completeness"], int)
        and 0 <= data["completeness"] <= 100
        and isinstance(data["has_photo"], bool)
    ):
        out.append(f"{ev['id']}: bad profile")
    if "return_on" in data:
        date.fromisoformat(data["return_on"])
    return out


def contract_problems(events: list[dict[str, Any]]) -> list[str]:
    """Every way `events` (in file order) breaks events.md or the simulator's ordering promises."""
    out: list[str] = []
    ids = Counter(ev["id"] for ev in events)
    out += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    defined: dict[str, datetime] = {}  # entity id -> instant of its defining event
    once: set[tuple[str, str]] = set()
    contract_last: dict[str, tuple[datetime, str]] = {}  # contract id -> latest (time, type) seen
    clients: dict[str, datetime] = {}
    for ev in sorted(events, key=lambda e: (parse_time(e["time"]), e["id"])):
        if set(ev) - {"id", "type", "time", "source", "specversion", "data"} or ev["type"] not in CONTRACT:
            out.append(f"{ev['id']}: bad envelope or type {ev['type']}")
            continue
        out += _fields_problems(ev)
        t, data = parse_time(ev["time"]), ev["data"]
        key = DEFINES.get(ev["type"])
        if key:
            if data[key] in defined:
                out.append(f"{ev['id']}: {key} {data[key]} defined twice")
            defined[data[key]] = t
        if ev["type"] in ONCE:
            k = (ev["type"], data[ONCE[ev["type"]]])
            if k in once:
                out.append(f"{ev['id']}: second {k}")
            once.add(k)
        refs = [(k, v) for k, v in data.items() if k.endswith("_id") and k != key and k != "client_id"]
        refs += [("owner_id", data["owner_id"])] if "owner_id" in data else []
        if ev["type"] in ONCE:
            refs.append((ONCE[ev["type"]], data[ONCE[ev["type"]]]))
        for name, ref in refs:
            if ref not in defined or defined[ref] > t:
                out.append(f"{ev['id']}: {name} {ref} not defined before")
        if ev["type"] == "contract.started":
            clients.setdefault(data["client_id"], t)
            if defined.get(data["freelancer_id"], t) >= t:
                out.append(f"{ev['id']}: contract starts before its freelancer joined")
        if ev["type"] == "client.flagged" and data["client_id"] not in clients:
            out.append(f"{ev['id']}: flagged client {data['client_id']} has no contract yet")
        cid = data.get("contract_id")
        if (cid and ev["type"] in ("contract.started", "contract.ended", "feedback.given")) or (
            ev["type"] == "payment.made" and not data.get("refund")
        ):
            prev = contract_last.get(cid)
            if prev and prev[0] >= t and ev["type"] != "contract.started":
                out.append(f"{ev['id']}: {ev['type']} not after {prev[1]} of {cid}")
            if ev["type"] == "payment.made" and prev and prev[1] in ("contract.ended", "feedback.given"):
                out.append(f"{ev['id']}: payment after the end of {cid}")
            contract_last[cid] = (t, ev["type"])
    return out


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Events of a JSON Lines file."""
    with path.open() as fh:
        return [json.loads(line) for line in fh]
