"""Benchmark of the weekly run at marketplace scale (issue: a million freelancers).

    python bench/weekly.py --freelancers 1000000        # the default size
    python bench/weekly.py --freelancers 100000 --engines duckdb,postgres,spark

From one run on the same files it prints: the import rate, the floor (DuckDB scanning and grouping
the payment and contract columns a run needs), a 16-week backfill, the weekly run (with the 15
earlier weeks stored), one entity's live `explain` (median of 20), the peak memory, then the
weekly run again and that explanation as an operator runs them (`toprated run-week`, `toprated
explain`: each a process of its own, finding the SQL compiled on disk), and last
`ratio weekly/floor: X`. Figures are wall-clock seconds on this machine; quote ratios, since the
machines are shared and noisy. Generated data and stores are kept in --workdir and reused.

It runs under jemalloc where installed, as the `toprated` command does (`toprated.launch`);
`--allocator system` keeps glibc's malloc, to compare.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from toprated.runs.service import WeekReport


def use_allocator(name: str) -> str:
    """Run this script again under jemalloc when it is chosen and installed (an allocator is chosen
    when a process starts, see `toprated.launch`); the allocator this process runs with."""
    from toprated.launch import ALLOCATOR, allocator_in_use, run_again_if_chosen

    run_again_if_chosen({**os.environ, ALLOCATOR: name})
    return allocator_in_use()


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    dt = time.perf_counter() - t
    print(f"{label}: {dt:.2f} s", flush=True)
    return out, dt


def import_events(db: str, events: str, memory: str | None) -> tuple[int, float, float]:
    if memory:
        os.environ["TOPRATED_IMPORT_MEMORY"] = memory
    from toprated.store import open_store
    from toprated.store.commands import load_events_into
    from toprated.store.fast import LAST_STATS

    t = time.perf_counter()
    with open_store(db) as store:
        report = load_events_into(store, [events], Console(quiet=True))
    return report.accepted, time.perf_counter() - t, LAST_STATS.get("lookup_ms", 0) / 1000


def floor(db: Path) -> float:
    """DuckDB scanning and grouping the columns a weekly run needs: its lower bound."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    t = time.perf_counter()
    con.sql(
        "SELECT contract_id, sum(CASE WHEN refund THEN -amount ELSE amount END), count(*), min(day), max(day)"
        " FROM payments GROUP BY contract_id"
    ).to_arrow_table()
    con.sql(
        "SELECT freelancer_id, count(*), min(day), count(DISTINCT client_id) FROM contracts GROUP BY freelancer_id"
    ).to_arrow_table()
    dt = time.perf_counter() - t
    con.close()
    return dt


def as_commands(db: Path, week: date, entity: str) -> None:
    """The weekly run and one explanation as an operator runs them: each `toprated` command a process
    of its own, which finds the SQL compiled (and the explanation's steps recorded) by the runs above
    in the cache directory (`toprated.metrics.sqlcache`). Wall time, Python's start included."""
    command = Path(sys.executable).with_name("toprated")
    if not command.exists():
        command = Path(shutil.which("toprated") or "toprated")
    for label, args in (
        ("weekly run again", ["run-week", "--week", week.isoformat()]),
        (f"explain {entity}", ["explain", entity, "--as-of", week.isoformat(), "--format", "json"]),
    ):
        t = time.perf_counter()
        subprocess.run([str(command), *args, "--db", str(db)], check=True, capture_output=True)
        print(f"`toprated {args[0]}`, a process of its own ({label}): {time.perf_counter() - t:.2f} s", flush=True)


