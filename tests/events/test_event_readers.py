"""Readers of spec/events.md's file formats: JSON Lines (and .gz), Parquet, CSV; bad lines don't stop them."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from toprated.errors import UserError
from toprated.events import Record, count_records, file_format, read_records, validate

EVENTS: list[dict[str, Any]] = [
    {
        "id": "e1",
        "type": "freelancer.joined",
        "time": "2026-01-01",
        "source": "m",
        "specversion": "1.0",
        "data": {"freelancer_id": "f1"},
    },
    {
        "id": "e2",
        "type": "contract.started",
        "time": "2026-01-02T10:00:00+02:00",
        "data": {"contract_id": "c1", "freelancer_id": "f1", "client_id": "k1", "kind": "fixed", "category": "legal"},
    },
    {"id": "e3", "type": "payment.made", "time": "2026-01-03", "data": {"contract_id": "c1", "amount": "99.99"}},
]


def write_jsonl(path: Path, lines: list[str]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as fh:  # type: ignore[operator]
        fh.write("\n".join(lines) + "\n")
    return path


def good(records: list[Record]) -> list[str]:
    return [validate(r.raw).id for r in records if r.raw is not None]  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["events.jsonl", "events.json", "events.jsonl.gz", "events.ndjson"])
def test_json_lines(tmp_path: Path, name: str) -> None:
    path = write_jsonl(tmp_path / name, [json.dumps(e) for e in EVENTS])
    records = list(read_records(path))
    assert [(r.file, r.line, r.error) for r in records] == [(str(path), n, None) for n in (1, 2, 3)]
    assert [r.raw for r in records] == EVENTS


def test_a_bad_line_in_the_middle_keeps_the_others(tmp_path: Path) -> None:
    lines = [json.dumps(EVENTS[0]), "{not json", "", "[1, 2]", json.dumps(EVENTS[1]), json.dumps(EVENTS[2])]
    path = write_jsonl(tmp_path / "events.jsonl.gz", lines)
    records = list(read_records(path))
    assert good(records) == ["e1", "e2", "e3"]
    assert [r.line for r in records] == [1, 2, 4, 5, 6]  # the blank line 3 is skipped, numbering goes on
    assert records[1].error is not None and records[1].error.startswith("invalid JSON")
    assert records[2].error == "not a JSON object (got list)"


def test_invalid_utf8_is_one_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(json.dumps(EVENTS[0]).encode() + b'\n{"id": "\xff"}\n' + json.dumps(EVENTS[1]).encode())
    records = list(read_records(path))
    assert good(records) == ["e1", "e2"] and records[1].line == 2 and records[1].error


def test_truncated_gzip_reports_and_stops(tmp_path: Path) -> None:
    full = write_jsonl(tmp_path / "full.jsonl.gz", [json.dumps(EVENTS[0])] * 2000)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(full.read_bytes()[:-30])
    records = list(read_records(cut))
    assert records[-1].error is not None and records[-1].error.startswith("unreadable from here on")
    assert all(r.raw == EVENTS[0] for r in records[:-1])


def table_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": e["id"],
            "type": e["type"],
            "time": e["time"],
            "source": e.get("source"),
            "specversion": e.get("specversion"),
            "data": json.dumps(e["data"]),
        }
        for e in EVENTS
    ]


def test_parquet(tmp_path: Path) -> None:
    rows = table_rows()
    rows.insert(1, {**rows[0], "id": "bad", "data": "{oops"})
    path = tmp_path / "events.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=2)
    records = list(read_records(path))
    assert good(records) == ["e1", "e2", "e3"]
    assert [r.line for r in records] == [1, 2, 3, 4]
    assert records[1].error is not None and records[1].error.startswith("data: invalid JSON")
    assert records[0].raw == EVENTS[0] and "source" not in records[2].raw  # type: ignore[operator]
    assert count_records(path) == 4


def test_parquet_with_typed_columns(tmp_path: Path) -> None:
    """A Parquet export may carry `time` as a timestamp and `data` as a struct."""
    path = tmp_path / "events.parquet"
    table = pa.table(
        {
            "id": ["e3"],
            "type": ["payment.made"],
            "time": pa.array([pa.scalar(1767398400, pa.timestamp("s", tz="UTC")).as_py()]),
            "data": pa.array([EVENTS[2]["data"]]),
        }
    )
    pq.write_table(table, path)
    (record,) = read_records(path)
    assert validate(record.raw).day.isoformat() == "2026-01-03"  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["events.csv", "events.csv.gz"])
def test_csv(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
        writer = csv.DictWriter(fh, ["id", "type", "time", "source", "specversion", "data"])
        writer.writeheader()
        rows = table_rows()
        writer.writerows([rows[0], {**rows[1], "data": "not json"}, rows[1], rows[2]])
    records = list(read_records(path))
    assert good(records) == ["e1", "e2", "e3"]
    assert [r.line for r in records] == [1, 2, 3, 4]  # data rows, the header is not counted
    assert records[1].error is not None and records[1].error.startswith("data: invalid JSON")
    assert records[0].raw == EVENTS[0] and "source" not in records[2].raw  # type: ignore[operator]


def test_csv_row_with_extra_cells(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        'id,type,time,data\ne1,freelancer.joined,2026-01-01,"{""freelancer_id"": ""f1""}",x\n'
        'e2,freelancer.joined,2026-01-01,"{""freelancer_id"": ""f2""}"\n'
    )
    records = list(read_records(path))
    assert records[0].error == "more cells than header columns" and good(records) == ["e2"]


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        read_records(tmp_path / "missing.jsonl")
    with pytest.raises(UserError, match="unknown file type"):
        read_records(tmp_path / "events.xml")
    assert file_format(Path("x.JSONL.GZ")) == "jsonl" and file_format(Path("x.pq")) == "parquet"
    with pytest.raises(UserError):
        file_format(Path("x.parquet.gz"))


def test_count_records(tmp_path: Path) -> None:
    assert count_records(write_jsonl(tmp_path / "a.jsonl", ["{}"] * 5)) == 5
    assert count_records(write_jsonl(tmp_path / "a.jsonl.gz", ["{}"] * 5)) is None
