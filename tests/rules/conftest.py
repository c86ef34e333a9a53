"""A small DSL to write marketplace histories in Python and evaluate them (spec/programme.md).

    m = Market()
    m.freelancer("f1", joined=ago(400))
    m.job("c1", "f1", client="k1", ended=ago(200))            # started, paid $400, ended, 5.0/10
    m.job("c2", "f1", client="k2", ended=ago(100), public=4.0, private=None)
    out = m.evaluate()                                        # as of AS_OF, {id: Entity}
    assert out["f1"].jss == 50

Days are written relative to the as-of day with `ago(n)` (n days before AS_OF) wherever the rule
under test is about a distance in days, so that the boundary is visible in the test. Event ids are
given in order of creation (`e00001`, …), so equal times are ordered as they were written unless a
test says otherwise (`event_id=`).

Every evaluation goes through the real store (DuckDB file in a temporary directory, events imported
as `Record`s) and the real service and report (`evaluate_store`, `document`), so what the tests see
is the output document of spec/output.md.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from toprated.evaluation.report import document
from toprated.evaluation.service import evaluate_store
from toprated.events import Record
from toprated.metrics.calendar import months_before
from toprated.programme import load_programme
from toprated.store import open_store

#: The default as-of day of the tests (the day of the acceptance scenario established_top_rated).
AS_OF = date(2026, 11, 23)

PROGRAMME = load_programme()


def day(x: str | date) -> date:
    return x if isinstance(x, date) else date.fromisoformat(x)


def ago(n: int, as_of: date = AS_OF) -> date:
    """The day `n` days before `as_of` (negative n: after it)."""
    return as_of - timedelta(days=n)


def later(n: int, as_of: date = AS_OF) -> date:
    """The day `n` days after `as_of`."""
    return as_of + timedelta(days=n)


def months_ago(n: int, as_of: date = AS_OF) -> date:
    """`n` calendar months before `as_of`, clamped (spec §10 "Months")."""
    return months_before(as_of, n)


def _time(t: str | date | datetime) -> str:
    if isinstance(t, datetime):
        return t.isoformat()
    if isinstance(t, date):
        return t.isoformat()
    return t


# Output ---------------------------------------------------------------------------------------------


class Entity:
    """One entity of the output document, with shortcuts for what tests look at."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def __repr__(self) -> str:
        return f"Entity({json.dumps(self.raw, indent=1)})"

    @property
    def id(self) -> str:
        return self.raw["id"]

    @property
    def jss(self) -> int | None:
        return self.raw["jss"]

    @property
    def badges(self) -> list[str]:
        return sorted(self.raw["badges"])

    @property
    def agency_badge(self) -> str | None:
        return self.raw.get("agency_badge")

    @property
    def decisions(self) -> dict[str, dict[str, Any]]:
        return {d["event_id"]: d for d in self.raw.get("decisions") or []}

    def window(self, months: int) -> int | None:
        """The score of one JSS window (`jss_windows`, an extra field of this engine's output)."""
        return (self.raw.get("jss_windows") or {}).get(f"{months}m")

    def programme(self, badge: str) -> dict[str, Any]:
        return self.raw["programmes"][badge]

    def held(self, badge: str) -> bool:
        return self.programme(badge)["held"]

    def qualifies_on(self, badge: str) -> date | None:
        q = self.programme(badge)["qualifies_on"]
        return None if q is None else date.fromisoformat(q)

    def criterion(self, badge: str, name: str) -> dict[str, Any]:
        crits = {c["name"]: c for c in self.programme(badge)["criteria"]}
        assert name in crits, f"{self.id}: {badge} has no criterion {name!r} (has {sorted(crits)})"
        return crits[name]

    def met(self, badge: str, name: str) -> bool:
        return self.criterion(badge, name)["met"]

    def value(self, badge: str, name: str) -> Any:
        return self.criterion(badge, name)["value"]

    def failing(self, badge: str) -> list[str]:
        return sorted(c["name"] for c in self.programme(badge)["criteria"] if not c["met"])


# The market -----------------------------------------------------------------------------------------


