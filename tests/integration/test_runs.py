"""Weekly runs: snapshots equal a live evaluation, re-runs replace atomically, transitions add up."""

from __future__ import annotations

import contextlib
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from toprated.evaluation.removals import decide_removals
from toprated.evaluation.request_status import RequestStatus
from toprated.evaluation.service import evaluate_store
from toprated.metrics.sources import Sources
from toprated.programme import load_programme
from toprated.runs import snapshots as snap
from toprated.runs.service import backfill, run_week
from toprated.runs.weekstore import LEDGER_STATE, SqlWeekStore
from toprated.store import open_store

from .compiles import count_step_compiles
from .stores import simulated_store

LAST = date(2026, 11, 23)  # a Monday
FIRST = LAST - timedelta(weeks=16)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # a seed whose marketplace grants a removal during the backfill
    path = simulated_store(tmp_path_factory.mktemp("runs"), 300, 5, LAST)
    with open_store(str(path)) as store:
        reports = backfill(store.ibis(), load_programme(), FIRST, LAST)
    assert [r.week for r in reports] == [FIRST + timedelta(weeks=i) for i in range(17)]
    # the first week evaluates its 16 weekly points and stores them; every later week reads them
    assert [r.stored_points for r in reports] == [False] + [True] * 16
    # from the second week on, as the previous week's masks (one row per entity)
    assert [r.from_masks for r in reports] == [False] + [True] * 16
    return path


def _snapshot(con, week: date) -> dict[str, dict]:
    s = con.table(snap.SNAPSHOTS)
    return {r["entity_id"]: r for r in s.filter(s.week == week).to_pyarrow().to_pylist()}


@pytest.mark.parametrize("week", [FIRST, LAST], ids=["first week, its points one day at a time", "stored weeks"])
def test_snapshot_from_stored_weeks_equals_a_live_evaluation(store_path: Path, week: date) -> None:
    p = load_programme()
    with open_store(str(store_path)) as store:
        con = store.ibis()
        stored = _snapshot(con, week)
        live = evaluate_store(con, p, week, project=False)
    rows = {r["entity_id"]: r for r in [*live.freelancers, *live.agencies]}
    assert set(stored) == set(rows) and len(rows) > 250
    assert sum(r["top_rated_held"] for r in stored.values()) > 5
    for eid, s in stored.items():
        r = rows[eid]
        for col in (
            "jss",
            "eligible_weeks",
            "rising_talent_held",
            "top_rated_held",
            "top_rated_plus_held",
            "top_rated__earnings_12m__value",
            "top_rated__standing__value",
        ):
            if col in r:
                assert s[col] == r[col], (eid, col, s[col], r[col])


def test_rerunning_a_week_replaces_it(store_path: Path) -> None:
    p = load_programme()
    with open_store(str(store_path)) as store:
        con = store.ibis()
        before = _snapshot(con, LAST)
        report = run_week(con, p, LAST)
        after = _snapshot(con, LAST)
        s = con.table(snap.SNAPSHOTS)
        n = s.filter(s.week == LAST).count().to_pyarrow().as_py()
    assert report.stored_points and n == len(before) == report.entities
    assert after == before


