"""Import semantics (spec/events.md, programme.md section 10) on DuckDB and on PostgreSQL."""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from store_helpers import WORLD, ev, event_ids, reasons, records, typed_tables

from toprated.events import Record
from toprated.store import open_store, schema


def test_every_event_type_lands_in_its_typed_table(store_url: str) -> None:
    with open_store(store_url) as store:
        report = store.import_records(records(WORLD))
        assert (report.accepted, report.duplicates, report.rejected) == (len(WORLD), 0, [])
        counts = store.counts()
        tables = typed_tables(store)
    assert counts["events"] == len(WORLD) and sum(counts.values()) == 2 * len(WORLD)
    assert tables["freelancers"] == [
        ("f1", datetime(2025, 1, 1), date(2025, 1, 1), "Ann", "elance", "e01"),
        ("f2", datetime(2025, 1, 3, 1, 30), date(2025, 1, 3), None, None, "e02"),  # -02:00 -> next UTC day
    ]
    assert tables["payments"] == [
        ("e14", "c1", datetime(2025, 2, 10, 12), date(2025, 2, 10), Decimal("250.50"), False),
        ("e15", "c1", datetime(2025, 2, 11), date(2025, 2, 11), Decimal("20.00"), True),
    ]
    assert tables["feedback"][0][4:] == (4.7, 9)  # a double: DuckDB's FLOAT would give 4.699999809
    assert tables["feedback"][1][4:] == (None, 3)
    assert tables["contracts"][0][:7] == ("c1", "f1", "k1", None, "hourly", "writing", Decimal("1500.00"))
    assert tables["memberships"] == [
        ("e09", "a1", "f2", datetime(2025, 1, 6), date(2025, 1, 6), True),
        ("e10", "a1", "f2", datetime(2025, 6, 6), date(2025, 6, 6), False),
    ]
    assert tables["manual_badges"] == [
        ("e24", "f1", datetime(2025, 5, 1), date(2025, 5, 1), "expert_vetted", True, "op", None),
        ("e25", "a1", datetime(2025, 5, 2), date(2025, 5, 2), "rising_talent", False, "op", "abuse"),
    ]
    assert tables["profiles"][0][-1] == '["video"]'
    assert tables["holds"][0][:2] == ("h1", "a1") and tables["removal_requests"][0][-1] == "f1"


def test_raw_log_keeps_canonical_data(store_url: str) -> None:
    raw = {
        **ev("p1", "payment.made", "2025-02-10T13:00:00+01:00", contract_id="c1", amount=10.5),
        "source": "mkt",
        "specversion": "1.0",
    }
    with open_store(store_url) as store:
        store.import_records(records([*WORLD[:1], WORLD[11], raw]))
        with store.engine.connect() as conn:
            row = conn.execute(sa.select(schema.events).where(schema.events.c.id == "p1")).one()
    assert (row.type, row.time, row.day, row.source, row.specversion) == (
        "payment.made",
        datetime(2025, 2, 10, 12),
        date(2025, 2, 10),
        "mkt",
        "1.0",
    )
    assert row.data == '{"contract_id":"c1","amount":"10.50","refund":false}'
    assert row.seq == 3


def test_reimport_is_a_no_op(store_url: str) -> None:
    with open_store(store_url) as store:
        store.import_records(records(WORLD))
        before = typed_tables(store), store.counts()
        respelled = [{**WORLD[13], "data": {"contract_id": "c1", "amount": 250.5}, "time": "2025-02-10T14:00+02:00"}]
        report = store.import_records(records(WORLD + respelled + WORLD[:3]))
        assert (report.accepted, report.duplicates, report.rejected) == (0, len(WORLD) + 4, [])
        assert (typed_tables(store), store.counts()) == before


def test_same_id_different_content_is_a_conflict(store_url: str) -> None:
    changed = {**WORLD[13], "data": {"contract_id": "c1", "amount": "250.51"}}
    with open_store(store_url) as store:
        store.import_records(records(WORLD))
        report = store.import_records(records([changed]))
        assert report.accepted == 0
        assert reasons(report) == {"e14": "conflict: an event with this id and different content is already stored"}
        # within one batch: the first arrival is kept, the other is reported with where the first was
        batch = [
            ev("x1", "client.flagged", client_id="k1", reason="a"),
            ev("x1", "client.flagged", client_id="k1", reason="b"),
        ]
        report = store.import_records(records(batch, "b.jsonl"))
        assert report.accepted == 1 and report.rejected[0].line == 2
        assert reasons(report)["x1"] == "conflict: id already used by a different event at b.jsonl:1"


