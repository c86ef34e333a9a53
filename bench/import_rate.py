"""Import throughput of event files: `python bench/import_rate.py --freelancers 100000 [--pg URL]`.

Simulates a marketplace (Parquet and JSON Lines, reused when already there), imports each file into
a fresh DuckDB file with `Store.import_files` (the column-wise path of `toprated import`) and prints
events, seconds and events per second; `--pg URL` does the same into a fresh PostgreSQL schema, and
`--exact` also times the per-event path (`import_records`) for comparison. Other processes on the
machine slow this down: the load average is printed with each figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

from toprated.events import read_records
from toprated.simulate import generate
from toprated.store import ImportReport, Store, open_store

AS_OF = date(2026, 11, 23)


def simulated(workdir: Path, freelancers: int, seed: int, fmt: str) -> Path:
    """The events file of the marketplace, generated once per (freelancers, seed, format)."""
    folder = workdir / f"market-{freelancers}-{seed}-{fmt}"
    path = folder / ("events.parquet" if fmt == "parquet" else "events.jsonl")
    if not path.exists():
        t0 = time.perf_counter()
        generate(freelancers, seed, folder, as_of=AS_OF, fmt=fmt)
        print(f"simulated {path} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def timed(store: Store, how: Callable[[Store], ImportReport]) -> tuple[ImportReport, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    report = how(store)
    return report, time.perf_counter() - t0, time.process_time() - c0


def line(label: str, report: ImportReport, seconds: float, cpu: float) -> None:
    n = report.accepted + report.duplicates + len(report.rejected)
    print(
        f"{label:<28} {n:>11,} events {seconds:8.1f} s (CPU {cpu:6.1f} s) {n / seconds:>10,.0f} events/s  "
        f"accepted={report.accepted:,} rejected={len(report.rejected):,}  load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def pg_schema(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema on the server at `url` (a libpq URL) and how to drop it."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--freelancers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="keep simulated files here (default: a temp dir)")
    parser.add_argument("--formats", default="parquet,jsonl")
    parser.add_argument("--pg", default=None, help="also import into PostgreSQL at this URL (a fresh schema)")
    parser.add_argument("--exact", action="store_true", help="also time the per-event path, for comparison")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="import-rate-")
    workdir = args.workdir or Path(tmp)
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cpus, python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}", flush=True)
    try:
        for fmt in args.formats.split(","):
            path = simulated(workdir, args.freelancers, args.seed, fmt)
            db = Path(tmp) / f"bench-{fmt}.duckdb"
            with open_store(str(db)) as store:
                line(f"{fmt} -> DuckDB", *timed(store, lambda s, p=path: s.import_files([p])))
                line(f"{fmt} -> DuckDB (re-import)", *timed(store, lambda s, p=path: s.import_files([p])))
            db.unlink()
            if args.exact:
                with open_store(str(db)) as store:
                    line(
                        f"{fmt} -> DuckDB (per event)",
                        *timed(store, lambda s, p=path: s.import_records(read_records(p))),
                    )
                db.unlink()
            if args.pg:
                url, drop = pg_schema(args.pg)
                try:
                    with open_store(url) as store:
                        line(f"{fmt} -> PostgreSQL", *timed(store, lambda s, p=path: s.import_files([p])))
                finally:
                    drop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