def print_weeks(reports: list[WeekReport], total: float) -> None:
    """The first week of a backfill (its 15 earlier weekly points too), the range of the others, and
    the rest of `total`: the feedback-removal requests of all its weeks, decided once before them."""
    if reports:
        later = [r.seconds for r in reports[1:]]
        each = f"; later weeks {min(later):.1f}–{max(later):.1f} s each" if later else ""
        print(f"  first week {reports[0].seconds:.1f} s (its 15 earlier weekly points too){each}", flush=True)
        rest = total - sum(r.seconds for r in reports)
        print(f"  before the first week, every request up to the last decided once: {rest:.1f} s", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--freelancers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--week", type=date.fromisoformat, default=date(2026, 11, 23), help="the weekly run's Monday")
    ap.add_argument("--workdir", type=Path, default=Path("bench-data"))
    ap.add_argument("--engines", default="duckdb", help="comma-separated: duckdb,postgres,spark")
    ap.add_argument("--pg", default="postgresql://root@127.0.0.1:5432/test", help="PostgreSQL for --engines postgres")
    ap.add_argument(
        "--import-memory",
        default=None,
        help="DuckDB's memory limit while importing (TOPRATED_IMPORT_MEMORY; default: the command's, 60%% of memory)",
    )
    ap.add_argument(
        "--allocator",
        choices=["jemalloc", "system"],
        default=os.environ.get("TOPRATED_ALLOCATOR", "jemalloc"),
        help="the memory allocator; the default is the toprated command's: jemalloc where installed",
    )
    args = ap.parse_args()
    allocator = use_allocator(args.allocator)

    from toprated.evaluation.service import evaluate_store
    from toprated.programme import load_programme
    from toprated.runs.service import backfill, run_week
    from toprated.simulate import generate
    from toprated.store import open_store
    from toprated.store.commands import load_events_into

    p = load_programme()
    week = args.week
    n = args.freelancers
    work = args.workdir / f"{n}-{args.seed}"
    work.mkdir(parents=True, exist_ok=True)
    # compiled SQL kept on disk (toprated.metrics.sqlcache): the bench's own, for the commands below
    os.environ.setdefault("TOPRATED_CACHE_DIR", str(work / "cache"))
    events = work / "events.parquet"
    print(f"machine: {os.cpu_count()} cores; {n:,} freelancers, seed {args.seed}, week {week}", flush=True)
    print(f"allocator: {allocator}", flush=True)
    if not events.exists():
        summary, _ = timed("simulate", generate, n, args.seed, work, as_of=week, fmt="parquet")
        print(f"  {summary.events:,} events", flush=True)
    db = work / "store.duckdb"
    if not db.exists():
        # In a child process: an import has a memory limit of its own, above a run's cap
        # (store/fast/memory.py), and this process's peak memory is to show the runs'.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            accepted, dt, lookup = pool.apply(import_events, (str(db), str(events), args.import_memory))
        print(f"import into DuckDB: {dt:.2f} s (a child process)", flush=True)
        print(f"  {accepted:,} events, {accepted / dt:,.0f} events/s", flush=True)
        # built once the import has committed (store/lookups.py), included in the time above
        print(f"  of which building the lookup indexes: {lookup:.2f} s", flush=True)

    f = min(floor(db) for _ in range(3))
    print(f"floor (scan + group payments and contracts, best of 3): {f:.2f} s", flush=True)

    weekly = explained = None
    first_week, last_week = week - timedelta(weeks=16), week - timedelta(weeks=1)
    for engine in args.engines.split(","):
        print(f"--- engine {engine}", flush=True)
        if engine == "duckdb":
            store_url = str(db)
        elif engine == "postgres":
            store_url = args.pg
        else:
            store_url = None
        if engine == "spark":
            from toprated.evaluation.engines import parquet_duckdb, spark_backend
            from toprated.runs.weekstore import ParquetWeekStore
            from toprated.store.export import export_parquet

            pq_dir = work / "parquet"
            if not (pq_dir / "payments.parquet").exists():
                with open_store(str(db)) as store:
                    timed("export parquet", export_parquet, store.ibis(), pq_dir)
            con = spark_backend(pq_dir)
            ws = ParquetWeekStore(con, pq_dir)
            local = parquet_duckdb(pq_dir)
            label = "spark: 16-week backfill"
            reports, dt = timed(label, backfill, con, p, first_week, last_week, ws=ws, decide_on=local)
            print_weeks(reports, dt)
            timed("spark: weekly run", run_week, con, p, week, ws, local)
            continue
        with open_store(store_url) as store:
            if engine == "postgres" and store.counts().get("events", 0) == 0:
                timed("import into PostgreSQL", load_events_into, store, [events], Console(quiet=True))
            con = store.ibis()
            reports, dt = timed(f"{engine}: 16-week backfill", backfill, con, p, first_week, last_week)
            print_weeks(reports, dt)
            report, dt = timed(f"{engine}: weekly run", run_week, con, p, week)
            print(f"  {report.entities:,} entities, stored earlier weeks: {report.stored_points}", flush=True)
            if engine == "duckdb":
                weekly = dt
                snaps = con.table("snapshots")
                # the first Top Rated freelancer by id: the same entity from one run of the bench to the next
                held = snaps.filter(snaps.top_rated_held & (snaps.week == week) & (snaps.entity_kind == "freelancer"))
                held = held.select("entity_id").order_by("entity_id").limit(1)
                some = held.to_pyarrow().column("entity_id").to_pylist()
                entity = some[0] if some else con.table("freelancers").limit(1).to_pyarrow()["freelancer_id"][0].as_py()
                explained = entity
                times = []
                for _ in range(20):
                    t = time.perf_counter()
                    evaluate_store(con, p, week, entity_ids=[entity], contracts_of=entity)
                    times.append(time.perf_counter() - t)
                print(f"explain {entity} live, median of 20: {statistics.median(times) * 1000:.0f} ms", flush=True)
                # the first explanation of a day compiles every step; later ones reuse them (Scratch)
                print(f"  the first of them: {times[0] * 1000:.0f} ms", flush=True)
                mine = (snaps.week == week) & (snaps.entity_id != entity) & snaps.jss.notnull()
                picked = snaps.filter(mine).select("entity_id", "entity_kind").order_by("entity_id").limit(20)
                picked_rows = picked.to_pyarrow().to_pylist()
                others = [r["entity_id"] for r in picked_rows]
                times = []
                for other in others:
                    t = time.perf_counter()
                    evaluate_store(con, p, week, entity_ids=[other], contracts_of=other)
                    times.append(time.perf_counter() - t)
                if times:
                    median = statistics.median(times) * 1000
                    # agencies, first by id here: their facts include their members', and those that
                    # asked for feedback removals have their requests decided anew (not replayed)
                    agencies = sum(1 for r in picked_rows if r["entity_kind"] == "agency")
                    label = f"{len(times)} other entities with a JSS ({agencies} agencies), one each"
                    print(f"  {label}, median: {median:.0f} ms", flush=True)
    print(f"peak memory (this process, DuckDB included): {peak_rss_gib():.2f} GiB", flush=True)
    if weekly is not None and explained is not None:
        as_commands(db, week, explained)
    if weekly is not None:
        print(f"ratio weekly/floor: {weekly / f:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
