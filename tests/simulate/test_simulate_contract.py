"""Every simulated event honours events.md, and the file is in time order."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from simulate_checks import AS_OF, CONTRACT, contract_problems, parse_time

from toprated.simulate import SimulationSettings, generate
from toprated.simulate.chunk import EVENT_TYPES

Events = list[dict[str, Any]]


def test_every_event_passes_the_contract(small_run: tuple[Path, Events]) -> None:
    _, events = small_run
    problems = contract_problems(events)
    assert problems == [], problems[:20]


def test_every_type_of_events_md_is_emitted(small_run: tuple[Path, Events]) -> None:
    _, events = small_run
    assert set(EVENT_TYPES) == set(CONTRACT)
    assert {ev["type"] for ev in events} == set(CONTRACT)


def test_jsonl_is_globally_sorted_across_chunks_with_increasing_ids(small_run: tuple[Path, Events]) -> None:
    _, events = small_run
    times = [parse_time(ev["time"]) for ev in events]
    assert all(a <= b for a, b in itertools.pairwise(times))
    assert [ev["id"] for ev in events] == sorted(ev["id"] for ev in events)
    assert events[0]["id"] == "e000000000001"


def test_history_ends_at_as_of_and_spans_two_years(small_run: tuple[Path, Events]) -> None:
    _, events = small_run
    days = [parse_time(ev["time"]).date() for ev in events]
    assert max(days) <= AS_OF
    assert (AS_OF - min(days)).days <= 730
    assert (AS_OF - min(days)).days >= 700


def test_times_mix_iso_forms_all_utc(small_run: tuple[Path, Events]) -> None:
    _, events = small_run
    forms = {
        ("Z" if t.endswith("Z") else "+00:00" if t.endswith("+00:00") else "date" if len(t) == 10 else t)
        for t in (ev["time"] for ev in events)
    }
    assert forms == {"Z", "+00:00", "date"}


def test_envelope_fields(small_run: tuple[Path, Events]) -> None:
    _, events = small_run
    ev = events[0]
    assert set(ev) == {"id", "type", "time", "source", "specversion", "data"}
    assert ev["source"] == "marketplace" and ev["specversion"] == "1.0"


def test_checker_catches_broken_events(small_run: tuple[Path, Events]) -> None:
    """The checker is not vacuous: each kind of damage is reported."""
    _, events = small_run
    sample = copy.deepcopy(events[:20000])
    first_payment = next(i for i, ev in enumerate(sample) if ev["type"] == "payment.made")
    started = next(ev for ev in sample if ev["type"] == "contract.started")
    broken = [
        {**sample[0], "id": sample[1]["id"]},
        {**sample[first_payment], "data": {**sample[first_payment]["data"], "amount": "10.5"}},
        {**sample[first_payment], "id": "x1", "data": {"contract_id": "nope", "amount": "1.00"}},
        {**started, "id": "x2", "time": "2000-01-01T00:00:00Z"},
        {**sample[0], "id": "x3", "type": "freelancer.fired"},
        {**started, "id": "x4", "data": {**started["data"], "colour": "red"}},
    ]
    problems = contract_problems(sample[2:] + broken)
    text = "\n".join(problems)
    for needle in (
        "duplicate id",
        "bad money",
        "contract_id nope",
        "defined twice",
        "freelancer.fired",
        "unknown field colour",
    ):
        assert needle in text, needle


def test_parquet_has_the_envelope_columns_and_same_events_as_jsonl(tmp_path: Path) -> None:
    settings = SimulationSettings(chunk_size=500, workers=1)
    generate(400, 5, tmp_path, as_of=AS_OF, fmt="parquet", settings=settings)
    generate(400, 5, tmp_path, as_of=AS_OF, fmt="jsonl", settings=settings)
    table = pq.read_table(tmp_path / "events.parquet")
    assert table.column_names == ["id", "type", "time", "source", "specversion", "data"]
    rows = table.to_pylist()
    for row in rows:
        row["data"] = json.loads(row["data"])
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert rows == lines  # one chunk: both are fully sorted, so even the ids agree
    assert contract_problems(rows) == []