class Market:
    """Marketplace history as a list of events (spec/events.md), built one call per fact."""

    def __init__(self, as_of: date = AS_OF) -> None:
        self.as_of = as_of
        self.events: list[dict[str, Any]] = []
        self._n = 0
        self._dir: str | None = None
        self._store = None
        self._imported = 0
        self._disputes = 0
        self._holds = 0

    # plumbing
    def emit(self, type_: str, time: str | date | datetime, event_id: str | None = None, **data: Any) -> str:
        """Append one event; `None` fields are left out. Returns the event id."""
        self._n += 1
        eid = event_id or f"e{self._n:05d}"
        self.events.append(
            {"id": eid, "type": type_, "time": _time(time), "data": {k: v for k, v in data.items() if v is not None}}
        )
        return eid

    # freelancers
    def freelancer(
        self,
        fid: str,
        joined: str | date,
        profile: int | None = 100,
        photo: bool = True,
        available: bool | None = True,
        elance: bool = False,
    ) -> str:
        """A freelancer who joined on `joined` with, that day, a profile and an availability."""
        self.emit(
            "freelancer.joined", joined, freelancer_id=fid, name=fid.upper(), migrated_from="elance" if elance else None
        )
        if profile is not None:
            self.profile(fid, joined, profile, photo)
        if available is not None:
            self.availability(fid, joined, available)
        return fid

    def profile(self, fid: str, on: str | date, completeness: int, photo: bool = True) -> str:
        return self.emit(
            "freelancer.profile_updated", on, freelancer_id=fid, completeness=completeness, has_photo=photo
        )

    def availability(
        self, fid: str, on: str | date, available: bool, return_on: str | date | None = None, hours: int | None = None
    ) -> str:
        ret = None if return_on is None else _time(return_on)
        return self.emit(
            "freelancer.availability_updated",
            on,
            freelancer_id=fid,
            available=available,
            return_on=ret,
            hours_per_week=hours,
        )

    def activity(self, fid: str, on: str | date, kind: str = "proposal") -> str:
        return self.emit("freelancer.activity", on, freelancer_id=fid, kind=kind)

    def readiness(self, fid: str, on: str | date) -> str:
        return self.emit("freelancer.readiness_test_passed", on, freelancer_id=fid)

    # agencies
    def agency(
        self,
        aid: str,
        owner: str,
        created: str | date,
        logo: bool | None = True,
        overview: bool = True,
        services: bool = True,
    ) -> str:
        """An agency created on `created`, with (unless `logo is None`) its profile that day."""
        self.emit("agency.created", created, agency_id=aid, owner_id=owner, name=aid.upper())
        if logo is not None:
            self.agency_profile(aid, created, logo, overview, services)
        return aid

    def agency_profile(self, aid: str, on: str | date, logo: bool = True, overview: bool = True, services: bool = True):
        return self.emit(
            "agency.profile_updated", on, agency_id=aid, has_logo=logo, has_overview=overview, has_services=services
        )

    def member_joined(self, aid: str, fid: str, on: str | date) -> str:
        return self.emit("agency.member_joined", on, agency_id=aid, freelancer_id=fid)

    def member_left(self, aid: str, fid: str, on: str | date) -> str:
        return self.emit("agency.member_left", on, agency_id=aid, freelancer_id=fid)

    # clients
    def flag_client(self, client: str, on: str | date, reason: str = "poor collaboration") -> str:
        return self.emit("client.flagged", on, client_id=client, reason=reason)

    # contracts
    def contract(
        self,
        cid: str,
        fid: str,
        client: str,
        started: str | date,
        category: str = "writing",
        agency: str | None = None,
        kind: str = "fixed",
    ) -> str:
        return self.emit(
            "contract.started",
            started,
            contract_id=cid,
            freelancer_id=fid,
            client_id=client,
            kind=kind,
            category=category,
            agency_id=agency,
        )

    def pay(self, cid: str, on: str | date, amount: str = "400.00", refund: bool = False, **kw: Any) -> str:
        return self.emit("payment.made", on, contract_id=cid, amount=amount, refund=True if refund else None, **kw)

    def refund(self, cid: str, on: str | date, amount: str) -> str:
        return self.pay(cid, on, amount, refund=True)

    def end(self, cid: str, on: str | date, reason: str = "completed") -> str:
        return self.emit("contract.ended", on, contract_id=cid, reason=reason)

    def feedback(
        self, cid: str, on: str | date, public: float | None = None, private: int | None = None, **kw: Any
    ) -> str:
        return self.emit(
            "feedback.given",
            on,
            contract_id=cid,
            public_score=None if public is None else float(public),
            private_score=private,
            **kw,
        )

    def dispute(self, cid: str, on: str | date, dispute_id: str | None = None) -> str:
        self._disputes += 1
        did = dispute_id or f"d{self._disputes}"
        self.emit("dispute.opened", on, contract_id=cid, dispute_id=did)
        return did

    def resolve(self, dispute_id: str, on: str | date, outcome: str) -> str:
        return self.emit("dispute.resolved", on, dispute_id=dispute_id, outcome=outcome)

    def job(
        self,
        cid: str,
        fid: str,
        client: str,
        ended: str | date,
        amount: str | None = "400.00",
        public: float | None = 5.0,
        private: int | None = 10,
        days: int = 20,
        category: str = "writing",
        agency: str | None = None,
        reason: str = "completed",
    ) -> str:
        """A whole fixed-price job: started `days` before `ended`, paid `amount` and ended that day,
        with the client's feedback that day (none when `public` and `private` are both None)."""
        end_day = day(ended)
        self.contract(cid, fid, client, end_day - timedelta(days=days), category=category, agency=agency)
        if amount is not None:
            self.pay(cid, end_day, amount)
        self.end(cid, end_day, reason)
        if public is not None or private is not None:
            self.feedback(cid, end_day, public, private)
        return cid

    def work(
        self,
        cid: str,
        fid: str,
        client: str,
        payments: list[tuple[str | date, str]],
        started: str | date | None = None,
        category: str = "writing",
        agency: str | None = None,
    ) -> str:
        """A contract with these (day, amount) payments, not ended, without feedback; started
        `started` or 10 days before its first payment."""
        first = min(day(d) for d, _ in payments)
        self.contract(cid, fid, client, started or first - timedelta(days=10), category=category, agency=agency)
        for d, amount in payments:
            self.pay(cid, d, amount)
        return cid

    # standing
    def hold(
        self, on: str | date, freelancer: str | None = None, agency: str | None = None, hold_id: str | None = None
    ):
        self._holds += 1
        hid = hold_id or f"h{self._holds}"
        self.emit("account.hold_placed", on, hold_id=hid, freelancer_id=freelancer, agency_id=agency, reason="review")
        return hid

    def lift(self, hold_id: str, on: str | date) -> str:
        return self.emit("account.hold_lifted", on, hold_id=hold_id)

    def violation(
        self, on: str | date, freelancer: str | None = None, agency: str | None = None, kind: str = "other"
    ) -> str:
        return self.emit("account.tos_violation", on, freelancer_id=freelancer, agency_id=agency, kind=kind)

    # manual badges and requests
    def grant(self, badge: str, on: str | date, freelancer: str | None = None, agency: str | None = None) -> str:
        return self.emit("badge.granted", on, freelancer_id=freelancer, agency_id=agency, badge=badge, by="ops-1")

    def revoke(self, badge: str, on: str | date, freelancer: str | None = None, agency: str | None = None) -> str:
        return self.emit(
            "badge.revoked",
            on,
            freelancer_id=freelancer,
            agency_id=agency,
            badge=badge,
            by="ops-1",
            reason="operator decision",
        )

    def removal_request(self, cid: str, on: str | date, by: str, scope: str = "jss_only", **kw: Any) -> str:
        return self.emit("feedback.removal_requested", on, contract_id=cid, scope=scope, by=by, **kw)

    # evaluation
    def records(self, events: Iterable[dict[str, Any]] | None = None) -> list[Record]:
        evs = self.events if events is None else list(events)
        return [Record("<market>", i + 1, raw=e) for i, e in enumerate(evs)]

    def _open(self):
        if self._store is None:
            self._dir = tempfile.mkdtemp(prefix="toprated-rules-")
            self._store = open_store(str(Path(self._dir) / "t.duckdb"))
        new = self.events[self._imported :]
        if new:
            report = self._store.import_records(self.records(new))
            assert report.ok, "events rejected: " + "; ".join(str(r) for r in report.rejected)
            self._imported = len(self.events)
        return self._store

    def document(
        self, as_of: date | str | None = None, project: bool = False, entities: list[str] | None = None
    ) -> dict[str, Any]:
        """The output document (spec/output.md) as of `as_of` (default: the market's as-of day)."""
        store = self._open()
        when = day(as_of) if as_of is not None else self.as_of
        result = evaluate_store(store.ibis(), PROGRAMME, when, entity_ids=entities, project=project)
        return document(result, PROGRAMME)

    def evaluate(
        self, as_of: date | str | None = None, project: bool = False, entities: list[str] | None = None
    ) -> dict[str, Entity]:
        """{entity id: Entity} as of `as_of`; `project=True` computes `qualifies_on` (slower)."""
        doc = self.document(as_of, project, entities)
        return {e["id"]: Entity(e) for e in doc["entities"]}

    def write_jsonl(self, path: Path, events: Iterable[dict[str, Any]] | None = None) -> Path:
        evs = self.events if events is None else list(events)
        path.write_text("".join(json.dumps(e) + "\n" for e in evs))
        return path

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


