"""Staging of the fast import: event files into one DuckDB table, checked, before the transaction.

One SQL statement per Parquet file or JSON Lines chunk. JSON Lines are split into lines with numpy
(line numbers and blank lines exactly as `read_records`: only `\\n` ends a line; lines that may not be
UTF-8 or do not start with `{` are read by Python) and handed to DuckDB as zero-copy Arrow strings;
Parquet is read by `read_parquet` after a schema check (envelope columns as strings; empty cells are
absent, as for the reader). Each row gets its position `pos` among all records of the batch (as
`enumerate` in `import_records`) and lands in one staging table with `ok` and, when ok, its UTC
instant, its canonical `data` JSON (as pydantic writes it) and its entity keys; typed values are read
back from the canonical JSON when writing. `ok` is a *sufficient* condition for `validate()` to
accept the event with exactly those values. Two lanes: the template lane (templates.py) for the
exact shapes the simulator writes, the general lane (checks.py) for the rest.

Anything else — a bad line, a wrong type, an unknown field, a float amount, an escaped string, a
gzip or CSV file — is a *slow* record: read by the reader's own code (`jsonl_record`, `row_record`)
and validated by `validate()`, so its reason is today's. A chunk DuckDB cannot read is slow whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from toprated.errors import UserError
from toprated.events import Record, file_format, read_records
from toprated.events.readers import jsonl_record, row_record
from toprated.store.fast.checks import _checked_sql, _jsonl_env, _parquet_env
from toprated.store.fast.spec import _ENVELOPE, _KEY_FIELDS, _TIME_RE, _lit, _paths, _q
from toprated.store.fast.templates import _matches, _template_select

#: JSON Lines are staged this many bytes at a time (whole lines).
CHUNK_BYTES = 128 << 20
#: Parquet files are staged this many rows at a time: the rows of one statement are held whole
#: (`src AS MATERIALIZED`), and past some 10 million they cost more each (61 million in one
#: statement: 75.8 s; in six: 60.2 s, 2026-11-28).
PARQUET_SLICE_ROWS = 8_000_000
_PFX = "_toprated_fast"
_STAGE = f"{_PFX}_stage"


def _jsonl_sql(chunk: str) -> str:
    """Stage every candidate line of `chunk` (pos, line, cand, j): template lane, else general lane."""
    # A template line is `{"id":…,"type":…,"time":…[,"source":…][,"specversion":…],"data":{…}}` whose strings
    # hold no quote: its type lies between the first `","type":"` and `","time":"`. Once matched, DuckDB's
    # JSON reader takes it apart (the data object written back compact is the same text).
    p_type, p_time = (f"strpos(j, {_lit(sep)})" for sep in ('","type":"', '","time":"'))
    type_ = f"substr(j, {p_type} + 10, {p_time} - {p_type} - 10)"
    src = f"SELECT pos, line, j, {_matches(type_, 'j', lines=True)} AS m FROM {chunk} WHERE cand"
    fields = (
        "SELECT pos, line, x[1] AS id, x[2] AS type, x[3] AS time, x[4] AS source, x[5] AS specversion, x[6] AS d "
        f"FROM (SELECT pos, line, json_extract_string(j, {_paths('$.', _ENVELOPE)}) AS x FROM src WHERE m)"
    )
    return (
        f"INSERT INTO {_STAGE} WITH src AS MATERIALIZED ({src}) {_template_select(fields)} "
        f"UNION ALL {_checked_sql(_jsonl_env('SELECT pos, line, j FROM src WHERE NOT m'))}"
    )


def _parquet_sql(path: str, first: int, columns: set[str], rows_from: int, rows_to: int) -> str:
    """Stage the rows [rows_from, rows_to) of a Parquet file: template lane, else general lane
    (empty cells are absent)."""

    def col(name: str) -> str:
        return f"NULLIF({_q(name)}, '')" if name in columns else "NULL::VARCHAR"

    envelope = (
        f"regexp_matches(id, '[0-9A-Za-z]') AND NOT contains(id, chr(0)) AND regexp_full_match(time, {_lit(_TIME_RE)})"
        " AND NOT contains(coalesce(source, ''), chr(0)) AND NOT contains(coalesce(specversion, ''), chr(0))"
    )
    within = f" WHERE file_row_number >= {rows_from} AND file_row_number < {rows_to}"
    rows = (
        f"SELECT file_row_number + {first} AS pos, file_row_number + 1 AS line, {col('id')} AS id, "
        f"{col('type')} AS type, {col('time')} AS time, {col('source')} AS source, "
        f"{col('specversion')} AS specversion, data FROM read_parquet({_lit(path)}, file_row_number = true){within}"
    )
    src = f"SELECT *, coalesce({envelope}, false) AND {_matches('type', 'data')} AS m FROM ({rows})"
    template = "SELECT pos, line, id, type, time, source, specversion, data AS d FROM src WHERE m"
    general = "SELECT pos, line, id, type, time, source, specversion, data FROM src WHERE NOT m"
    return (
        f"INSERT INTO {_STAGE} WITH src AS MATERIALIZED ({src}) {_template_select(template)} "
        f"UNION ALL {_checked_sql(_parquet_env(general))}"
    )


# --- staging ---------------------------------------------------------------------------------------


@dataclass
class _Staged:
    """What staging found: file names by first position, the slow records, the number of records."""

    files: list[str] = field(default_factory=list)
    firsts: list[int] = field(default_factory=list)
    slow: list[tuple[int, Record]] = field(default_factory=list)
    records: int = 0

    def file_of(self, pos: int) -> str:
        return self.files[int(np.searchsorted(self.firsts, pos, side="right")) - 1]


class _Stager:
    def __init__(self, duck: Any, progress: Callable[[int], None] | None) -> None:
        self.duck = duck
        self.progress = progress
        self.out = _Staged()
        keys = ", ".join(f"{_q(n)} VARCHAR" for n in _KEY_FIELDS)
        duck.execute(
            f"CREATE TEMP TABLE {_STAGE} (pos BIGINT, line BIGINT, ok BOOLEAN, id VARCHAR, type VARCHAR, "
            f"ts TIMESTAMP, source VARCHAR, specversion VARCHAR, data VARCHAR, {keys})"
        )

    def _advance(self, n: int) -> None:
        if self.progress is not None and n:
            self.progress(n)

    def add(self, path: Path) -> None:
        fmt = file_format(path)
        if not path.is_file():
            raise UserError(f"{path}: no such file")  # as read_records says it
        name = str(path)
        self.out.files.append(name)
        self.out.firsts.append(self.out.records)
        if fmt == "jsonl" and path.suffix.lower() != ".gz":
            self._jsonl(path, name)
        elif fmt == "parquet" and (columns := _parquet_columns(path)) is not None:
            self._parquet(path, name, columns)
        else:
            self._records(read_records(path))

    def _records(self, records: Iterator[Record], reported: int = 0) -> None:
        """Every record read and validated by Python (the first `reported` already counted as progress)."""
        pending = -reported
        for record in records:
            self.out.slow.append((self.out.records, record))
            self.out.records += 1
            pending += 1
            if pending == 10_000:
                self._advance(pending)
                pending = 0
        self._advance(max(pending, 0))

    def _not_ok(self, lo: int, hi: int) -> list[tuple[int, int]]:
        sql = f"SELECT pos, line FROM {_STAGE} WHERE NOT ok AND pos BETWEEN {lo} AND {hi} ORDER BY pos"
        return self.duck.execute(sql).fetchall()

    def _parquet(self, path: Path, name: str, columns: set[str]) -> None:
        first = self.out.records
        rows = pq.ParquetFile(path).metadata.num_rows
        staged = 0
        try:
            for lo in range(0, rows, PARQUET_SLICE_ROWS):
                hi = min(lo + PARQUET_SLICE_ROWS, rows)
                self.duck.execute(_parquet_sql(str(path), first, columns, lo, hi))
                self._advance(hi - lo)
                staged = hi
        except duckdb.Error:  # e.g. text that is not UTF-8: the reader and validate() will say
            self.duck.execute(f"DELETE FROM {_STAGE} WHERE pos >= {first}")
            self._records(read_records(path), reported=staged)
            return
        slow = self._not_ok(first, first + rows - 1)
        if slow:
            pf = pq.ParquetFile(path)
            bounds = np.cumsum([0] + [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)])
            wanted = np.array([line - 1 for _, line in slow], dtype=np.int64)
            groups = np.searchsorted(bounds, wanted, side="right") - 1
            taken: list[dict[str, Any]] = []
            for g in np.unique(groups):
                local = wanted[groups == g] - bounds[g]
                taken += pf.read_row_group(int(g)).take(pa.array(local)).to_pylist()
            for (pos, line), row in zip(slow, taken, strict=True):
                self.out.slow.append((pos, row_record(name, line, row)))
        self.out.records += rows

    def _jsonl(self, path: Path, name: str) -> None:
        """Stage a JSON Lines file chunk by chunk; the next chunk is read and split while DuckDB works."""
        blocks = _blocks(path)
        with ThreadPoolExecutor(1) as pool:
            ahead = pool.submit(_Lines.next, blocks, name, 0, self.out.records)
            while (lines := ahead.result()) is not None:
                ahead = pool.submit(_Lines.next, blocks, name, lines.line_base + lines.n, lines.first_pos + lines.count)
                self._stage_lines(lines)

    def _stage_lines(self, lines: _Lines) -> None:
        view = f"{_PFX}_chunk"
        self.duck.register(view, lines.table)
        try:
            self.duck.execute(_jsonl_sql(view))
            slow = self._not_ok(lines.first_pos, lines.first_pos + lines.n)
        except duckdb.Error:  # unreadable for DuckDB as a whole: every line through Python
            self.duck.execute(f"DELETE FROM {_STAGE} WHERE pos >= {lines.first_pos}")
            slow = [(int(lines.pos[i]), lines.line_base + int(i) + 1) for i in np.flatnonzero(lines.cand)]
        finally:
            self.duck.unregister(view)
        for pos, number in slow:
            record = jsonl_record(lines.name, number, lines.text_of(number - lines.line_base - 1))
            assert record is not None
            self.out.slow.append((pos, record))
        for i, record in lines.by_python.items():
            self.out.slow.append((int(lines.pos[i]), record))
        self.out.records += lines.count
        self._advance(lines.count)


def _blocks(path: Path) -> Iterator[tuple[memoryview, bool]]:
    """The file in blocks of whole lines (about CHUNK_BYTES each), and whether a block is the last."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        while fh.tell() < size:
            block = fh.read(CHUNK_BYTES)
            while (cut := block.rfind(b"\n") + 1) == 0 and (more := fh.read(CHUNK_BYTES)):
                block += more  # a line longer than a chunk
            final = fh.tell() >= size
            if final:
                cut = len(block)  # the last line may have no newline
            else:
                fh.seek(cut - len(block), 1)  # the partial line is read again with the next block
            yield memoryview(block)[:cut], final


