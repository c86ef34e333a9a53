"""Writing events: JSON Lines or Parquet sinks, temporary spill files and the global time-sorted merge.

Event ids ("e" + 12 digits) are given by the writer in output order, so they increase with the file.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from toprated.simulate.render import constant, fixed_ids

SOURCE = "marketplace"
SPECVERSION = "1.0"
PARQUET_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("type", pa.string()),
        ("time", pa.string()),
        ("source", pa.string()),
        ("specversion", pa.string()),
        ("data", pa.string()),
    ]
)
#: Rows written at once (keeps Arrow's 32-bit string offsets far from overflowing).
WRITE_BATCH = 400_000


def body(events: pa.Table, fmt: str) -> pa.Table:
    """Keep the sort keys (t, code) and what the format needs: a JSON line tail, or the columns."""
    if fmt == "parquet":
        return events.select(["t", "code", "type", "time", "data"])
    rest = pc.binary_join_element_wise(
        '","type":"',
        events["type"],
        '","time":"',
        events["time"],
        f'","source":"{SOURCE}","specversion":"{SPECVERSION}","data":',
        events["data"],
        "}\n",
        "",
    )
    return pa.table({"t": events["t"], "code": events["code"], "rest": rest})


def event_ids(first: int, n: int) -> pa.Array:
    """Ids of the events numbered first, first + 1, …"""
    return fixed_ids("e", (np.arange(first, first + n, dtype=np.int64), 12))


class Sink:
    """Appends tables of events (already in output order) to one file, numbering them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(path.name + ".partial")
        self.written = 0

    def write(self, table: pa.Table) -> None:
        """Append every row of `table`, in order."""
        for start in range(0, table.num_rows, WRITE_BATCH):
            part = table.slice(start, WRITE_BATCH)
            self._write(part, event_ids(self.written + 1, part.num_rows))
            self.written += part.num_rows

    def _write(self, part: pa.Table, ids: pa.Array) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the file and move it into place."""
        self.tmp.replace(self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        self.tmp.unlink(missing_ok=True)


class JsonlSink(Sink):
    """JSON Lines: each row's tail was rendered by `body`; the id is prepended here."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.fh: IO[bytes] = open(self.tmp, "wb")  # noqa: SIM115 - closed in close()/abort()

    def _write(self, part: pa.Table, ids: pa.Array) -> None:
        rest = part["rest"].combine_chunks()
        lines = pc.binary_join_element_wise('{"id":"', ids, rest, "")
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
        self.fh.write(memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]])

    def close(self) -> None:
        self.fh.close()
        super().close()

    def abort(self) -> None:
        self.fh.close()
        super().abort()


class ParquetSink(Sink):
    """Parquet with the envelope's columns (`data` a JSON string), one row group per table written."""

    def __init__(self, path: Path, compression: str = "zstd") -> None:
        super().__init__(path)
        self.writer = pq.ParquetWriter(
            self.tmp,
            PARQUET_SCHEMA,
            compression=compression,
            use_dictionary=["type", "source", "specversion"],
            write_statistics=["id", "type", "time"],
        )

    def _write(self, part: pa.Table, ids: pa.Array) -> None:
        n = part.num_rows
        table = pa.table(
            [ids, part["type"], part["time"], constant(SOURCE, n), constant(SPECVERSION, n), part["data"]],
            schema=PARQUET_SCHEMA,
        )
        self.writer.write_table(table)

    def close(self) -> None:
        self.writer.close()
        super().close()

    def abort(self) -> None:
        self.writer.close()
        super().abort()


def spill(table: pa.Table, path: Path, edges: np.ndarray) -> Path:
    """Write a sorted chunk to an Arrow IPC file, one record batch per interval of `edges`."""
    table = table.combine_chunks()
    arrays = [col.chunk(0) if col.num_chunks else pa.array([], col.type) for col in table.columns]
    cuts = np.searchsorted(table.column("t").to_numpy(), edges, side="left")
    with pa.OSFile(str(path), "wb") as fh, pa.ipc.new_file(fh, table.schema) as writer:
        for lo, hi in itertools.pairwise(cuts):
            writer.write_batch(pa.record_batch([a.slice(lo, hi - lo) for a in arrays], schema=table.schema))
    return path


def merge(paths: list[Path], buckets: int) -> Iterator[tuple[int, pa.Table]]:
    """Globally time-sorted tables, one per interval, from chunk files written by `spill`.

    Reads one record batch of every file at a time (no memory map), so memory holds one interval of
    the whole marketplace. Ties (same instant, same type order) keep chunk order, then the chunk's own
    order. Yields (interval index, table).
    """
    with contextlib.ExitStack() as stack:
        readers = [pa.ipc.open_file(stack.enter_context(pa.OSFile(str(p), "rb"))) for p in paths]
        for b in range(buckets):
            bucket = pa.Table.from_batches([r.get_batch(b) for r in readers]).combine_chunks()
            if bucket.num_rows == 0:
                continue
            order = np.lexsort((bucket.column("code").to_numpy(), bucket.column("t").to_numpy()))
            yield b, bucket.take(pa.array(order))
