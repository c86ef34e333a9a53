"""Readers for event files: JSON Lines (optionally gzipped), Parquet and CSV (spec/events.md).

Each reader yields one `Record` per line or row: the raw dict, or why it could not be parsed.
A bad line never stops the reading of the others ("Nothing valid is lost"); only a file that cannot
be opened at all raises `UserError`. Parquet and CSV have the envelope's columns, with `data` a JSON
string (a Parquet struct column is accepted too); empty or null cells mean "absent".
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from toprated.errors import UserError

__all__ = ["Record", "count_records", "file_format", "jsonl_record", "read_records", "row_record"]

_JSONL_SUFFIXES = {".jsonl", ".json", ".ndjson"}


@dataclass(frozen=True, slots=True)
class Record:
    """One line (JSON Lines) or row (Parquet, CSV; 1-based, header excluded) of an event file."""

    file: str
    line: int
    raw: dict[str, Any] | None = None
    error: str | None = None


def file_format(path: Path) -> str:
    """`jsonl`, `parquet` or `csv` from the file name (a trailing `.gz` is a gzip wrapper)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    last = suffixes[-1] if suffixes else ""
    if last in _JSONL_SUFFIXES:
        return "jsonl"
    if last in {".parquet", ".pq"} and path.suffix.lower() != ".gz":
        return "parquet"
    if last == ".csv":
        return "csv"
    raise UserError(f"{path}: unknown file type; use .jsonl/.json (optionally .gz), .parquet or .csv")


def read_records(path: str | Path) -> Iterator[Record]:
    """Yield every record of an event file; its format comes from the name (see `file_format`)."""
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    if fmt == "parquet":
        return _read_parquet(path)
    return _read_jsonl(path) if fmt == "jsonl" else _read_csv(path)


def count_records(path: str | Path) -> int | None:
    """The number of records when it is cheap to know (Parquet metadata, plain JSON Lines), else None."""
    path = Path(path)
    fmt = file_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if fmt == "jsonl" and path.suffix.lower() != ".gz":
        with path.open("rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return None


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb")


def _as_event_object(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    if isinstance(value, dict):
        return value, None
    return None, f"not a JSON object (got {type(value).__name__})"


def _read_jsonl(path: Path) -> Iterator[Record]:
    name = str(path)
    number = 0
    with _open_binary(path) as fh:
        lines = iter(fh)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except (OSError, EOFError, zlib.error) as exc:  # a truncated or corrupt gzip stream
                yield Record(name, number + 1, error=f"unreadable from here on: {exc}")
                return
            number += 1
            record = jsonl_record(name, number, line)
            if record is not None:
                yield record


def jsonl_record(name: str, number: int, line: bytes) -> Record | None:
    """The record of one line of a JSON Lines file (with its `\\n`), or None for a blank line."""
    if not line.strip():
        return None
    try:
        raw, error = _as_event_object(json.loads(line))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raw, error = None, f"invalid JSON: {exc}"
    return Record(name, number, raw, error)


def _row_to_raw(row: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """A Parquet/CSV row as an envelope dict: empty cells dropped, `data` parsed from JSON."""
    raw = {k: v for k, v in row.items() if k is not None and v is not None and v != ""}
    data = raw.get("data")
    if isinstance(data, str | bytes):
        try:
            raw["data"] = json.loads(data)
        except ValueError as exc:
            return None, f"data: invalid JSON: {exc}"
    return raw, None


def _read_parquet(path: Path) -> Iterator[Record]:
    import pyarrow.parquet as pq

    name = str(path)
    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=65536):
        for row in batch.to_pylist():
            number += 1
            yield row_record(name, number, row)


def row_record(name: str, number: int, row: dict[str, Any]) -> Record:
    """The record of one Parquet row (`to_pylist()` of its batch): empty cells dropped, `data` parsed."""
    raw, error = _row_to_raw(row)
    return Record(name, number, raw, error)


def _read_csv(path: Path) -> Iterator[Record]:
    name = str(path)
    # Undecodable bytes become lone surrogates, which `validate` rejects for that row only.
    with (
        _open_binary(path) as binary,
        io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="") as text,
    ):
        reader = csv.DictReader(text)
        number = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, OSError, EOFError, zlib.error) as exc:
                yield Record(name, number + 1, error=f"unreadable CSV from here on: {exc}")
                return
            number += 1
            if None in row:
                yield Record(name, number, error="more cells than header columns")
                continue
            raw, error = _row_to_raw(row)
            yield Record(name, number, raw, error)