def test_second_entity_defining_event_is_rejected_naming_the_first(store_url: str) -> None:
    again = ev(
        "e99",
        "contract.started",
        "2025-01-15",
        contract_id="c1",
        freelancer_id="f2",
        client_id="k1",
        kind="fixed",
        category="writing",
    )
    with open_store(store_url) as store:
        store.import_records(records(WORLD))
        report = store.import_records(
            records([again, ev("e98", "contract.ended", contract_id="c1", reason="cancelled")])
        )
        assert reasons(report) == {
            "e99": "second contract.started for contract 'c1': the first is event e12",
            "e98": "second contract.ended for contract 'c1': the first is event e16",
        }
        # freelancer and agency ids share one namespace
        report = store.import_records(
            records(
                [
                    ev("e97", "agency.created", agency_id="f2", owner_id="f1"),
                    ev("e96", "freelancer.joined", freelancer_id="a1"),
                ]
            )
        )
        assert reasons(report) == {
            "e97": "second agency.created for freelancer/agency id 'f2': the first is event e02",
            "e96": "second freelancer.joined for freelancer/agency id 'a1': the first is event e03",
        }


def test_within_a_batch_the_earliest_by_time_then_id_wins(store_url: str) -> None:
    late = ev("b1", "freelancer.joined", "2025-03-01", freelancer_id="f1", name="late")
    early = ev("b2", "freelancer.joined", "2025-02-01", freelancer_id="f1", name="early")
    same_time = [
        ev("z9", "dispute.resolved", "2025-04-01", dispute_id="d1", outcome="settled"),
        ev("z1", "dispute.resolved", "2025-04-01", dispute_id="d1", outcome="freelancer_won"),
    ]
    start = ev(
        "s1", "contract.started", contract_id="c1", freelancer_id="f1", client_id="k", kind="fixed", category="x"
    )
    opened = ev("o1", "dispute.opened", contract_id="c1", dispute_id="d1")
    with open_store(store_url) as store:
        report = store.import_records(records([late, *same_time, opened, start, early]))
        assert reasons(report) == {
            "b1": "second freelancer.joined for freelancer/agency id 'f1': the first is event b2",
            "z9": "second dispute.resolved for dispute 'd1': the first is event z1",
        }
        assert event_ids(store) == ["b2", "o1", "s1", "z1"]


def test_missing_references_are_rejected_naming_them(store_url: str) -> None:
    batch = [
        *WORLD[:3],
        ev("m1", "payment.made", contract_id="c404", amount="5"),
        ev("m2", "contract.started", contract_id="c9", freelancer_id="f404", client_id="k", kind="fixed", category="x"),
        ev("m3", "payment.made", contract_id="c9", amount="5"),  # its contract was rejected: unknown too
        ev("m4", "dispute.resolved", dispute_id="d404", outcome="settled"),
        ev("m5", "account.hold_lifted", hold_id="h404"),
        ev("m6", "agency.created", agency_id="a9", owner_id="a1"),
        ev("m7", "agency.member_joined", agency_id="f1", freelancer_id="f2"),
        ev("m8", "badge.granted", agency_id="a404", badge="rising_talent", by="op"),
        ev("m9", "freelancer.activity", freelancer_id="f404", kind="login"),
        ev("m10", "client.flagged", client_id="k404", reason="client ids are not entities"),
    ]
    with open_store(store_url) as store:
        report = store.import_records(records(batch))
        assert reasons(report) == {
            "m1": "unknown contract 'c404' (data.contract_id): no contract.started for it",
            "m2": "unknown freelancer 'f404' (data.freelancer_id): no freelancer.joined for it",
            "m3": "unknown contract 'c9' (data.contract_id): no contract.started for it",
            "m4": "unknown dispute 'd404' (data.dispute_id): no dispute.opened for it",
            "m5": "unknown hold 'h404' (data.hold_id): no account.hold_placed for it",
            "m6": "unknown freelancer 'a1' (data.owner_id): no freelancer.joined for it",
            "m7": "unknown agency 'f1' (data.agency_id): no agency.created for it; 'f1' is a freelancer",
            "m8": "unknown agency 'a404' (data.agency_id): no agency.created for it",
            "m9": "unknown freelancer 'f404' (data.freelancer_id): no freelancer.joined for it",
        }
        assert [r.line for r in report.rejected] == [4, 5, 6, 7, 8, 9, 10, 11, 12]
        assert report.accepted == 4 and event_ids(store) == ["e01", "e02", "e03", "m10"]


