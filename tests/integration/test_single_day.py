"""A one-day calendar takes the metrics' aggregate shortcuts; they must agree with the interval path."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from toprated.evaluation.engine import evaluate_days
from toprated.evaluation.scratch import Scratch
from toprated.evaluation.service import Result, evaluate_store
from toprated.metrics.sources import Sources
from toprated.programme import load_programme
from toprated.store import open_store

from .compiles import count_step_compiles
from .stores import simulated_store

AS_OF = date(2026, 11, 23)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_store(tmp_path_factory.mktemp("single"), 400, 5, AS_OF)


@pytest.mark.parametrize("day", [AS_OF, AS_OF - timedelta(days=200)])
def test_one_day_equals_the_same_day_among_several(store_path: Path, day: date) -> None:
    base = load_programme()
    # one weekly point, so that a single target day makes a single-day calendar
    p = base.model_copy(
        update={"top_rated": base.top_rated.model_copy(update={"weeks_window": 1, "weeks_required": 1})}
    )
    with open_store(str(store_path)) as store:
        con = store.ibis()
        src = Sources.from_backend(con)
        with Scratch(con) as scratch:
            fr1, ag1, _ = evaluate_days(src, p, [day], scratch)
            one = [t.order_by("entity_id").to_pyarrow().to_pylist() for t in (fr1, ag1)]
            fr2, ag2, _ = evaluate_days(src, p, [day, day + timedelta(days=3)], scratch)
            two = [t.filter(t.at == day).order_by("entity_id").to_pyarrow().to_pylist() for t in (fr2, ag2)]
    assert len(one[0]) > 300
    assert sum(r["top_rated_held"] for r in one[0]) > 5
    assert any(r["earnings_12m"] > 0 for r in one[0]) and any(r["last_active"] for r in one[0])
    for a_rows, b_rows in zip(one, two, strict=True):
        assert len(a_rows) == len(b_rows)
        for a, b in zip(a_rows, b_rows, strict=True):
            diff = {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}
            assert not diff, (a["entity_id"], diff)


def test_a_keyed_calendar_equals_a_calendar_of_days(store_path: Path) -> None:
    """Evaluating (entity, day) pairs on a keyed calendar (each entity on its own days and weekly
    points, an agency's owner and members on the agency's days) gives, for those pairs, exactly
    the rows a calendar of all those days gives for everyone."""
    from toprated.evaluation.request_status import companions_of

    p = load_programme()
    days = [AS_OF, AS_OF - timedelta(days=45), AS_OF - timedelta(days=200)]
    with open_store(str(store_path)) as store:
        con = store.ibis()
        src = Sources.from_backend(con)
        freelancers = sorted(src.freelancers.freelancer_id.to_pyarrow().to_pylist())
        agencies = sorted(src.agencies.agency_id.to_pyarrow().to_pylist())
        pairs = {(f, days[i % 3]) for i, f in enumerate(freelancers[::7])}
        pairs |= {(f, days[(i + 1) % 3]) for i, f in enumerate(freelancers[::23])}
        pairs |= {(a, days[i % 3]) for i, a in enumerate(agencies)}
        with Scratch(con) as scratch:
            fr, ag, _ = evaluate_days(
                src, p, [], scratch, pairs=pairs, companions=companions_of(src, {e for e, _ in pairs})
            )
            keyed = {(r["entity_id"], r["at"]): r for t in (fr, ag) for r in t.to_pyarrow().to_pylist()}
            fr2, ag2, _ = evaluate_days(src, p, days, scratch)
            full = {(r["entity_id"], r["at"]): r for t in (fr2, ag2) for r in t.to_pyarrow().to_pylist()}
    assert agencies and len(pairs) > 60
    expected = {k: v for k, v in full.items() if k in pairs}
    assert len(expected) > 60
    assert {k for k in keyed if k in pairs} == set(expected)  # an entity not yet there has no row
    assert sum(r["top_rated_held"] for r in expected.values()) > 2
    for key, row in expected.items():
        diff = {k: (row[k], keyed[key].get(k)) for k in row if row[k] != keyed[key].get(k)}
        assert not diff, (key, diff)


@pytest.mark.parametrize("one_pass_pairs", [0, 10_000], ids=["two passes", "one pass"])
def test_the_jss_alone_equals_the_jss_of_a_full_evaluation(store_path: Path, one_pass_pairs: int) -> None:
    """`RequestStatus.jss` (contracts and score only, on the pairs' own days) gives the same JSS as
    `RequestStatus.top_rated` (the full evaluation with weekly points), removals included."""
    from toprated.evaluation.request_status import RequestStatus

    p = load_programme()
    days = [AS_OF, AS_OF - timedelta(days=45), AS_OF - timedelta(days=200)]
    with open_store(str(store_path)) as store:
        src = Sources.from_backend(store.ibis())
        c = src.contracts
        rows = c.select("contract_id", "freelancer_id", "agency_id", "day").order_by("contract_id").to_pyarrow()
        contracts = rows.to_pylist()
        freelancers = sorted({r["freelancer_id"] for r in contracts})
        agencies = sorted({r["agency_id"] for r in contracts if r["agency_id"]})
        pairs = {(f, days[i % 3]) for i, f in enumerate(freelancers[::2])}
        pairs |= {(a, days[i % 3]) for i, a in enumerate(agencies)}
        # removals of some of these entities' contracts, from a day before some of the pairs' days
        removals = [(r["freelancer_id"], r["contract_id"], r["day"]) for r in contracts[::9]]
        removals += [(r["agency_id"], r["contract_id"], r["day"]) for r in contracts[::4] if r["agency_id"]]
        with RequestStatus(p, one_pass_pairs=one_pass_pairs) as status:
            full = status.top_rated(src, removals, pairs)
            alone = status.jss(src, removals, pairs)
    assert len(full) > 60 and sum(v[1] is not None for v in full.values()) > 20
    # an entity with no contract yet has no JSS row: no JSS, as in the full evaluation
    diff = {k: (v[1], alone.get(k)) for k, v in full.items() if v[1] != alone.get(k)}
    assert not diff and set(alone) <= set(full), diff


@pytest.mark.parametrize("one_pass_pairs", [0, 10_000], ids=["two passes", "one pass"])
def test_agencies_asked_alone_get_the_jss_of_a_full_evaluation(store_path: Path, one_pass_pairs: int) -> None:
    """Asked for agencies only (none of their members among the pairs), both `RequestStatus` answers
    give each agency the JSS the full evaluation gives it: a keyed evaluation reads the members'
    other contracts too (whether an agency contract is a rehire depends on them)."""
    from toprated.evaluation.request_status import RequestStatus

    p = load_programme()
    with open_store(str(store_path)) as store:
        con = store.ibis()
        src = Sources.from_backend(con)
        with Scratch(con) as scratch:
            _, ag, _ = evaluate_days(src, p, [AS_OF], scratch)
            expected = {(r["entity_id"], AS_OF): r["jss"] for r in ag.to_pyarrow().to_pylist()}
        pairs = set(expected)
        with RequestStatus(p, one_pass_pairs=one_pass_pairs) as status:
            full = {k: v[1] for k, v in status.top_rated(src, [], pairs).items()}
            alone = status.jss(src, [], pairs)
    assert len(pairs) > 5 and sum(v is not None for v in expected.values()) > 2
    assert full == expected
    # an agency with no contract yet has no row there: no JSS either way
    assert {k: alone.get(k) for k in pairs} == expected


def test_top_rated_in_two_passes_equals_one_pass(store_path: Path) -> None:
    """Every removal request of a simulated marketplace gets the same decision whether Top Rated on
    its day is found in one pass (16 weekly points for every pair) or in two (the day alone first)."""
    from toprated.evaluation.removals import decide_removals
    from toprated.evaluation.request_status import RequestStatus

    p = load_programme()
    with open_store(str(store_path)) as store:
        src = Sources.from_backend(store.ibis())
        decisions = {}
        for one_pass_pairs in (0, 10_000):
            with RequestStatus(p, one_pass_pairs=one_pass_pairs) as status:
                decisions[one_pass_pairs] = decide_removals(src, p, AS_OF, status)
    assert len(decisions[0]) > 10 and any(d.granted for d in decisions[0])
    assert any("did not hold Top Rated" in d.reason for d in decisions[0])
    assert decisions[0] == decisions[10_000]


def test_the_requests_of_another_week_reuse_the_keyed_steps_sql(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keyed evaluation of removal requests reads its entities' ids from a table, not from its
    SQL: asking for other entities (the next week's requests) compiles none of its steps again, and
    each answer is the one a new connection gives."""
    from toprated.evaluation.request_status import RequestStatus

    p = load_programme()
    with open_store(str(store_path)) as store:
        freelancers = sorted(Sources.from_backend(store.ibis()).freelancers.freelancer_id.to_pyarrow().to_pylist())
    weeks = [
        {(f, AS_OF - timedelta(days=7)) for f in freelancers[0:120:3]},
        {(f, AS_OF) for f in freelancers[1:120:3]},
    ]
    with open_store(str(store_path)) as store:
        con = store.ibis()
        src = Sources.from_backend(con)
        steps_compiled = count_step_compiles(monkeypatch, con)
        answers = []
        for pairs in weeks:
            steps_compiled.append(0)
            with RequestStatus(p) as status:
                answers.append(status.top_rated(src, [], pairs))
    assert steps_compiled[0] > 30 and steps_compiled[1] == 0, steps_compiled
    for pairs, answer in zip(weeks, answers, strict=True):
        with open_store(str(store_path)) as store, RequestStatus(p) as status:
            assert status.top_rated(Sources.from_backend(store.ibis()), [], pairs) == answer
    assert any(held for held, _ in answers[1].values()) and sum(jss is not None for _, jss in answers[1].values()) > 10


@pytest.fixture(scope="module")
def everyone(store_path: Path) -> Result:
    """The evaluation of every entity on AS_OF, with its projections."""
    with open_store(str(store_path)) as store:
        return evaluate_store(store.ibis(), load_programme(), AS_OF)


def test_an_entity_projected_with_its_evaluation_equals_the_full_evaluation(store_path: Path, everyone: Result) -> None:
    """`evaluate_store` for a few entities projects them in the same pass as it evaluates them;
    every entity evaluated for itself gets the rows and `qualifies_on` of the evaluation of all."""
    p = load_programme()
    with open_store(str(store_path)) as store:
        con = store.ibis()
        rows = {r["entity_id"]: r for r in [*everyone.freelancers, *everyone.agencies]}
        first_day = {
            k: min((v for c, v in r.items() if c.endswith("__qualifies_on") and v), default=None)
            for k, r in rows.items()
        }
        # the soonest first: a projection that missed its first days would show there
        projected = sorted((k for k, d in first_day.items() if d), key=lambda k: (first_day[k], k))
        agencies = [r["entity_id"] for r in everyone.agencies]
        plain = [k for k, r in rows.items() if r["top_rated_held"]]
        assert len(projected) >= 3 and agencies and plain
        for entity in [*projected[:3], agencies[0], plain[0]]:
            alone = evaluate_store(con, p, AS_OF, entity_ids=[entity])
            (row,) = [*alone.freelancers, *alone.agencies]
            diff = {k: (v, row.get(k)) for k, v in rows[entity].items() if v != row.get(k)}
            assert not diff, (entity, diff)


def test_the_next_explanation_of_the_day_reuses_the_steps_sql(store_path: Path, everyone: Result) -> None:
    """Scratch tables keep their names from one evaluation to the next, so explaining another
    entity on the same day compiles only the steps that read its own ids; the results stay its own."""
    p = load_programme()
    rows = {r["entity_id"]: r for r in everyone.freelancers}
    with open_store(str(store_path)) as store:
        con = store.ibis()
        first, second = sorted(k for k, r in rows.items() if r["jss"] is not None)[:2]
        compiled: list[str] = []
        compile_ = con.compile

        def counting(expr, *args, **kwargs):  # type: ignore[no-untyped-def]
            compiled.append(type(expr).__name__)
            return compile_(expr, *args, **kwargs)

        con.compile = counting  # type: ignore[method-assign]
        evaluate_store(con, p, AS_OF, entity_ids=[first], contracts_of=first)
        cold = len(compiled)
        compiled.clear()
        again = evaluate_store(con, p, AS_OF, entity_ids=[second], contracts_of=second)
        warm = len(compiled)
    assert cold > 30 and warm < cold / 2, (cold, warm)
    (row,) = again.freelancers
    assert row["entity_id"] == second and row["jss"] == rows[second]["jss"]
    assert row["top_rated_held"] == rows[second]["top_rated_held"]


def test_an_explanation_replays_the_statements_of_the_days_first(
    store_path: Path, everyone: Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Later explanations of the day run the first one's statements again instead of building the
    evaluation; each returns its own entity's rows and contracts, as a build from nothing does. A
    programme or a day of their own are built anew."""
    from toprated.evaluation import service

    p = load_programme()
    asking = {d.entity_id for d in everyone.decisions}  # their granted removals would be a key of their own
    rows = {r["entity_id"]: r for r in [*everyone.freelancers, *everyone.agencies] if r["entity_id"] not in asking}
    with_jss = sorted(k for k, r in rows.items() if r["jss"] is not None)
    held = sorted(k for k, r in rows.items() if r["top_rated_held"])
    agency = sorted(r["entity_id"] for r in everyone.agencies if r["entity_id"] in rows)
    entities = [*with_jss[:3], held[0], agency[0]]
    builds: list[date] = []
    real = service.evaluate

    def counting(src, p, as_of, *args, **kwargs):  # type: ignore[no-untyped-def]
        builds.append(as_of)
        return real(src, p, as_of, *args, **kwargs)

    monkeypatch.setattr(service, "evaluate", counting)
    with open_store(str(store_path)) as store:
        con = store.ibis()
        replayed = [evaluate_store(con, p, AS_OF, entity_ids=[e], contracts_of=e) for e in entities]
        assert builds == [AS_OF]  # the first only
        more = rows[held[0]]["earnings_12m"] + 1  # than it earned
        strict = p.model_copy(update={"top_rated": p.top_rated.model_copy(update={"min_earnings_12m": more})})
        (row,) = evaluate_store(con, strict, AS_OF, entity_ids=[held[0]], contracts_of=held[0]).freelancers
        assert builds == [AS_OF, AS_OF] and not row["top_rated_held"]
        earlier = AS_OF - timedelta(days=7)
        evaluate_store(con, p, earlier, entity_ids=[held[0]], contracts_of=held[0])
        assert builds[-1] == earlier
        # every table kept for them, built or replayed, is dropped when they are done
        left = con.raw_sql("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '_toprated_%'").fetchall()
        assert left == []
    for entity, result in zip(entities, replayed, strict=True):
        with open_store(str(store_path)) as store:  # a new connection: nothing to replay
            built = evaluate_store(store.ibis(), p, AS_OF, entity_ids=[entity], contracts_of=entity)
        assert result == built
        (mine,) = [*result.freelancers, *result.agencies]
        assert {k: v for k, v in mine.items() if v != rows[entity][k]} == {}
        assert all(c["entity_id"] == entity for c in result.contracts)
    assert any(r.contracts for r in replayed)


def test_explanations_one_after_another_find_each_ones_facts(store_path: Path, everyone: Result) -> None:
    """A few entities' facts are looked up by their ids, written into statements made once and
    replayed: one with many contracts, one with none, an agency and several at once, one after
    another on one connection, each get the rows of the evaluation of all."""
    p = load_programme()
    rows = {r["entity_id"]: r for r in [*everyone.freelancers, *everyone.agencies]}
    with open_store(str(store_path)) as store:
        con = store.ibis()
        c = con.table("contracts")
        per = c.group_by("freelancer_id").aggregate(n=c.count()).to_pyarrow().to_pylist()
        counts = {r["freelancer_id"]: r["n"] for r in per}
        busiest = max(counts, key=lambda k: (counts[k], k))
        idle = sorted(k for k in rows if k.startswith("f") and k not in counts)[0]
        agency = sorted(r["entity_id"] for r in everyone.agencies)[0]
        for ids in ([busiest], [idle], [agency], [busiest, idle, agency], [idle]):
            result = evaluate_store(con, p, AS_OF, entity_ids=ids)
            got = {r["entity_id"]: r for r in [*result.freelancers, *result.agencies]}
            assert sorted(got) == sorted(ids)
            for entity in ids:
                assert {k: v for k, v in got[entity].items() if v != rows[entity][k]} == {}, entity


@pytest.mark.parametrize("gap_days", [10, 20])
def test_a_keyed_calendars_payment_state_equals_the_running_totals(store_path: Path, gap_days: int) -> None:
    """On a keyed calendar each (contract, day)'s payments are summed directly; on a calendar of days
    they are running totals: the same sums, count, first and last payment on every pair, and the
    same long gap wherever it matters, on contracts with the payments and span to be long-term (a
    short gap setting makes long gaps common)."""
    from toprated.metrics.calendar import Cal, Calendar
    from toprated.metrics.contracts import _payment_state

    base = load_programme()
    p = base.model_copy(update={"jss": base.jss.model_copy(update={"long_term_max_gap_days": gap_days})})
    days = [AS_OF, AS_OF - timedelta(days=45), AS_OF - timedelta(days=200)]
    with open_store(str(store_path)) as store:
        con = store.ibis()
        src = Sources.from_backend(con)
        ids = sorted(src.payments.contract_id.to_pyarrow().to_pylist())[::5]
        pairs = {(c, days[i % 3]) for i, c in enumerate(ids)} | {(c, AS_OF) for c in ids[::4]}
        with Scratch(con) as scratch:
            keyed_cal = Calendar([], {}, {}, pairs=pairs)
            keyed = _payment_state(src, Cal.of(scratch.keep(keyed_cal.arrow()), keyed_cal), p)
            by_pair = {(r["contract_id"], r["at"]): r for r in keyed.to_pyarrow().to_pylist()}
            all_days = Calendar(days, {}, {})
            full = _payment_state(src, Cal.of(scratch.keep(all_days.arrow()), all_days), p)
            expected = {(r["contract_id"], r["at"]): r for r in full.to_pyarrow().to_pylist()}
    expected = {k: v for k, v in expected.items() if k in pairs}
    assert len(expected) > 100 and set(by_pair) == set(expected)
    j = p.jss

    def could_be_long(r: dict) -> bool:
        span = (r["last_paid"] - r["first_paid"]).days if r["first_paid"] else 0
        return r["n_payments"] >= j.long_term_min_payments and span >= j.long_term_min_span_days

    long = [r for r in expected.values() if could_be_long(r)]
    assert sum(bool(r["long_gap"]) for r in long) > 5 and sum(not r["long_gap"] for r in long) > 5
    for key, row in expected.items():
        got = by_pair[key]
        columns = [k for k in row if k != "long_gap" or could_be_long(row)]
        diff = {k: (row[k], got[k]) for k in columns if bool(row[k]) != bool(got[k]) or (row[k] and row[k] != got[k])}
        assert not diff, (key, diff)
