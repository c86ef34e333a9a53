"""Feedback-removal requests, decided one after another in event order (programme.md §7, §10).

Each request is decided with the state as of its UTC day R. A granted removal changes the deciding
entity's JSS from R on, which can change the next request's decision, so requests are decided in
order; each decision evaluates only the deciding entity (and, for an agency, its owner and members).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from toprated.metrics.calendar import months_before
from toprated.metrics.sources import Sources, restrict
from toprated.programme import Programme

#: (sources restricted to the entity, removals so far, day) -> (holds Top Rated, JSS)
StatusAt = Callable[[Sources, list[tuple[str, str, date]], date, str], tuple[bool, int | None]]


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


def _requests(src: Sources, up_to: date) -> list[_Request]:
    r = src.removal_requests.filter(src.removal_requests.day <= up_to)
    c = src.contracts.select("contract_id", "freelancer_id", "agency_id")
    e = src.contract_ends.select("contract_id", end_day="day")
    a = src.agencies.select("agency_id", "owner_id")
    j = r.join(c, "contract_id").left_join(e, "contract_id").drop("contract_id_right")
    j = j.left_join(a, "agency_id").drop("agency_id_right")
    cols = ["event_id", "ts", "day", "contract_id", "scope", "actor", "freelancer_id", "agency_id", "owner_id", "end_day"]
    rows = j.select(*cols).order_by(["ts", "event_id"]).to_pyarrow().to_pylist()
    return [_Request(**row) for row in rows]


def _ended_days(src: Sources, entity_ids: set[str]) -> dict[str, list[date]]:
    """Days on which each entity's contracts ended (any reason), for the spacing rule."""
    if not entity_ids:
        return {}
    ids = sorted(entity_ids)
    c, e = src.contracts, src.contract_ends
    j = c.join(e, "contract_id")
    j = j.filter(j.freelancer_id.isin(ids) | j.agency_id.isin(ids))
    out: dict[str, list[date]] = defaultdict(list)
    for row in j.select("freelancer_id", "agency_id", "day").to_pyarrow().to_pylist():
        for key in (row["freelancer_id"], row["agency_id"]):
            if key in entity_ids:
                out[key].append(row["day"])
    return out


def decide_removals(
    src: Sources,
    p: Programme,
    up_to: date,
    status_at: StatusAt,
    closure: Callable[[list[str]], list[str]],
) -> list[Decision]:
    """Decide every request dated on or before `up_to`, in (time, id) order."""
    requests = _requests(src, up_to)
    deciding = {r.agency_id or r.freelancer_id for r in requests}
    ended = _ended_days(src, deciding)
    fr = p.feedback_removal
    granted: list[tuple[str, str, date]] = []
    last_granted: dict[str, date] = {}
    out: list[Decision] = []
    for r in requests:
        entity = r.agency_id or r.freelancer_id
        kind = "agency" if r.agency_id else "freelancer"

        def decide(ok: bool, reason: str, r: _Request = r, entity: str = entity, kind: str = kind) -> None:
            out.append(Decision(r.event_id, r.day, r.contract_id, entity, kind, r.scope, ok, reason))

        asker = r.owner_id if r.agency_id else r.freelancer_id
        if r.actor != asker:
            who = f"the agency's owner {asker}" if r.agency_id else f"the contract's freelancer {r.freelancer_id}"
            decide(False, f"requested by {r.actor}, not {who}")
            continue
        if r.end_day is None or r.end_day > r.day:
            decide(False, f"contract {r.contract_id} had not ended on {r.day}")
            continue
        if any(g[0] == entity and g[1] == r.contract_id for g in granted):
            decide(False, f"contract {r.contract_id} is already removed")
            continue
        prev = last_granted.get(entity)
        if prev is not None:
            earliest = months_before(r.day, fr.min_months_between)
            if prev > earliest:
                decide(False, f"previous removal granted on {prev}; the next needs {fr.min_months_between} months")
                continue
            n = sum(1 for d in ended.get(entity, []) if prev < d <= r.day)
            if n < fr.min_completed_contracts_between:
                decide(
                    False,
                    f"{n} contracts ended since the previous removal on {prev}; "
                    f"{fr.min_completed_contracts_between} needed",
                )
                continue
        scope = restrict(src, closure([entity]))
        top_rated, jss_with = status_at(scope, granted, r.day, entity)
        if not top_rated:
            decide(False, f"{entity} did not hold Top Rated on {r.day}")
            continue
        _, jss_without = status_at(scope, [*granted, (entity, r.contract_id, r.day)], r.day, entity)
        if jss_without is None:
            decide(False, "without this contract there would be no JSS; it stays counted")
            continue
        if jss_with is not None and jss_without < jss_with:
            decide(False, f"removing it would lower the JSS from {jss_with} to {jss_without}; it stays counted")
            continue
        granted.append((entity, r.contract_id, r.day))
        last_granted[entity] = r.day
        decide(True, f"granted: JSS {jss_with} → {jss_without} from {r.day}")
    return out