def test_references_resolve_in_either_order_within_a_batch(store_url: str) -> None:
    with open_store(store_url) as store:
        report = store.import_records(records(list(reversed(WORLD))))
        assert (report.accepted, report.rejected) == (len(WORLD), [])


def test_references_resolve_against_the_store(store_url: str) -> None:
    with open_store(store_url) as store:
        store.import_records(records(WORLD[:13]))
    with open_store(store_url) as store:
        report = store.import_records(records(WORLD[13:]))
        assert (report.accepted, report.rejected) == (len(WORLD) - 13, [])


def test_valid_events_around_rejected_ones_are_stored(store_url: str) -> None:
    batch = [
        Record("f.jsonl", 1, WORLD[0]),
        Record("f.jsonl", 2, error="invalid JSON: oops"),
        Record("f.jsonl", 3, {**WORLD[1], "data": {"freelancer_id": "f2", "colour": "red"}}),
        Record("f.jsonl", 4, ev("p", "payment.made", contract_id="nope", amount="1")),
        Record("f.jsonl", 5, WORLD[2]),
    ]
    with open_store(store_url) as store:
        report = store.import_records(batch)
        assert event_ids(store) == ["e01", "e03"]
    assert [str(r) for r in report.rejected] == [
        "f.jsonl:2: invalid JSON: oops",
        "f.jsonl:3 e02: data.colour: unknown field",
        "f.jsonl:4 p: unknown contract 'nope' (data.contract_id): no contract.started for it",
    ]


def test_out_of_order_input_gives_identical_typed_tables(store_url: str) -> None:
    shuffled = WORLD[:]
    random.Random(7).shuffle(shuffled)
    halves = [records(shuffled[:13], "a.jsonl"), records(shuffled[13:], "b.jsonl")]
    with open_store("duckdb:///:memory:") as reference:
        reference.import_records(records(WORLD))
        expected = typed_tables(reference)
    with open_store(store_url) as store:  # two files in one batch, the later one first
        report = store.import_records(halves[1] + halves[0])
        assert report.rejected == [] and typed_tables(store) == expected


def test_progress_is_reported_over_records(store_url: str) -> None:
    seen: list[int] = []
    with open_store(store_url) as store:
        store.import_records(records(WORLD * 100), progress=seen.append)
    assert sum(seen) == len(WORLD) * 100 and max(seen) <= 1000


def test_nothing_valid_and_empty_batches(store_url: str) -> None:
    with open_store(store_url) as store:
        assert store.import_records([]).accepted == 0
        report = store.import_records([Record("x.csv", 1, error="bad")])
        assert (report.accepted, len(report.rejected), report.ok) == (0, 1, False)
        assert store.counts()["events"] == 0


def test_awkward_text_survives_the_bulk_paths(store_url: str) -> None:
    """COPY's CSV and Arrow must keep quotes, commas, newlines, backslashes, '' apart from NULL."""
    names = ['a "quoted", name', "two\nlines\r\n", "back\\slash \\N", "", "émoji 🎉", None]
    batch = [ev(f"n{i}", "freelancer.joined", freelancer_id=f'f,{i}"', name=name) for i, name in enumerate(names)]
    with open_store(store_url) as store:
        assert store.import_records(records(batch)).accepted == len(names)
        stored = {row[0]: row[3] for row in typed_tables(store)["freelancers"]}
    assert stored == {f'f,{i}"': name for i, name in enumerate(names)}
