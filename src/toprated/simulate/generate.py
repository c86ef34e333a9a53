"""`generate()`: a two-year synthetic marketplace written as an event file, chunk by chunk.

Freelancers are simulated in chunks of `settings.chunk_size`; each chunk is self-contained (its
clients, agencies and contracts are its own), drawn from a random stream derived from (seed, chunk
index) and sorted by time, so the output depends only on the seed and the settings — not on the
number of worker threads.

Order of the file: JSON Lines output is globally sorted by time (when there is more than one chunk,
the sorted chunks are spilled to temporary Arrow files next to the output and merged week by week,
in bounded memory). Parquet output is sorted within each chunk only (one or more row groups per
chunk; rows of later chunks start again from the beginning of the history) unless
`settings.parquet_global_sort` is set: the event contract allows any order, and sorting 10⁸ events
globally would double the I/O. In both, event ids ("e" + 12 digits) follow file order, and `time`
is an ISO 8601 UTC string ("…Z", "…+00:00" or a bare date for some day-level updates).

Scale: about 60 events per freelancer; 1,000,000 freelancers (≈ 61 M events) take under a minute to
Parquet (≈ 0.9 GB) on 2 cores with < 1 GiB resident; JSON Lines is ≈ 11.5 GB and needs as much
again of temporary disk for the merge.
"""

from __future__ import annotations

import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from toprated.simulate.activity import emit_activity, emit_freelancer_incidents, emit_readiness
from toprated.simulate.agencies import build_agencies
from toprated.simulate.chunk import DAY, EVENT_TYPES, Chunk
from toprated.simulate.contracts import build_contracts
from toprated.simulate.outcomes import (
    emit_disputes_and_refunds,
    emit_feedback,
    emit_flagged_clients,
    emit_removal_requests,
)
from toprated.simulate.output import JsonlSink, ParquetSink, Sink, body, merge, spill
from toprated.simulate.population import draw_freelancers, emit_availability, emit_joined, emit_profiles
from toprated.simulate.settings import SimulationSettings

FORMATS = {"jsonl": "events.jsonl", "parquet": "events.parquet"}


@dataclass
class SimulationSummary:
    """What `generate` wrote."""

    counts: dict[str, int] = field(default_factory=dict)
    """Events per type (every type of events.md appears, possibly with 0)."""
    freelancers: int = 0
    active_freelancers: int = 0
    """Freelancers with at least one contract."""
    agencies: int = 0
    clients: int = 0
    contracts: int = 0
    paths: list[Path] = field(default_factory=list)
    as_of: date | None = None
    seconds: float = 0.0

    @property
    def events(self) -> int:
        """Total number of events written."""
        return sum(self.counts.values())

    def add(self, other: ChunkStats) -> None:
        """Fold the statistics of one chunk in."""
        for name, n in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + n
        self.freelancers += other.freelancers
        self.active_freelancers += other.active
        self.agencies += other.agencies
        self.clients += other.clients
        self.contracts += other.contracts


@dataclass
class ChunkStats:
    """Counts of one chunk."""

    counts: dict[str, int]
    freelancers: int
    active: int
    agencies: int
    clients: int
    contracts: int


@dataclass(frozen=True)
class ChunkSpec:
    """Everything a worker needs to simulate one chunk."""

    index: int
    first: int
    n: int
    start: int
    end: int
    seed: int
    settings: SimulationSettings
    fmt: str
    spill_to: Path | None = None


def simulate_chunk(spec: ChunkSpec) -> tuple[pa.Table | Path, ChunkStats]:
    """Simulate one chunk: its events sorted by time (or the spill file holding them) and its counts."""
    chunk = Chunk.create(spec.index, spec.first, spec.n, spec.start, spec.end, spec.seed, spec.settings)
    f = draw_freelancers(chunk)
    emit_joined(chunk, f)
    emit_profiles(chunk, f)
    emit_availability(chunk, f)
    emit_activity(chunk, f)
    emit_readiness(chunk, f)
    emit_freelancer_incidents(chunk, f)
    membership = build_agencies(chunk, f)
    contracts = build_contracts(chunk, f, membership)
    feedback_t = emit_feedback(chunk, contracts)
    emit_disputes_and_refunds(chunk, contracts)
    emit_removal_requests(chunk, f, contracts, feedback_t)
    clients = emit_flagged_clients(chunk, contracts)
    stats = ChunkStats(
        chunk.events.counts(),
        spec.n,
        int((f.n_contracts > 0).sum()),
        len(membership.owners),
        clients,
        len(contracts.owner),
    )
    table = body(chunk.events.table(), spec.fmt)
    if spec.spill_to is not None:
        return spill(table, spec.spill_to, merge_edges(spec.start, spec.end)), stats
    return table, stats


