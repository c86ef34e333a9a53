"""Which events of an import batch are stored, which are duplicates, which are rejected and why.

Pure Python over sets loaded once per import: no database round trip per event. The rules:

- spec/events.md `id`: an id already accepted (in the store or earlier in the batch) is a
  duplicate when the content is the same, else rejected as a conflict;
- programme.md section 10 "Event order": entity-defining events happen once per entity id; a
  second one is rejected naming the first. The first is the stored one, else the earliest of the
  batch by (UTC time, id) — never arrival order, so the typed tables do not depend on it;
  freelancer and agency ids share one namespace;
- events.md: an event referring to an entity defined neither in the store nor anywhere in the
  batch is rejected naming the missing reference. Entities are checked in dependency order
  (freelancers and agencies, then contracts, then ends/disputes/holds, then resolutions/lifts), so
  an entity whose defining event is rejected counts as undefined for the events that follow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from toprated.events import DATA_MODELS, Event

__all__ = ["DEFINING", "KEYS_OF", "KEY_FIELDS", "Item", "Known", "Plan", "plan_import"]

#: entity-defining type -> (once-namespace, key field)
DEFINING: dict[str, tuple[str, str]] = {
    "freelancer.joined": ("party", "freelancer_id"),
    "agency.created": ("party", "agency_id"),
    "contract.started": ("contract", "contract_id"),
    "contract.ended": ("contract_end", "contract_id"),
    "dispute.opened": ("dispute", "dispute_id"),
    "dispute.resolved": ("dispute_resolution", "dispute_id"),
    "account.hold_placed": ("hold", "hold_id"),
    "account.hold_lifted": ("hold_lift", "hold_id"),
}

_FREELANCER = (("freelancer_id", "freelancer"),)
_CONTRACT = (("contract_id", "contract"),)
_PARTY = (("freelancer_id", "freelancer"), ("agency_id", "agency"))

#: type -> the (field, entity) references it must resolve; a field that is absent (None) is skipped.
REFS: dict[str, tuple[tuple[str, str], ...]] = {
    "freelancer.joined": (),
    "client.flagged": (),
    "freelancer.profile_updated": _FREELANCER,
    "freelancer.availability_updated": _FREELANCER,
    "freelancer.activity": _FREELANCER,
    "freelancer.readiness_test_passed": _FREELANCER,
    "agency.created": (("owner_id", "freelancer"),),
    "agency.profile_updated": (("agency_id", "agency"),),
    "agency.member_joined": (("agency_id", "agency"), ("freelancer_id", "freelancer")),
    "agency.member_left": (("agency_id", "agency"), ("freelancer_id", "freelancer")),
    "contract.started": _PARTY,
    "payment.made": _CONTRACT,
    "contract.ended": _CONTRACT,
    "feedback.given": _CONTRACT,
    "feedback.removal_requested": _CONTRACT,
    "dispute.opened": _CONTRACT,
    "dispute.resolved": (("dispute_id", "dispute"),),
    "account.hold_placed": _PARTY,
    "account.hold_lifted": (("hold_id", "hold"),),
    "account.tos_violation": _PARTY,
    "badge.granted": _PARTY,
    "badge.revoked": _PARTY,
}

#: every data field holding an entity id: what to look up in the store before planning
KEY_FIELDS = ("freelancer_id", "agency_id", "owner_id", "contract_id", "dispute_id", "hold_id")

#: type -> its data fields among KEY_FIELDS (getattr of a missing field is slow on a pydantic model)
KEYS_OF: dict[str, tuple[str, ...]] = {
    kind: tuple(f for f in KEY_FIELDS if f in model.model_fields) for kind, model in DATA_MODELS.items()
}

_DEFINED_BY = {
    "freelancer": "freelancer.joined",
    "agency": "agency.created",
    "contract": "contract.started",
    "dispute": "dispute.opened",
    "hold": "account.hold_placed",
}

_NOUN = {
    "party": "freelancer/agency id",
    "contract": "contract",
    "contract_end": "contract",
    "dispute": "dispute",
    "dispute_resolution": "dispute",
    "hold": "hold",
    "hold_lift": "hold",
}

_STAGES = (
    ("contract.started",),
    ("contract.ended", "dispute.opened", "account.hold_placed"),
    ("dispute.resolved", "account.hold_lifted"),
)


@dataclass(slots=True)
class Item:
    """A valid event of the batch, where it came from (arrival position, file, line) and its content."""

    pos: int
    file: str | None
    line: int | None
    event: Event
    digest: str


@dataclass(slots=True)
class Known:
    """What the store already holds about the batch's ids: entity key -> id of its defining event."""

    digests: dict[str, str] = field(default_factory=dict)  # event id -> digest
    firsts: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))  # namespace -> key -> id
    freelancers: set[str] = field(default_factory=set)
    agencies: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Plan:
    """The outcome: items to store (arrival order), duplicates, and rejected items with the reason."""

    accepted: list[Item]
    duplicates: int
    rejected: list[tuple[Item, str]]


def _field(item: Item, name: str) -> Any:
    return getattr(item.event.data, name)