class Histories:
    """The histories of one test module, written into one market and evaluated once.

    Evaluations cost 1–3 s each whatever the size of the market, so a module registers the small
    history each test is about (a function of the market, decorated with the module's `Histories`)
    next to that test, and the tests read the one evaluation through a module-scoped fixture.
    Entities of different histories never share ids or clients.
    """

    def __init__(self, as_of: date = AS_OF, project: bool = False) -> None:
        self.as_of = as_of
        self.project = project
        self.builders: list[Any] = []

    def __call__(self, fn: Any) -> Any:
        self.builders.append(fn)
        return fn

    def market(self) -> Market:
        m = Market(self.as_of)
        for build in self.builders:
            build(m)
        return m

    def evaluate(self) -> dict[str, Entity]:
        m = self.market()
        try:
            return m.evaluate(project=self.project)
        finally:
            m.close()


@pytest.fixture
def market():
    """A fresh market as of AS_OF, closed (and its store deleted) after the test."""
    m = Market()
    yield m
    m.close()


# Typical histories ----------------------------------------------------------------------------------


def established(
    m: Market,
    fid: str,
    as_of: date = AS_OF,
    profile: int | None = 100,
    photo: bool = True,
    available: bool | None = True,
    elance: bool = False,
    active: bool = True,
    contracts: int = 16,
    amount: str = "400.00",
) -> list[str]:
    """A typical established Top Rated freelancer, as in scenarios/established_top_rated.

    Joined 722 days before `as_of`; `contracts` fixed-price writing jobs of $400 with 5.0/10, one
    client each (`<fid>-k<i>`), ending every 42 days, the last 37 days before `as_of`; a proposal
    3 days before `as_of`. At `as_of`: JSS 100 in every window, 16/16 weeks, $3,200 earned in 365 days
    (8 jobs), first contract 687 days ago. Returns the contract ids, oldest first.
    """
    m.freelancer(fid, joined=ago(722, as_of), profile=profile, photo=photo, available=available, elance=elance)
    ids = []
    for i in range(contracts):
        ended = ago(37 + 42 * (contracts - 1 - i), as_of)
        ids.append(m.job(f"{fid}-c{i}", fid, f"{fid}-k{i}", ended, amount=amount))
    if active:
        m.activity(fid, ago(3, as_of))
    return ids