def _run(specs: list[ChunkSpec], workers: int) -> Iterator[tuple[pa.Table | Path, ChunkStats]]:
    """Results in chunk order; with several workers at most `workers + 1` chunks are in flight.

    Threads, not processes: numpy and Arrow release the GIL in their bulk kernels, so threads overlap
    well without spawning interpreters or copying tables between processes.
    """
    if workers <= 1 or len(specs) <= 1:
        for spec in specs:
            yield simulate_chunk(spec)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simulate") as pool:
        pending: deque[Future[tuple[pa.Table | Path, ChunkStats]]] = deque()
        todo = iter(specs)
        for spec in todo:
            pending.append(pool.submit(simulate_chunk, spec))
            if len(pending) > workers:
                break
        try:
            while pending:
                result = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.submit(simulate_chunk, nxt))
                yield result
        finally:
            for future in pending:
                future.cancel()


def merge_edges(start: int, end: int) -> np.ndarray:
    """Weekly interval edges covering [start, end] for the spill-and-merge pass."""
    return np.append(np.arange(start, end + 1, 7 * DAY, dtype=np.int64), end + 1)


def history_bounds(as_of: date, days: int) -> tuple[int, int]:
    """(first, last) instants of the history: the `days` UTC days ending with `as_of`, inclusive."""
    last_day = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    first = last_day - timedelta(days=days - 1)
    return int(first.timestamp()), int(last_day.timestamp()) + DAY - 1


def generate(
    freelancers: int,
    seed: int,
    out_dir: Path,
    *,
    as_of: date | None = None,
    fmt: str = "jsonl",
    progress: Callable[[int, int], None] | None = None,
    settings: SimulationSettings | None = None,
) -> SimulationSummary:
    """Write the events of a marketplace of `freelancers` freelancers over the history ending at `as_of`.

    `out_dir/events.jsonl` (fmt "jsonl") or `out_dir/events.parquet` (fmt "parquet", the envelope's
    columns with `data` as a JSON string). Deterministic for a given (freelancers, seed, as_of,
    settings). `as_of` defaults to today (UTC); events fill the whole `as_of` day. `progress(done,
    total)` is called as work advances (total is `freelancers`, doubled when a global merge pass
    follows). See the module docstring for the order of the file.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if freelancers < 1:
        raise ValueError("freelancers must be at least 1")
    settings = settings or SimulationSettings()
    as_of = as_of or datetime.now(UTC).date()
    started = datetime.now(UTC)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start, end = history_bounds(as_of, settings.history_days)
    size = settings.chunk_size
    n_chunks = -(-freelancers // size)
    merging = n_chunks > 1 and (fmt == "jsonl" or settings.parquet_global_sort)
    workers = max(1, min(settings.workers, os.cpu_count() or 1, n_chunks))
    spill_dir = out_dir / f".simulate-spill-{os.getpid()}"
    if merging:
        spill_dir.mkdir(exist_ok=True)
    specs = [
        ChunkSpec(
            i,
            i * size,
            min(size, freelancers - i * size),
            start,
            end,
            seed,
            settings,
            fmt,
            spill_dir / f"chunk-{i:06d}.arrow" if merging else None,
        )
        for i in range(n_chunks)
    ]
    total = freelancers * (2 if merging else 1)
    summary = SimulationSummary(counts=dict.fromkeys(EVENT_TYPES, 0), as_of=as_of)
    path = out_dir / FORMATS[fmt]
    sink: Sink = JsonlSink(path) if fmt == "jsonl" else ParquetSink(path)
    try:
        spilled: list[Path] = []
        for result, stats in _run(specs, workers):
            summary.add(stats)
            if isinstance(result, Path):  # spilled for the global merge
                spilled.append(result)
            else:
                sink.write(result)
            if progress:
                progress(summary.freelancers, total)
        if merging:
            buckets = len(merge_edges(start, end)) - 1
            for b, table in merge(spilled, buckets):
                sink.write(table)
                if progress:
                    progress(freelancers + freelancers * (b + 1) // buckets, total)
    except BaseException:
        sink.abort()
        raise
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)
    sink.close()
    if progress:
        progress(total, total)
    summary.paths = [path]
    summary.seconds = (datetime.now(UTC) - started).total_seconds()
    return summary