class _Planner:
    def __init__(self, known: Known) -> None:
        self.digests = known.digests
        self.firsts: dict[str, dict[str, str]] = defaultdict(dict, {k: dict(v) for k, v in known.firsts.items()})
        self.defined: dict[str, set[str]] = {
            "freelancer": set(known.freelancers),
            "agency": set(known.agencies),
            "contract": set(self.firsts["contract"]),
            "dispute": set(self.firsts["dispute"]),
            "hold": set(self.firsts["hold"]),
        }
        self.rejected: list[tuple[Item, str]] = []
        self.duplicates = 0

    def reject(self, item: Item, reason: str) -> None:
        self.rejected.append((item, reason))

    def unique(self, items: Iterable[Item]) -> list[Item]:
        """Drop duplicates, reject conflicts (events.md `id`); the rest in arrival order."""
        seen: dict[str, Item] = {}
        out = []
        for item in items:
            event_id = item.event.id
            stored = self.digests.get(event_id)
            if stored is not None:
                if stored == item.digest:
                    self.duplicates += 1
                else:
                    self.reject(item, "conflict: an event with this id and different content is already stored")
                continue
            prev = seen.get(event_id)
            if prev is None:
                seen[event_id] = item
                out.append(item)
            elif prev.digest == item.digest:
                self.duplicates += 1
            else:
                where = f"{prev.file}:{prev.line}" if prev.file else f"position {prev.pos + 1}"
                self.reject(item, f"conflict: id already used by a different event at {where}")
        return out

    def missing(self, item: Item) -> str | None:
        """Why a reference of the item does not resolve, or None when all do."""
        for name, entity in REFS[item.event.type]:
            key = _field(item, name)
            if key is None or key in self.defined[entity]:
                continue
            reason = f"unknown {entity} {key!r} (data.{name}): no {_DEFINED_BY[entity]} for it"
            if entity == "freelancer" and key in self.defined["agency"]:
                reason += f"; {key!r} is an agency"
            elif entity == "agency" and key in self.defined["freelancer"]:
                reason += f"; {key!r} is a freelancer"
            return reason
        return None

    def resolved(self, items: list[Item]) -> list[Item]:
        out = []
        for item in items:
            reason = self.missing(item)
            if reason is None:
                out.append(item)
            else:
                self.reject(item, reason)
        return out

    def once(self, items: list[Item]) -> list[Item]:
        """The first event per entity wins (programme.md section 10); the others name it."""
        groups: dict[tuple[str, str], list[Item]] = defaultdict(list)
        for item in items:
            namespace, name = DEFINING[item.event.type]
            groups[namespace, _field(item, name)].append(item)
        winners = []
        for (namespace, key), group in groups.items():
            first = self.firsts[namespace].get(key)
            if first is None:
                group.sort(key=lambda it: (it.event.time, it.event.id))
                winners.append(group[0])
                first = self.firsts[namespace][key] = group[0].event.id
                group = group[1:]
            for item in group:
                noun = _NOUN[namespace]
                self.reject(item, f"second {item.event.type} for {noun} {key!r}: the first is event {first}")
        return winners

    def parties(self, by_type: dict[str, list[Item]]) -> list[Item]:
        """freelancer.joined and agency.created: one namespace; an agency's owner is a freelancer."""
        joined = by_type.pop("freelancer.joined", [])
        stored = self.defined["freelancer"]
        # An owner may join in this batch: resolve owners against every freelancer.joined first...
        self.defined["freelancer"] = stored | {_field(it, "freelancer_id") for it in joined}
        created = self.resolved(by_type.pop("agency.created", []))
        winners = self.once(joined + created)
        freelancers = [it for it in winners if it.event.type == "freelancer.joined"]
        self.defined["freelancer"] = stored | {_field(it, "freelancer_id") for it in freelancers}
        # ...then again against those that won the namespace (an agency may have taken the id).
        created = [it for it in winners if it.event.type == "agency.created"]
        stored = self.defined["agency"]
        self.defined["agency"] = stored | {_field(it, "agency_id") for it in created}  # for the messages
        agencies = self.resolved(created)
        self.defined["agency"] = stored | {_field(it, "agency_id") for it in agencies}
        return freelancers + agencies


def plan_import(items: list[Item], known: Known) -> Plan:
    """Decide the fate of every valid item of a batch, given what the store already `known`s."""
    planner = _Planner(known)
    by_type: dict[str, list[Item]] = defaultdict(list)
    for item in planner.unique(items):
        by_type[item.event.type].append(item)
    accepted = planner.parties(by_type)
    for stage in _STAGES:
        winners = planner.once(planner.resolved([it for t in stage for it in by_type.pop(t, [])]))
        for item in winners:
            namespace, name = DEFINING[item.event.type]
            if namespace in planner.defined:
                planner.defined[namespace].add(_field(item, name))
        accepted += winners
    accepted += planner.resolved([it for group in by_type.values() for it in group])
    accepted.sort(key=lambda it: it.pos)
    return Plan(accepted, planner.duplicates, planner.rejected)
