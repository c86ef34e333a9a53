"""Feedback-removal requests, decided one after another in event order (programme.md §7, §10).

Each request is decided with the state as of its UTC day R. A granted removal changes the deciding
entity's JSS from R on, which can change the next request's decision, so requests are decided in
order; each decision evaluates only the deciding entity (and, for an agency, its owner and members).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from toprated.evaluation.engine import Removal
from toprated.metrics.calendar import months_before
from toprated.metrics.compiled import fetch
from toprated.metrics.sources import Sources, contracts_of, one_of
from toprated.programme import Programme

Pairs = set[tuple[str, date]]


class StatusAt(Protocol):
    """What a decision needs to know of the asking entities on their days, given granted removals."""

    def top_rated(
        self, src: Sources, removals: list[Removal], pairs: Pairs
    ) -> dict[tuple[str, date], tuple[bool, Any]]:
        """{(entity, day): (holds Top Rated, JSS)}"""

    def jss(self, src: Sources, removals: list[Removal], pairs: Pairs) -> dict[tuple[str, date], Any]:
        """{(entity, day): JSS}: the same JSS as `top_rated` gives, computed alone (cheaper)."""


@dataclass(frozen=True)
class Decision:
    event_id: str
    day: date
    contract_id: str
    entity_id: str  # the deciding entity: the agency for an agency contract, else the freelancer
    entity_kind: str
    scope: str
    granted: bool
    reason: str

    def as_json(self) -> dict[str, object]:
        return {
            "event_id": self.event_id,
            "granted": self.granted,
            "reason": self.reason,
            "contract_id": self.contract_id,
            "requested_on": self.day.isoformat(),
            "scope": self.scope,
        }


@dataclass(frozen=True)
class _Request:
    event_id: str
    ts: datetime
    day: date
    contract_id: str
    scope: str
    actor: str
    freelancer_id: str
    agency_id: str | None
    owner_id: str | None
    end_day: date | None


@dataclass(frozen=True)
class Earlier:
    """What an earlier run decided: it stands for every request dated up to `until` (the caller
    checks that no request of that period arrived since), and its grants shape the later decisions."""

    until: date
    granted: list[Decision]


def undecided_event_ids(src: Sources, up_to: date, decided: set[str]) -> list[str]:
    """The ids of the requests `decide_removals` decides up to `up_to` (those on a known contract:
    `_requests` joins each to its contract) that are not in `decided`.

    The requests are few next to the contracts: only those not decided are looked up among them
    (joining every request to the contracts hashed all of them: 0.4 s at a million freelancers)."""
    r = src.removal_requests
    rows = fetch(r.filter(r.day <= up_to).select("event_id", "contract_id")).to_pylist()
    missing = [row for row in rows if row["event_id"] not in decided]
    if not missing:
        return []
    c = src.contracts
    wanted = one_of(sorted({row["contract_id"] for row in missing}))
    known = set(fetch(c.filter(c.contract_id.isin(wanted)).select("contract_id"))["contract_id"].to_pylist())
    return [row["event_id"] for row in missing if row["contract_id"] in known]


def _requests(src: Sources, up_to: date, after: date | None = None) -> list[_Request]:
    r = src.removal_requests.filter(src.removal_requests.day <= up_to)
    if after is not None:
        r = r.filter(r.day > after)
    # most entities asked about (an explanation) and most weeks ask for nothing: a look costs a
    # fraction of the joins below (some 12 ms for an explanation, of DuckDB's cost per operator)
    if fetch(r.select("event_id").limit(1)).num_rows == 0:
        return []
    c = src.contracts.select("contract_id", "freelancer_id", "agency_id")
    e = src.contract_ends.select("contract_id", end_day="day")
    a = src.agencies.select("agency_id", "owner_id")
    j = r.join(c, "contract_id").left_join(e, "contract_id").drop("contract_id_right")
    j = j.left_join(a, "agency_id").drop("agency_id_right")
    cols = [
        "event_id",
        "ts",
        "day",
        "contract_id",
        "scope",
        "actor",
        "freelancer_id",
        "agency_id",
        "owner_id",
        "end_day",
    ]
    return [_Request(**row) for row in fetch(j.select(*cols).order_by(["ts", "event_id"])).to_pylist()]


def _ended_days(src: Sources, entity_ids: set[str]) -> dict[str, list[date]]:
    """Days on which each entity's contracts ended (any reason), for the spacing rule."""
    if not entity_ids:
        return {}
    ids = one_of(sorted(entity_ids))  # thousands at a first run
    c, e = contracts_of(src, ids), src.contract_ends  # their contracts first: a few of millions
    # both tables have a `day`: the one wanted is the end's, not the start's
    j = c.join(e, c.contract_id == e.contract_id).select(c.freelancer_id, c.agency_id, ended=e.day)
    out: dict[str, list[date]] = defaultdict(list)
    for row in fetch(j).to_pylist():
        for key in (row["freelancer_id"], row["agency_id"]):
            if key in entity_ids:
                out[key].append(row["ended"])
    return out


