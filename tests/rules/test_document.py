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


def cli(*args: str) -> dict:
    p = subprocess.run([TOPRATED, "evaluate", *args], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


def by_id(doc: dict) -> dict[str, dict]:
    return {e["id"]: e for e in doc["entities"]}


@pytest.fixture(scope="module")
def marketplace(tmp_path_factory):
    """A small marketplace written to JSON Lines in time order and shuffled, and the CLI's output
    on the time-ordered file."""
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
    doc = cli("--events", str(ordered), "--as-of", AS_OF.isoformat(), "--format", "json")
    return m, ordered, mixed, doc


def test_document_header(marketplace):
    _, _, _, doc = marketplace
    assert doc["as_of"] == AS_OF.isoformat()
    assert doc["programme"] == "upwork"


def test_entities_are_those_existing_on_the_as_of_day(marketplace):
    _, _, _, doc = marketplace
    entities = by_id(doc)
    assert set(entities) == {"f-tr", "f-rt", "a-tr", "a-tr-own", "a-tr-m"}
    assert entities["a-tr"]["kind"] == "agency"
    assert entities["f-tr"]["kind"] == "freelancer"


def test_badges_listed_exactly_when_held(marketplace):
    _, _, _, doc = marketplace
    for e in doc["entities"]:
        held = sorted(b for b, prog in e["programmes"].items() if prog["held"])
        assert sorted(e["badges"]) == held, e["id"]
        for prog in e["programmes"].values():
            if prog["held"]:
                assert prog["qualifies_on"] is None


def test_cli_results(marketplace):
    _, _, _, doc = marketplace
    entities = by_id(doc)
    assert entities["f-rt"]["badges"] == ["rising_talent"]
    assert entities["a-tr"]["badges"] == ["top_rated"]
    assert entities["a-tr-m"]["agency_badge"] == "top_rated"
    assert entities["a-tr-own"]["agency_badge"] == "rising_talent"
    assert entities["f-tr"]["jss"] == 100
    assert entities["f-tr"]["badges"] == ["top_rated"]


def test_out_of_order_file_gives_the_same_output(marketplace):
    _, _, mixed, doc = marketplace
    assert cli("--events", str(mixed), "--as-of", AS_OF.isoformat(), "--format", "json") == doc


def test_entity_filter_returns_only_those_entities(marketplace):
    _, ordered, _, doc = marketplace
    wanted = ["f-tr", "a-tr-m"]
    args = ["--events", str(ordered), "--as-of", AS_OF.isoformat(), "--format", "json"]
    for w in wanted:
        args += ["--entity", w]
    filtered = by_id(cli(*args))
    assert set(filtered) == set(wanted)
    full = by_id(doc)
    for w in wanted:
        assert filtered[w] == full[w]  # same facts, agency badge included


def test_entity_filter_in_process(marketplace):
    m, _, _, _ = marketplace
    try:
        out = m.evaluate(entities=["a-tr"])
        assert set(out) == {"a-tr"}
        assert out["a-tr"].held("top_rated")
    finally:
        m.close()


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


def test_same_id_same_content_is_ignored(market):
    m = market
    m.freelancer("f1", joined=ago(10))
    m._open()
    report = m._store.import_records(m.records(m.events[:1]))
    assert report.ok
    assert report.duplicates == 1