def test_a_run_that_fails_midway_leaves_the_previous_snapshot(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = load_programme()
    calls = []
    real = SqlWeekStore.transaction

    @contextlib.contextmanager
    def dies_after_two_statements(self):  # type: ignore[no-untyped-def]
        with real(self) as execute:

            def counting(sql: str) -> None:
                calls.append(sql)
                execute(sql)
                if len(calls) == 2:  # the snapshot's old rows deleted and the new ones inserted
                    raise RuntimeError("killed midway")

            yield counting

    with open_store(str(store_path)) as store:
        con = store.ibis()
        before = _snapshot(con, LAST)
        monkeypatch.setattr(SqlWeekStore, "transaction", dies_after_two_statements)
        with pytest.raises(RuntimeError, match="killed midway"):
            run_week(con, p, LAST)
        monkeypatch.undo()
        assert _snapshot(con, LAST) == before


def test_a_week_after_another_compiles_none_of_its_steps_and_stores_the_same(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A week's steps differ from the week before's only by their dates, which are compiled as
    stand-ins (`toprated.metrics.compiled.dated`): a process that ran the week before compiles none
    of the steps again, and stores what a run whose SQL is compiled with its dates stores."""
    from toprated.evaluation import scratch
    from toprated.metrics import compiled

    path = tmp_path / "copy.duckdb"
    shutil.copy(store_path, path)
    p = load_programme()

    def as_it_is(con, key, expr, make):  # type: ignore[no-untyped-def]
        return compiled.remembered(con, (key, expr.op()), lambda: make(expr))

    with monkeypatch.context() as m:
        m.setattr(scratch, "dated", as_it_is)
        m.setattr(compiled, "dated", as_it_is)
        with open_store(str(path)) as store:
            run_week(store.ibis(), p, LAST)
            expected, expected_decisions = _snapshot(store.ibis(), LAST), _decisions(store.ibis(), LAST)

    with open_store(str(path)) as store:
        con = store.ibis()
        # without the contracts' ledger the backfill kept (of LAST): the first week starts one, the
        # second carries it, and so does the third, which compiles none of the second's steps again
        con.raw_sql(f"DROP TABLE {LEDGER_STATE}")
        compiled_steps = count_step_compiles(monkeypatch, con)
        for week in (LAST - timedelta(weeks=2), LAST - timedelta(weeks=1), LAST):
            compiled_steps.append(0)
            run_week(con, p, week)
        assert _snapshot(con, LAST) == expected and _decisions(con, LAST) == expected_decisions
    assert compiled_steps[0] > 10 and compiled_steps[2] == 0, compiled_steps


def test_transitions_match_the_snapshots(store_path: Path) -> None:
    with open_store(str(store_path)) as store:
        con = store.ibis()
        prev, cur = _snapshot(con, LAST - timedelta(weeks=1)), _snapshot(con, LAST)
        t = con.table(snap.TRANSITIONS)
        got = {(r["entity_id"], r["badge"]): r for r in t.filter(t.week == LAST).to_pyarrow().to_pylist()}
    want = {}
    for eid, row in cur.items():
        for b in ("rising_talent", "top_rated", "top_rated_plus", "expert_vetted"):
            was = bool((prev.get(eid) or {}).get(f"{b}_held"))
            now = bool(row[f"{b}_held"])
            if was != now:
                want[(eid, b)] = "gained" if now else "lost"
    assert want, "the simulated marketplace should change between weeks"
    assert {k: v["change"] for k, v in got.items()} == want
    for (eid, b), r in got.items():
        if r["change"] == "lost":
            failing = r["failing"].split(",")
            assert failing and all(cur[eid][f"{b}__{n}__met"] is False for n in failing), (eid, b, r)


def test_a_week_run_again_since_the_previous_one_makes_the_next_read_the_stored_points(
    store_path: Path, tmp_path: Path
) -> None:
    """The previous week's masks hold the points as they were when it ran: once an earlier week was
    run again (its point replaced, here by hand as a late event would), the next run reads the
    stored points, and so counts the new one."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(store_path, path)
    p = load_programme()
    earlier = LAST - timedelta(weeks=2)
    with open_store(str(path)) as store:
        con = store.ibis()
        before = _snapshot(con, LAST)
        pts = con.table(snap.POINTS)
        flagged = pts.filter((pts.week == earlier) & pts.point_ok & (pts.entity_kind == "freelancer"))
        entity = flagged.entity_id.min().to_pyarrow().as_py()
        with SqlWeekStore(con).transaction() as execute:
            execute(f"UPDATE {snap.POINTS} SET point_ok = false WHERE entity_id = '{entity}' AND week = '{earlier}'")
            execute(f"UPDATE {snap.RUNS} SET finished_at = '9999-01-01T00:00:00+00:00' WHERE week = '{earlier}'")
        report = run_week(con, p, LAST)
        after = _snapshot(con, LAST)
    assert report.stored_points and not report.from_masks
    assert after[entity]["eligible_weeks"] == before[entity]["eligible_weeks"] - 1
    assert {k: v for k, v in after.items() if k != entity} == {k: v for k, v in before.items() if k != entity}


def test_a_store_from_before_masks_gets_the_column_and_reads_the_stored_points(
    store_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "copy.duckdb"
    shutil.copy(store_path, path)
    with open_store(str(path)) as store:
        con = store.ibis()
        before = _snapshot(con, LAST)
        with SqlWeekStore(con).transaction() as execute:
            execute(f"ALTER TABLE {snap.SNAPSHOTS} DROP COLUMN points_mask")
        report = run_week(con, load_programme(), LAST)
        after = _snapshot(con, LAST)
        s = con.table(snap.SNAPSHOTS)
        earlier = s.filter(s.week == LAST - timedelta(weeks=1)).points_mask.count().to_pyarrow().as_py()
    assert report.stored_points and not report.from_masks
    assert after == before and earlier == 0


def _decisions(con, week: date) -> dict[str, tuple]:
    t = con.table(snap.DECISIONS)
    rows = t.filter(t.week == week).to_pyarrow().to_pylist()
    return {r["event_id"]: (r["day"], r["entity_id"], r["granted"], r["reason"]) for r in rows}


def _decided_anew(con, week: date) -> dict[str, tuple]:
    with RequestStatus(load_programme()) as status:
        made = decide_removals(Sources.from_backend(con), load_programme(), week, status)
    return {d.event_id: (d.day, d.entity_id, d.granted, d.reason) for d in made}


def test_weeks_that_keep_the_earlier_decisions_end_with_those_of_deciding_every_request_anew(
    store_path: Path,
) -> None:
    """The backfill's weeks end with the decisions of deciding every request anew."""
    with open_store(str(store_path)) as store:
        con = store.ibis()
        stored, anew = _decisions(con, LAST), _decided_anew(con, LAST)
        first = _decisions(con, FIRST)
    assert stored == anew
    granted = [day for day, _, g, _ in stored.values() if g]
    assert granted and min(granted) > FIRST and len(stored) > len(first)


def test_a_backfill_decides_the_requests_of_all_its_weeks_in_one_pass(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run again after its first week, the backfill decides its requests once; each week stores
    the decisions of every request up to it, as deciding them all anew gives, and the same snapshot."""
    import toprated.runs.service as service

    calls: list[date] = []

    def counted(src, p, up_to, *args, **kwargs):
        calls.append(up_to)
        return decide_removals(src, p, up_to, *args, **kwargs)

    path = tmp_path / "copy.duckdb"
    shutil.copy(store_path, path)
    monkeypatch.setattr(service, "decide_removals", counted)
    weeks = [FIRST + timedelta(weeks=i) for i in range(1, 17)]
    with open_store(str(path)) as store:
        con = store.ibis()
        before = {w: _snapshot(con, w) for w in weeks}
        reports = backfill(con, load_programme(), weeks[0], weeks[-1], rerun=True)
        assert [r.week for r in reports] == weeks and calls == [LAST]
        anew = _decided_anew(con, LAST)
        stored = {w: _decisions(con, w) for w in weeks}
        for w in weeks:
            assert stored[w] == {e: d for e, d in anew.items() if d[0] <= w}, w
            assert _snapshot(con, w) == before[w], w
    # the weeks asked for removals of their own, and some were granted
    assert len(stored[LAST]) > len(stored[weeks[0]])
    assert any(granted and day > weeks[0] for day, _, granted, _ in stored[LAST].values())


def test_a_request_the_earlier_run_did_not_decide_gets_every_request_decided_anew(
    store_path: Path, tmp_path: Path
) -> None:
    """A request dated before the previous run that arrived after it (here: its stored decision
    removed) may change every later decision of its entity."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(store_path, path)
    previous = LAST - timedelta(weeks=1)
    with open_store(str(path)) as store:
        con = store.ibis()
        late = min(e for e, (day, *_) in _decisions(con, previous).items() if day < previous)
        with SqlWeekStore(con).transaction() as execute:
            execute(f"DELETE FROM {snap.DECISIONS} WHERE week = '{previous}' AND event_id = '{late}'")
        run_week(con, load_programme(), LAST)
        stored, anew = _decisions(con, LAST), _decided_anew(con, LAST)
    assert late in stored and stored == anew


def test_a_programme_with_more_weekly_points_counts_them_from_the_stored_points(
    store_path: Path, tmp_path: Path
) -> None:
    """Last week's masks hold 16 points; a programme now asking for 18 reads the stored points."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(store_path, path)
    base = load_programme()
    p = base.model_copy(update={"top_rated": base.top_rated.model_copy(update={"weeks_window": 18})})
    days = [LAST - timedelta(weeks=k) for k in range(18)]
    with open_store(str(path)) as store:
        con = store.ibis()
        report = run_week(con, p, LAST)
        after = _snapshot(con, LAST)
        pts = con.table(snap.POINTS)
        ok = pts.filter(pts.week.isin(days) & pts.point_ok)
        ok = ok.group_by("entity_id").aggregate(n=ok.count())
        want = {r["entity_id"]: r["n"] for r in ok.to_pyarrow().to_pylist()}
    assert report.stored_points and not report.from_masks
    assert any(n > 16 for n in want.values())
    assert {e: r["eligible_weeks"] for e, r in after.items() if r["eligible_weeks"]} == want
