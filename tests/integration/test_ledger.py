"""The contracts' ledger carried from day to day equals the ledger made from every fact."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from toprated.evaluation.scratch import Scratch
from toprated.metrics.ledger import SCHEMA, ledger_after, ledger_on
from toprated.metrics.sources import Sources
from toprated.programme import load_programme
from toprated.runs.carry import Carry
from toprated.store import open_store
from toprated.store.commands import load_events_into

from .compiles import count_step_compiles
from .stores import simulated_store

LAST = date(2026, 11, 23)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_store(tmp_path_factory.mktemp("ledger"), 300, 7, LAST)


def _rows(t) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {r["contract_id"]: r for r in t.to_pyarrow().to_pylist()}


def test_a_ledger_carried_week_after_week_and_across_a_year_is_the_one_made_from_every_fact(
    store_path: Path,
) -> None:
    p = load_programme()
    # weeks apart, a day apart, and more than the earnings window apart (every payment leaves it)
    days = [LAST - timedelta(days=400), LAST - timedelta(days=393), LAST - timedelta(days=386)]
    days += [LAST - timedelta(days=1), LAST]
    with open_store(str(store_path)) as store, Scratch(store.ibis()) as scratch:
        src = Sources.from_backend(store.ibis())
        carried = scratch.keep(ledger_on(src, p, days[0]))
        first = _rows(carried)
        for since, day in itertools.pairwise(days):
            carried = scratch.keep(ledger_after(carried, since, src, p, day))
            assert carried.schema() == SCHEMA
            made = _rows(ledger_on(src, p, day))
            got = _rows(carried)
            assert set(got) == set(made), day
            wrong = {k: (got[k], made[k]) for k in made if got[k] != made[k]}
            assert wrong == {}, (day, list(wrong.items())[:3])
        last = got
    # what the test went through: every column changed for some contract between the first day and the last
    changed = {
        name
        for k, row in last.items()
        for name in SCHEMA
        if name != "contract_id" and (k not in first or first[k][name] != row[name])
    }
    assert changed == set(SCHEMA) - {"contract_id"}
    left_window = [k for k, r in last.items() if r["cum_net"] is not None and r["net_12m"] is None]
    assert left_window  # payments that left the earnings window (the edges: test_the_edges_of_carrying_a_ledger)


@pytest.mark.parametrize("share", [0.5, 0.0], ids=["in place", "written whole"])
def test_a_carry_replaces_the_changed_rows_of_its_own_ledger_in_place(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    """A process's own ledger is carried by replacing the rows of the contracts that changed (until
    the rows replaced reach `IN_PLACE_SHARE` of it, then it is written whole): either way, on each
    day it equals the ledger made from every fact."""
    from toprated.runs import carry as carry_module

    monkeypatch.setattr(carry_module, "IN_PLACE_SHARE", share)
    p = load_programme()
    days = [LAST - timedelta(weeks=k) for k in (10, 9, 8, 4, 0)]
    with open_store(str(store_path)) as store, Carry(store.ibis(), p) as carry:
        src = Sources.from_backend(store.ibis())
        first = carry.on(src, days[0])
        for day in days[1:]:
            ledger = carry.on(src, day)
            assert ledger is not None
            assert _rows(ledger) == _rows(ledger_on(src, p, day)), day
            assert (ledger.get_name() == first.get_name()) == (share > 0)  # the same table, or a new one
    assert carry.carried == len(days) - 1


def test_carrying_starts_again_from_every_fact_when_an_event_arrived(store_path: Path, tmp_path: Path) -> None:
    """A ledger is carried while the store stays as it was; an event imported in between (dated
    before the ledger's day) makes the next one start from every fact, and include it."""
    p = load_programme()
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(store_path.read_bytes())
    with open_store(str(copy)) as store:
        con = store.ibis()
        src = Sources.from_backend(con)
        d0, d1, d2 = LAST - timedelta(days=14), LAST - timedelta(days=7), LAST
        with Carry(con, p, start=False) as lazy:  # a weekly run alone: the evaluation reads every fact
            assert lazy.on(src, d0) is None and lazy.on(src, d1) is None
        with Carry(con, p) as carry:
            carry.on(src, d0)
            carry.on(src, d1)
            assert carry.carried == 1
            payment = con.table("payments").filter(lambda t: t.day <= d0).limit(1).to_pyarrow().to_pylist()[0]
            late = {
                "id": "late-payment-1",
                "type": "payment.made",
                "time": f"{d0.isoformat()}T12:00:00Z",
                "data": {"contract_id": payment["contract_id"], "amount": "123.45"},
            }
            events = tmp_path / "late.jsonl"
            events.write_text(json.dumps(late) + "\n")
            report = load_events_into(store, [events], Console(quiet=True))
            assert not report.rejected and report.accepted == 1
            before = _rows(carry.table)[payment["contract_id"]]["cum_net"]
            after = _rows(carry.on(src, d2))
            assert carry.carried == 1  # made from every fact
            assert after == _rows(ledger_on(src, p, d2))
            assert after[payment["contract_id"]]["cum_net"] >= before + Decimal("123.45")


def _event(n: int, type_: str, day: date, **data: object) -> dict:
    return {"id": f"e{n:04d}", "type": type_, "time": f"{day.isoformat()}T10:00:{n % 60:02d}Z", "data": data}


def test_the_edges_of_carrying_a_ledger(tmp_path: Path) -> None:
    """Contracts made for the edges, carried over D0 = 2026-03-02 to D1 = D0 + 7 and D2 = D1 + 400:
    a gap of exactly 90 days across D0 (not long) and one of 91 (long), a long gap among the new
    payments alone, a refund alone, feedback replaced by later feedback without a public score, a
    rehire started after D0, a payment on a contract dated before the contract started, a contract
    ended after D1 (the ledger holds an end from its day on)."""
    d0 = date(2026, 3, 2)
    d1, d2 = d0 + timedelta(days=7), d0 + timedelta(days=407)
    n = iter(range(10_000))
    ev = [_event(next(n), "freelancer.joined", date(2025, 1, 1), freelancer_id="f1")]

    def contract(cid: str, day: date, client: str = "c1") -> None:
        ev.append(
            _event(
                next(n),
                "contract.started",
                day,
                contract_id=cid,
                freelancer_id="f1",
                client_id=client,
                kind="fixed",
                category="design",
            )
        )

    def pay(cid: str, day: date, amount: str = "100", refund: bool = False) -> None:
        ev.append(_event(next(n), "payment.made", day, contract_id=cid, amount=amount, refund=refund))

    contract("exact", date(2025, 6, 1))
    pay("exact", d0 - timedelta(days=40))
    pay("exact", d0 + timedelta(days=50))  # 90 days after: not longer than 90
    contract("long", date(2025, 6, 1), "c2")
    pay("long", d0 - timedelta(days=40))
    pay("long", d0 + timedelta(days=51))  # 91 days after
    contract("new_gap", date(2025, 6, 1), "c3")
    pay("new_gap", d1 + timedelta(days=1))
    pay("new_gap", d1 + timedelta(days=200))
    contract("refund", date(2025, 6, 1), "c4")
    pay("refund", d0 + timedelta(days=3), "40", refund=True)
    contract("feedback", date(2025, 6, 1), "c5")
    ev.append(
        _event(
            next(n), "feedback.given", d0 - timedelta(days=5), contract_id="feedback", public_score=4.5, private_score=9
        )
    )
    ev.append(_event(next(n), "feedback.given", d0 + timedelta(days=2), contract_id="feedback", private_score=3))
    contract("rehire", d0 + timedelta(days=4), "c1")  # the client of "exact"
    pay("early", d0 - timedelta(days=10), "70")  # before its contract started
    contract("early", d0 + timedelta(days=5), "c6")
    ev.append(_event(next(n), "contract.ended", d1 + timedelta(days=1), contract_id="exact", reason="completed"))
    events = tmp_path / "edges.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in ev))
    p = load_programme()
    with open_store(str(tmp_path / "edges.duckdb")) as store:
        report = load_events_into(store, [events], Console(quiet=True))
        assert not report.rejected, report.rejected
        src = Sources.from_backend(store.ibis())
        with Scratch(store.ibis()) as scratch:
            carried = scratch.keep(ledger_on(src, p, d0))
            on_d0 = _rows(carried)
            for since, day in ((d0, d1), (d1, d2)):
                carried = scratch.keep(ledger_after(carried, since, src, p, day))
                assert _rows(carried) == _rows(ledger_on(src, p, day)), day
                if day == d1:
                    on_d1 = _rows(carried)
            on_d2 = _rows(carried)
    assert not on_d2["exact"]["long_gap"] and on_d2["long"]["long_gap"] and on_d2["new_gap"]["long_gap"]
    assert not on_d1["new_gap"]["long_gap"]
    assert on_d1["refund"]["n_payments"] == 0 and on_d1["refund"]["cum_net"] == Decimal("-40")
    assert on_d1["feedback"]["public_score"] is None and on_d1["feedback"]["private_score"] == 3
    assert on_d1["rehire"]["rehire"] and not on_d1["exact"]["rehire"]
    assert on_d1["early"]["cum_net"] == Decimal("70") and not on_d1["early"]["rehire"]
    assert on_d1["early"]["net_12m"] == Decimal("70") and on_d2["early"]["net_12m"] is None
    assert on_d0["early"]["started"] is None and on_d0["early"]["freelancer_id"] is None  # paid, not started
    assert on_d1["early"]["started"] == d0 + timedelta(days=5) and on_d1["early"]["client_id"] == "c6"
    assert on_d1["exact"]["end_day"] is None and on_d1["exact"]["category"] == "design"
    assert on_d2["exact"]["end_day"] == d1 + timedelta(days=1) and on_d2["exact"]["end_reason"] == "completed"


def _counting_carries(monkeypatch: pytest.MonkeyPatch) -> list[Carry]:
    """Every `Carry` a weekly run makes, to see whether it carried a ledger."""
    from toprated.runs import service

    made: list[Carry] = []

    class Counted(Carry):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(service, "Carry", Counted)
    return made


@pytest.mark.parametrize("late", [False, True], ids=["next week", "a payment arrived late"])
def test_the_next_weekly_run_carries_the_ledger_the_last_one_kept(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, late: bool
) -> None:
    """A backfill keeps its last week's ledger in the store; the next week's run, in another
    process, carries it and stores what a live evaluation gives. A payment that arrived since, dated
    on or before the kept ledger's day, makes the run make it again from every fact."""
    from toprated.evaluation.service import evaluate_store
    from toprated.runs.service import backfill, run_week
    from toprated.runs.weekstore import SqlWeekStore

    p = load_programme()
    path = tmp_path / "next.duckdb"
    path.write_bytes(store_path.read_bytes())
    first, last = LAST - timedelta(weeks=2), LAST - timedelta(weeks=1)
    with open_store(str(path)) as store:
        backfill(store.ibis(), p, first, last)
        kept = SqlWeekStore(store.ibis()).ledger()
        assert kept is not None and kept[1].day == last
        if late:
            con = store.ibis()
            payment = con.table("payments").limit(1).to_pyarrow().to_pylist()[0]
            day = last - timedelta(days=3)
            event = {"id": "late-1", "type": "payment.made", "time": f"{day.isoformat()}T09:00:00Z"}
            event["data"] = {"contract_id": payment["contract_id"], "amount": "5000"}
            (tmp_path / "late.jsonl").write_text(json.dumps(event) + "\n")
            assert load_events_into(store, [tmp_path / "late.jsonl"], Console(quiet=True)).accepted == 1
    made = _counting_carries(monkeypatch)
    with open_store(str(path)) as store:  # another connection: nothing carried in memory
        con = store.ibis()
        report = run_week(con, p, LAST)
        assert report.from_masks
        (carry,) = made
        assert carry.carried == (0 if late else 1)
        s = con.table("snapshots")
        stored = {r["entity_id"]: r for r in s.filter(s.week == LAST).to_pyarrow().to_pylist()}
        live = evaluate_store(con, p, LAST, project=False)
        # kept for the next run when made again from every fact; carried a week, the kept one still serves
        assert SqlWeekStore(con).ledger()[1].day == (LAST if late else last)  # type: ignore[index]
    rows = {r["entity_id"]: r for r in [*live.freelancers, *live.agencies]}
    assert set(stored) == set(rows)
    for entity, row in stored.items():
        differ = {k: (v, rows[entity][k]) for k, v in row.items() if k in rows[entity] and v != rows[entity][k]}
        assert differ == {}, entity


def test_weeks_one_after_another_carry_the_ledger_and_compile_its_steps_once(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scheduler's process runs week after week: each carries the ledger kept in the store, the
    second week compiles none of the steps (its SQL differs only by its dates), and a run keeps its
    own ledger only once the kept one is `KEEP_AFTER_DAYS` older."""
    from toprated.runs.carry import KEEP_AFTER_DAYS
    from toprated.runs.service import backfill, run_week
    from toprated.runs.weekstore import SqlWeekStore

    p = load_programme()
    path = tmp_path / "weeks.duckdb"
    path.write_bytes(store_path.read_bytes())
    made = _counting_carries(monkeypatch)
    start = LAST - timedelta(weeks=1)
    later = start + timedelta(days=KEEP_AFTER_DAYS)
    kept = []
    with open_store(str(path)) as store:
        con = store.ibis()
        backfill(con, p, start, start)
        steps = count_step_compiles(monkeypatch, con)
        for week in (LAST, LAST + timedelta(weeks=1), later):
            steps.append(0)
            run_week(con, p, week)
            kept.append(SqlWeekStore(con).ledger()[1].day)  # type: ignore[index]
    # the last run also evaluates the weekly point of the week between, which no run stored
    assert [c.carried for c in made[-3:]] == [1, 1, 2]
    assert steps[0] > 0 and steps[1] == 0, steps
    assert kept == [start, start, later]