def _precheck(
    r: _Request,
    entity: str,
    removed: set[tuple[str, str]],
    last: dict[str, date],
    ended: dict[str, list[date]],
    p: Programme,
) -> str | None:
    """The checks that need no evaluation; the reason to refuse, or None."""
    fr = p.feedback_removal
    asker = r.owner_id if r.agency_id else r.freelancer_id
    if r.actor != asker:
        who = f"the agency's owner {asker}" if r.agency_id else f"the contract's freelancer {r.freelancer_id}"
        return f"requested by {r.actor}, not {who}"
    if r.end_day is None or r.end_day > r.day:
        return f"contract {r.contract_id} had not ended on {r.day}"
    if (entity, r.contract_id) in removed:
        return f"contract {r.contract_id} is already removed"
    prev = last.get(entity)
    if prev is not None:
        if prev > months_before(r.day, fr.min_months_between):
            return f"previous removal granted on {prev}; the next needs {fr.min_months_between} months"
        n = sum(1 for d in ended.get(entity, []) if prev < d <= r.day)
        if n < fr.min_completed_contracts_between:
            return (
                f"{n} contracts ended since the previous removal on {prev}; {fr.min_completed_contracts_between} needed"
            )
    return None


def decide_removals(
    src: Sources,
    p: Programme,
    up_to: date,
    status_at: StatusAt,
    earlier: Earlier | None = None,
) -> list[Decision]:
    """Decide every request dated on or before `up_to`, as if one after another in (time, id) order.

    Requests are decided in rounds so that one evaluation serves many of them. Each round evaluates
    every undecided request as if nothing more were granted, then walks them in order; a request is
    decided in the round unless an earlier request still pending in it could change its entity's
    status (one of the same entity, or for an agency, one of its owner, whose JSS the agency's Top
    Rated reads). Only a grant makes later requests wait for the next round.

    With `earlier` (a weekly run's stored decisions: a decision depends only on the state on its
    own day, so it stays valid), only the requests dated after `earlier.until` are decided and
    returned, after its grants.
    """
    requests = _requests(src, up_to, earlier.until if earlier else None)
    granted: list[Removal] = []
    removed: set[tuple[str, str]] = set()  # (entity, contract) of `granted`, to look up
    last_granted: dict[str, date] = {}
    decided: dict[str, Decision] = {}
    for d in sorted(earlier.granted if earlier else [], key=lambda d: d.day):
        granted.append((d.entity_id, d.contract_id, d.day))
        removed.add((d.entity_id, d.contract_id))
        last_granted[d.entity_id] = d.day

    def entity_of(r: _Request) -> str:
        return r.agency_id or r.freelancer_id

    # the spacing rule's contract counts, for the entities with something left to decide
    ended = _ended_days(src, {entity_of(r) for r in requests if r.event_id not in decided})

    def decide(r: _Request, ok: bool, reason: str) -> None:
        kind = "agency" if r.agency_id else "freelancer"
        decided[r.event_id] = Decision(r.event_id, r.day, r.contract_id, entity_of(r), kind, r.scope, ok, reason)

    while len(decided) < len(requests):
        undecided = [r for r in requests if r.event_id not in decided]
        # Speculatively, the state every undecided request sees if nothing more is granted before it,
        # evaluated only for the requests that pass the checks needing no evaluation (the grants,
        # and so those checks, do not change before the walk below ends).
        asking = [r for r in undecided if _precheck(r, entity_of(r), removed, last_granted, ended, p) is None]
        with_ = status_at.top_rated(src, granted, {(entity_of(r), r.day) for r in asking}) if asking else {}
        dirty: set[str] = set()  # entities whose state a decision still pending in this round may change
        pending: list[_Request] = []
        for r in undecided:
            e = entity_of(r)
            if e in dirty or (r.agency_id and r.owner_id in dirty):
                dirty.add(e)
                continue
            reason = _precheck(r, e, removed, last_granted, ended, p)
            if reason is None and not with_.get((e, r.day), (False, None))[0]:
                reason = f"{e} did not hold Top Rated on {r.day}"
            if reason is not None:
                decide(r, False, reason)
                continue
            pending.append(r)
            dirty.add(e)
        if not pending:
            continue
        trial = [*granted, *((entity_of(r), r.contract_id, r.day) for r in pending)]
        # only the JSS: whether the entity held Top Rated was settled with `with_`
        without = status_at.jss(src, trial, {(entity_of(r), r.day) for r in pending})
        for r in pending:
            e = entity_of(r)
            jss_with = with_[(e, r.day)][1]
            jss_without = without.get((e, r.day))
            if jss_without is None:
                decide(r, False, "without this contract there would be no JSS; it stays counted")
            elif jss_with is not None and jss_without < jss_with:
                decide(r, False, f"removing it would lower the JSS from {jss_with} to {jss_without}; it stays counted")
            else:
                granted.append((e, r.contract_id, r.day))
                removed.add((e, r.contract_id))
                last_granted[e] = r.day
                decide(r, True, f"granted: JSS {jss_with} → {jss_without} from {r.day}")
    return [decided[r.event_id] for r in requests]
