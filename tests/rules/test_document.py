"""The output document end to end (spec/output.md, events.md, programme.md §10 "Event order"):
the CLI, arrival order, `--entity`, which entities are listed, entity-defining events.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import AS_OF, Market, ago, established, later, rising, top_agency

TOPRATED = str(Path(sys.executable).parent / "toprated")


def cli(*runs: list[str]) -> list[dict]:
    """`toprated evaluate` with each argument list, run side by side; their JSON documents."""
    procs = [
        subprocess.Popen([TOPRATED, "evaluate", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for args in runs
    ]
    docs = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr[-2000:]
        docs.append(json.loads(stdout))
    return docs


def by_id(doc: dict) -> dict[str, dict]:
    return {e["id"]: e for e in doc["entities"]}


@pytest.fixture(scope="module")
def marketplace(tmp_path_factory):
    """A small marketplace written to JSON Lines in time order and shuffled, and the CLI's output on
    the time-ordered file, on the shuffled one, and on the first with `--entity f-tr --entity a-tr-m`."""
    m = Market()
    established(m, "f-tr")
    rising(m, "f-rt", joined=ago(100))
    top_agency(m, "a-tr")
    m.freelancer("f-future", joined=later(1))  # joins after the as-of day
    m.agency("a-future", "f-tr", created=later(1))
    d = tmp_path_factory.mktemp("cli")
    ordered = m.write_jsonl(d / "ordered.jsonl", sorted(m.events, key=lambda e: (e["time"], e["id"])))
    shuffled = list(m.events)
    random.Random(7).shuffle(shuffled)
    mixed = m.write_jsonl(d / "shuffled.jsonl", shuffled)
    common = ["--as-of", AS_OF.isoformat(), "--format", "json"]
    docs = cli(
        ["--events", str(ordered), *common],
        ["--events", str(mixed), *common],
        ["--events", str(ordered), *common, "--entity", "f-tr", "--entity", "a-tr-m"],
    )
    yield m, docs
    m.close()


def test_document_header(marketplace):
    _, (doc, _, _) = marketplace
    assert doc["as_of"] == AS_OF.isoformat()
    assert doc["programme"] == "upwork"


def test_entities_are_those_existing_on_the_as_of_day(marketplace):
    _, (doc, _, _) = marketplace
    entities = by_id(doc)
    assert set(entities) == {"f-tr", "f-rt", "a-tr", "a-tr-own", "a-tr-m"}
    assert entities["a-tr"]["kind"] == "agency"
    assert entities["f-tr"]["kind"] == "freelancer"


def test_badges_listed_exactly_when_held(marketplace):
    _, (doc, _, _) = marketplace
    for e in doc["entities"]:
        held = sorted(b for b, prog in e["programmes"].items() if prog["held"])
        assert sorted(e["badges"]) == held, e["id"]
        for prog in e["programmes"].values():
            if prog["held"]:
                assert prog["qualifies_on"] is None


CRITERIA = {
    ("freelancer", "rising_talent"): [
        "no_jss", "readiness_test", "profile", "availability", "activity", "no_negative_outcome", "standing",
    ],
    ("freelancer", "top_rated"): [
        "jss", "first_contract_age", "eligible_weeks", "profile", "earnings_12m", "availability", "standing", "activity",
    ],
    ("freelancer", "top_rated_plus"): ["top_rated", "earnings_12m", "large_contract"],
    ("freelancer", "expert_vetted"): ["vetted"],
    ("agency", "rising_talent"): ["no_jss", "members", "agency_profile", "owner_profile", "member_profiles", "standing"],
    ("agency", "top_rated"): [
        "jss", "owner_jss", "members", "earnings_12m", "owner_profile", "member_profiles", "agency_profile",
        "standing", "first_contract_age", "eligible_weeks",
    ],
    ("agency", "top_rated_plus"): ["top_rated", "earnings_12m", "large_contract"],
}  # fmt: skip


def test_each_programme_lists_its_criteria(marketplace):
    # output.md's names; every condition of programme.md §2–§5 for that kind of entity
    _, (doc, _, _) = marketplace
    for e in doc["entities"]:
        progs = e["programmes"]
        assert {k for (kind, k) in CRITERIA if kind == e["kind"]} == set(progs), e["id"]
        for badge, prog in progs.items():
            assert sorted(c["name"] for c in prog["criteria"]) == sorted(CRITERIA[e["kind"], badge]), (e["id"], badge)
            assert all(isinstance(c["met"], bool) and isinstance(c["required"], str) for c in prog["criteria"])


def test_cli_results(marketplace):
    _, (doc, _, _) = marketplace
    entities = by_id(doc)
    assert entities["f-rt"]["badges"] == ["rising_talent"]
    assert entities["a-tr"]["badges"] == ["top_rated"]
    assert entities["a-tr-m"]["agency_badge"] == "top_rated"
    assert entities["a-tr-own"]["agency_badge"] == "rising_talent"
    assert entities["f-tr"]["jss"] == 100
    assert entities["f-tr"]["badges"] == ["top_rated"]


def test_out_of_order_file_gives_the_same_output(marketplace):
    _, (doc, shuffled, _) = marketplace
    assert shuffled == doc


def test_entity_filter_returns_only_those_entities(marketplace):
    _, (doc, _, only) = marketplace
    wanted = ["f-tr", "a-tr-m"]
    filtered = by_id(only)
    assert set(filtered) == set(wanted)
    full = by_id(doc)
    for w in wanted:
        assert filtered[w] == full[w]  # same facts, agency badge included


def test_entity_filter_in_process(marketplace):
    m, _ = marketplace
    out = m.evaluate(entities=["a-tr"])
    assert set(out) == {"a-tr"}
    assert out["a-tr"].held("top_rated")


def test_second_entity_defining_event_is_rejected_naming_the_first(market):
    m = market
    m.freelancer("f1", joined=ago(10))
    first = m.contract("c1", "f1", "k1", ago(5))
    m._open()
    second = m.contract("c1", "f1", "k2", ago(4))
    again = m.emit("freelancer.joined", ago(3), freelancer_id="f1")
    report = m._store.import_records(m.records(m.events[m._imported :]))
    reasons = {r.event_id: r.reason for r in report.rejected}
    assert set(reasons) == {second, again}
    assert first in reasons[second]
    assert "e00001" in reasons[again]


def test_freelancer_and_agency_ids_share_one_namespace(market):
    m = market
    m.freelancer("x1", joined=ago(10))
    m._open()
    clash = m.emit("agency.created", ago(5), agency_id="x1", owner_id="x1")
    report = m._store.import_records(m.records(m.events[m._imported :]))
    assert [r.event_id for r in report.rejected] == [clash]


def test_same_id_same_content_is_ignored(market):
    m = market
    m.freelancer("f1", joined=ago(10))
    m._open()
    report = m._store.import_records(m.records(m.events[:1]))
    assert report.ok
    assert report.duplicates == 1