def veteran(m: Market, fid: str, as_of: date = AS_OF, active: bool = True, profile: int = 100) -> None:
    """A freelancer whose JSS (100, from two $400 jobs ended 400 and 420 days before `as_of`) is older
    than the 365-day earnings window: at `as_of` they earned $0 in 365 days and have no payment in
    the last 90 days, so a test adds exactly the earnings/activity it is about. Top Rated apart from
    `earnings_12m` (and `activity` when `active` is False)."""
    m.freelancer(fid, joined=ago(600, as_of), profile=profile)
    m.job(f"{fid}-old1", fid, f"{fid}-ko1", ago(420, as_of))
    m.job(f"{fid}-old2", fid, f"{fid}-ko2", ago(400, as_of))
    if active:
        m.activity(fid, ago(3, as_of))


def rising(m: Market, fid: str, joined: date, as_of: date = AS_OF, active: bool = True) -> None:
    """A Rising Talent candidate: profile 100 with photo, available, readiness test passed on the
    day they joined, and (when `active`) a proposal 3 days before `as_of`."""
    m.freelancer(fid, joined=joined)
    m.readiness(fid, joined)
    if active:
        m.activity(fid, ago(3, as_of))


def scored(m: Market, fid: str, *jobs: dict[str, Any]) -> list[str]:
    """A freelancer (joined 700 days ago) with one job per dict of `Market.job` arguments; by default
    each job has its own client `<fid>-k<i>` and ends 100 + i days before AS_OF. Returns the ids
    `<fid>-c<i>`."""
    m.freelancer(fid, joined=ago(700))
    ids = []
    for i, kw in enumerate(jobs):
        args = {"client": f"{fid}-k{i}", "ended": ago(100 + i)} | kw
        ids.append(m.job(f"{fid}-c{i}", fid, **args))
    return ids


def top_agency(
    m: Market,
    aid: str,
    as_of: date = AS_OF,
    amount: str = "3000.00",
    member_profile: int = 80,
) -> tuple[str, str]:
    """A Top Rated agency: owner `<aid>-own` (profile 100, no JSS of their own) and member
    `<aid>-m` (profile `member_profile`), created 400 days before `as_of`, complete agency profile;
    four agency contracts done by the member for four clients, $`amount` each, 5.0/10, ended 300,
    200, 100 and 20 days before `as_of` (so $12,000 in 365 days with the default amount).
    Returns (owner id, member id)."""
    owner, member = f"{aid}-own", f"{aid}-m"
    m.freelancer(owner, joined=ago(500, as_of))
    m.activity(owner, ago(3, as_of))
    m.freelancer(member, joined=ago(500, as_of), profile=member_profile)
    m.agency(aid, owner, created=ago(400, as_of))
    m.member_joined(aid, member, ago(400, as_of))
    for i, n in enumerate((300, 200, 100, 20)):
        m.job(f"{aid}-c{i}", member, f"{aid}-k{i}", ago(n, as_of), amount=amount, agency=aid)
    return owner, member