@dataclass
class _Lines:
    """A block of JSON lines split for DuckDB: the candidate lines as Arrow, the others read by Python."""

    name: str
    buf: memoryview
    line_base: int  # number of the line before the block's first
    first_pos: int  # position of the block's first record
    n: int  # lines
    count: int  # records (lines that are not blank)
    starts: np.ndarray
    ends: np.ndarray
    cand: np.ndarray  # lines DuckDB reads
    pos: np.ndarray  # position of each line's record
    by_python: dict[int, Record]  # line index -> record of the lines Python reads
    table: pa.Table

    def text_of(self, i: int) -> bytes:
        """Line `i` of the block with its newline, as `read_records` reads it."""
        return bytes(self.buf[self.starts[i] : self.ends[i] + 1])

    @classmethod
    def next(
        cls, blocks: Iterator[tuple[memoryview, bool]], name: str, line_base: int, first_pos: int
    ) -> _Lines | None:
        block = next(blocks, None)
        return None if block is None else cls.split(name, *block, line_base, first_pos)

    @classmethod
    def split(cls, name: str, buf: memoryview, final: bool, line_base: int, first_pos: int) -> _Lines:
        arr = np.frombuffer(buf, np.uint8)
        high = bool(len(arr)) and int(arr.max()) >= 0x80  # some bytes are not ASCII
        ends = np.flatnonzero(arr == 10)
        if final and (len(ends) == 0 or ends[-1] != len(buf) - 1):
            ends = np.append(ends, len(buf))
        n = len(ends)
        starts = np.empty(n, np.int64)
        starts[:1] = 0
        starts[1:] = ends[:-1] + 1
        lengths = ends - starts
        first = np.zeros(n, np.uint8)
        nonempty = lengths > 0
        first[nonempty] = arr[starts[nonempty]]
        cand = first == ord("{")
        record = cand.copy()
        lines = cls(name, buf, line_base, first_pos, n, 0, starts, ends, cand, np.empty(0), {}, pa.table({}))
        if high:  # lines that may not be UTF-8 are read by Python
            for i in np.unique(np.searchsorted(starts, np.flatnonzero(arr >= 0x80), side="right") - 1):
                if cand[i]:
                    try:
                        lines.text_of(i).decode()
                    except UnicodeDecodeError:
                        cand[i] = False
        for i in np.flatnonzero(nonempty & ~cand):
            rec = jsonl_record(name, line_base + int(i) + 1, lines.text_of(i))
            if rec is not None:
                record[i] = True
                lines.by_python[int(i)] = rec
        text: Any = buf
        if high and not cand.all():  # keep Arrow's text valid: blank what Python reads
            copy = bytearray(buf)
            for i in np.flatnonzero(~cand):
                copy[starts[i] : ends[i]] = b" " * int(lengths[i])
            text = bytes(copy)
        lines.pos = first_pos + np.cumsum(record) - 1
        lines.count = int(record.sum())
        offsets = np.append(starts, len(buf)).astype(np.int32)
        strings = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text)])
        numbers = np.arange(line_base + 1, line_base + n + 1)
        lines.table = pa.table({"pos": lines.pos, "line": numbers, "cand": cand, "j": strings})
        return lines


def _parquet_columns(path: Path) -> set[str] | None:
    """The envelope columns of a Parquet file when all are plain strings, else None (read row by row)."""
    try:
        names = pq.read_schema(path)
    except Exception:
        return None
    if len(set(names.names)) != len(names.names):
        return None
    columns = {n for n in names.names if n in _ENVELOPE}
    if not {"id", "type", "time", "data"} <= columns:
        return None
    if any(names.field(n).type not in (pa.string(), pa.large_string()) for n in columns):
        return None
    return columns


def _stage(duck: Any, paths: Sequence[str | Path], progress: Callable[[int], None] | None) -> _Staged:
    stager = _Stager(duck, progress)
    for path in paths:
        stager.add(Path(path))
    stager.out.slow.sort(key=lambda pair: pair[0])
    return stager.out
